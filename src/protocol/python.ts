/**
 * Small reproductions of Python behaviours that leak into the reference's wire messages: `repr()`
 * and `str()` of JSON values, `type(x).__name__`, `f"{x:.1f}"`, `str.strip()` and Rust's `trim()`
 * (pydantic-core trims with it before parsing numbers).
 */

/** `type(value).__name__` of a value `json.loads` produced. */
export function pyTypeName(value: unknown, numberIsFloat?: boolean): string {
  if (value === null || value === undefined) return 'NoneType';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'number') return (numberIsFloat ?? !Number.isInteger(value)) ? 'float' : 'int';
  if (Array.isArray(value)) return 'list';
  return 'dict';
}

/** Characters `str.isprintable()` rejects (other than the ASCII space, which is printable). */
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

/** `repr(text)`: single quotes unless the text has `'` and no `"`; escapes as Python does. */
export function pyRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const char of text) {
    if (char === quote || char === '\\') out += `\\${char}`;
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (char !== ' ' && NON_PRINTABLE.test(char)) out += escapeCodePoint(char.codePointAt(0) ?? 0);
    else out += char;
  }
  return out + quote;
}

function escapeCodePoint(code: number): string {
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\U${code.toString(16).padStart(8, '0')}`;
}

/** `repr(float)`: shortest round-trip digits, scientific below 1e-4 and from 1e16. */
export function pyFloatRepr(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const [mantissa = '0', exponentText = '0'] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    const sign = exponent < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  const text = String(value);
  return text.includes('.') ? text : `${text}.0`;
}

/** `str(value)` of a JSON value, as Python prints what `json.loads` returned. */
export function pyStr(value: unknown): string {
  return typeof value === 'string' ? value : pyValueRepr(value);
}

function pyValueRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return pyRepr(value);
  if (typeof value === 'number') {
    return Number.isInteger(value) && Math.abs(value) < 1e21 ? String(value) : pyFloatRepr(value);
  }
  if (Array.isArray(value)) return `[${value.map(pyValueRepr).join(', ')}]`;
  const entries = Object.entries(value as Record<string, unknown>);
  return `{${entries.map(([key, item]) => `${pyRepr(key)}: ${pyValueRepr(item)}`).join(', ')}}`;
}

/** `f"{value:.{digits}f}"`: like `toFixed`, but exact ties round to even as Python does. */
export function pyFixed(value: number, digits: number): string {
  const magnitude = Math.abs(value);
  if (!Number.isFinite(magnitude)) return pyFloatRepr(value);
  // toFixed switches to exponent notation from 1e21; Python never does (such values are integers).
  let text =
    magnitude >= 1e21
      ? `${BigInt(magnitude)}${digits > 0 ? `.${'0'.repeat(digits)}` : ''}`
      : magnitude.toFixed(digits);
  if (magnitude < 1e21 && isExactTie(magnitude, digits)) {
    const scaled = BigInt(text.replace('.', ''));
    if (scaled % 2n === 1n) text = withDecimals((scaled - 1n).toString(), digits);
  }
  return value < 0 || Object.is(value, -0) ? `-${text}` : text;
}

function isExactTie(magnitude: number, digits: number): boolean {
  const exact = magnitude.toFixed(100);
  const rest = exact.slice(exact.indexOf('.') + 1 + digits);
  return rest[0] === '5' && /^0*$/.test(rest.slice(1));
}

function withDecimals(digitsText: string, decimals: number): string {
  if (decimals === 0) return digitsText;
  const padded = digitsText.padStart(decimals + 1, '0');
  return `${padded.slice(0, -decimals)}.${padded.slice(-decimals)}`;
}

/** Python's `str.strip()` whitespace (`str.isspace()`). */
const PY_SPACE =
  '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');

export function pyStrip(text: string): string {
  return text.replace(PY_STRIP, '');
}

/** Rust's `str::trim()` whitespace (the Unicode White_Space property). */
const RUST_SPACE = '\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const RUST_TRIM = new RegExp(`^[${RUST_SPACE}]+|[${RUST_SPACE}]+$`, 'g');

export function rustTrim(text: string): string {
  return text.replace(RUST_TRIM, '');
}
