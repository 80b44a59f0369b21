/** Small text helpers shared by the operator commands' human output. */
import { ValidationError } from '../util/errors.ts';
import type { CliIo } from './context.ts';

/** `310ms`, `1.2s`, `2m03s`, `1h05m`: short and still exact enough to compare steps. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes}m${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** `text` on one line, cut to `max` characters with an ellipsis. */
export function truncate(text: string, max: number): string {
  const line = text.replace(/\s*[\r\n\t]\s*/g, ' ');
  return line.length <= max ? line : `${line.slice(0, Math.max(0, max - 1))}…`;
}

/** Milliseconds between two ISO times, `to` defaulting to `now`; null without a start. */
export function elapsedMs(from: string | null, to: string | null, now: number): number | null {
  if (from === null) return null;
  return (to === null ? now : Date.parse(to)) - Date.parse(from);
}

export type Paint = (style: keyof typeof STYLES, text: string) => string;

const STYLES = {
  bold: '1',
  dim: '2',
  red: '31',
  green: '32',
  yellow: '33',
  blue: '34',
  magenta: '35',
  cyan: '36',
} as const;

/** ANSI styles on a terminal, unless `NO_COLOR` is set (https://no-color.org); plain text otherwise. */
export function painter(io: CliIo): Paint {
  const color = io.stdout.isTTY === true && (io.env.NO_COLOR ?? '') === '';
  return color ? (style, text) => `\u001b[${STYLES[style]}m${text}\u001b[0m` : (_style, text) => text;
}

/** `--json` output: the value as indented JSON (what the REST API answers, for scripts and `jq`). */
export function writeJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Parses a JSON command-line argument, naming the option when it is not JSON. */
export function parseJsonArgument(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ValidationError(`${what} is not valid JSON: ${(error as Error).message}`);
  }
}
