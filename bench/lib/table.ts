/** Tables for the terminal (aligned columns) and for Markdown, plus number formatting. */

export type Align = 'left' | 'right';

export interface Column<Row> {
  /** Header text. */
  title: string;
  /** The cell text for a row. */
  value: (row: Row) => string | number | null | undefined;
  /** Default: right for numbers, left otherwise (decided on the first non-empty cell). */
  align?: Align;
}

/**
 * `1234567.8` → `1,234,568`. `digits` decimals; by default integers get none and other numbers
 * 0 at ≥ 100, 1 at ≥ 10, else 2.
 */
export function formatNumber(n: number, digits?: number): string {
  if (!Number.isFinite(n)) return String(n);
  const d = digits ?? (Number.isInteger(n) || Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2);
  return n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

/** A ratio such as `1.23×` (two decimals). */
export function formatRatio(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}×` : '–';
}

/** Milliseconds: `0.42 ms`, `12.3 ms`, `1,234 ms`. */
export function formatMs(ms: number): string {
  return `${formatNumber(ms)} ms`;
}

/** Bytes in MiB: `123.4 MiB`. */
export function formatBytes(bytes: number): string {
  return `${formatNumber(bytes / 1024 ** 2, 1)} MiB`;
}

function cellText(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '–';
  return typeof v === 'number' ? formatNumber(v) : v;
}

interface Laid {
  headers: string[];
  cells: string[][];
  aligns: Align[];
}

function layout<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): Laid {
  const raw = rows.map((row) => columns.map((c) => c.value(row)));
  const aligns = columns.map((c, i): Align => {
    if (c.align) return c.align;
    const first = raw.map((r) => r[i]).find((v) => v !== null && v !== undefined);
    return typeof first === 'number' ? 'right' : 'left';
  });
  return { headers: columns.map((c) => c.title), cells: raw.map((r) => r.map(cellText)), aligns };
}

/** Display width (counts code points, so `×` and `–` count as one). */
function width(s: string): number {
  return [...s].length;
}

function pad(s: string, w: number, align: Align): string {
  const fill = ' '.repeat(Math.max(0, w - width(s)));
  return align === 'right' ? fill + s : s + fill;
}

/** A plain-text table with aligned columns, a header and a rule, for the terminal. */
export function formatTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string {
  const { headers, cells, aligns } = layout(columns, rows);
  const widths = headers.map((h, i) => Math.max(width(h), ...cells.map((r) => width(r[i] ?? ''))));
  const line = (r: readonly string[]): string =>
    r
      .map((s, i) => pad(s, widths[i] ?? 0, aligns[i] ?? 'left'))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(headers), rule, ...cells.map(line)].join('\n');
}

/** The same table in GitHub Markdown (alignment markers, `|` escaped). */
export function markdownTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string {
  const { headers, cells, aligns } = layout(columns, rows);
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const line = (r: readonly string[]): string => `| ${r.map(esc).join(' | ')} |`;
  const rule = `|${aligns.map((a) => (a === 'right' ? '---:' : '---')).join('|')}|`;
  return [line(headers), rule, ...cells.map(line)].join('\n');
}
