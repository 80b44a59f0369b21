/**
 * The reference answers an unreadable body with -32700 and Python's own error text in
 * `data.error`: `Invalid UTF-8 encoding: 'utf-8' codec can't decode byte 0xff in position 0:
 * invalid start byte`, or `Invalid JSON: Expecting ',' delimiter: line 1 column 9 (char 8)`.
 * These functions reproduce those texts. They run only after `isUtf8`/`JSON.parse` have already
 * failed, so they cost nothing on valid requests.
 */

/** CPython's UTF-8 decoder error for the first invalid sequence, or `undefined` if valid. */
export function utf8DecodeError(bytes: Uint8Array): string | undefined {
  const length = bytes.length;
  let i = 0;
  while (i < length) {
    const lead = bytes[i] ?? 0;
    if (lead < 0x80) {
      i++;
      continue;
    }
    const need =
      lead >= 0xc2 && lead <= 0xdf
        ? 1
        : lead >= 0xe0 && lead <= 0xef
          ? 2
          : lead >= 0xf0 && lead <= 0xf4
            ? 3
            : 0;
    if (need === 0) return describe(bytes, i, i + 1, 'invalid start byte');
    for (let k = 1; k <= need; k++) {
      if (i + k >= length) return describe(bytes, i, length, 'unexpected end of data');
      const next = bytes[i + k] ?? 0;
      if (!continuationAllowed(lead, k, next)) return describe(bytes, i, i + k, 'invalid continuation byte');
    }
    i += need + 1;
  }
  return undefined;
}

/** Continuation byte `k` of a sequence led by `lead` (with the overlong and surrogate limits). */
function continuationAllowed(lead: number, k: number, byte: number): boolean {
  if (byte < 0x80 || byte > 0xbf) return false;
  if (k !== 1) return true;
  if (lead === 0xe0) return byte >= 0xa0;
  if (lead === 0xed) return byte <= 0x9f;
  if (lead === 0xf0) return byte >= 0x90;
  if (lead === 0xf4) return byte <= 0x8f;
  return true;
}

function describe(bytes: Uint8Array, start: number, end: number, reason: string): string {
  const where =
    end - start === 1
      ? `byte 0x${(bytes[start] ?? 0).toString(16).padStart(2, '0')} in position ${start}`
      : `bytes in position ${start}-${end - 1}`;
  return `'utf-8' codec can't decode ${where}: ${reason}`;
}

/** Thrown inside the scanner only; `message` is Python's text, `index` where it points. */
class JsonFailure extends Error {
  readonly index: number;
  constructor(message: string, index: number) {
    super(message);
    this.index = index;
  }
}

const HEX = /^[0-9a-fA-F]{4}$/;

/**
 * CPython's `json.loads` error for `text`, e.g. `Expecting value: line 1 column 1 (char 0)`, or
 * `undefined` when CPython would accept it. Positions count code points, as Python does. The
 * non-standard constants Python accepts (`NaN`, `Infinity`) are rejected here, like `JSON.parse`.
 */
export function pythonJsonError(text: string): string | undefined {
  try {
    scanDocument(text);
    return undefined;
  } catch (failure) {
    if (!(failure instanceof JsonFailure)) return undefined; // e.g. nesting deeper than the stack
    return `${failure.message}: ${position(text, failure.index)}`;
  }
}

function position(text: string, index: number): string {
  const before = text.slice(0, index);
  const pairs = before.match(/[\ud800-\udbff][\udc00-\udfff]/g)?.length ?? 0;
  const char = index - pairs;
  const lastNewline = before.lastIndexOf('\n');
  const line = (before.match(/\n/g)?.length ?? 0) + 1;
  const tail = before.slice(lastNewline + 1);
  const column = tail.length - (tail.match(/[\ud800-\udbff][\udc00-\udfff]/g)?.length ?? 0) + 1;
  return `line ${line} column ${column} (char ${char})`;
}

function scanDocument(text: string): void {
  if (text.charCodeAt(0) === 0xfeff)
    throw new JsonFailure('Unexpected UTF-8 BOM (decode using utf-8-sig)', 0);
  const end = skipSpace(text, scanValue(text, skipSpace(text, 0)));
  if (end !== text.length) throw new JsonFailure('Extra data', end);
}

function skipSpace(text: string, start: number): number {
  let i = start;
  for (let c = text.charCodeAt(i); c === 32 || c === 9 || c === 10 || c === 13; c = text.charCodeAt(++i));
  return i;
}

function scanValue(text: string, start: number): number {
  if (start >= text.length) throw new JsonFailure('Expecting value', start);
  switch (text[start]) {
    case '"':
      return scanString(text, start + 1);
    case '{':
      return scanObject(text, start + 1);
    case '[':
      return scanArray(text, start + 1);
    case 'n':
      if (text.startsWith('null', start)) return start + 4;
      break;
    case 't':
      if (text.startsWith('true', start)) return start + 4;
      break;
    case 'f':
      if (text.startsWith('false', start)) return start + 5;
      break;
  }
  return scanNumber(text, start);
}

function isDigit(text: string, index: number): boolean {
  const c = text.charCodeAt(index);
  return c >= 48 && c <= 57;
}

function scanNumber(text: string, start: number): number {
  const last = text.length - 1;
  let i = start;
  if (text[i] === '-') {
    i++;
    if (i > last) throw new JsonFailure('Expecting value', start);
  }
  const first = text.charCodeAt(i);
  if (first >= 49 && first <= 57) {
    i++;
    while (i <= last && isDigit(text, i)) i++;
  } else if (first === 48) {
    i++;
  } else {
    throw new JsonFailure('Expecting value', start);
  }
  if (i < last && text[i] === '.' && isDigit(text, i + 1)) {
    i += 2;
    while (i <= last && isDigit(text, i)) i++;
  }
  if (i < last && (text[i] === 'e' || text[i] === 'E')) {
    const exponentStart = i;
    i++;
    if (i < last && (text[i] === '-' || text[i] === '+')) i++;
    while (i <= last && isDigit(text, i)) i++;
    if (!isDigit(text, i - 1)) i = exponentStart;
  }
  return i;
}

/** `start` is just past the opening quote. */
function scanString(text: string, start: number): number {
  const begin = start - 1;
  const length = text.length;
  let i = start;
  for (;;) {
    let c = 0;
    for (; i < length; i++) {
      c = text.charCodeAt(i);
      if (c === 34 || c === 92) break;
      if (c <= 0x1f) throw new JsonFailure('Invalid control character at', i);
    }
    if (i >= length) throw new JsonFailure('Unterminated string starting at', begin);
    if (c === 34) return i + 1;
    i++;
    if (i === length) throw new JsonFailure('Unterminated string starting at', begin);
    const escape = text[i];
    if (escape !== 'u') {
      if (escape === undefined || !'"\\/bfnrt'.includes(escape))
        throw new JsonFailure('Invalid \\escape', i - 1);
      i++;
      continue;
    }
    const digits = i + 1;
    let end = digits + 4;
    if (end >= length || !HEX.test(text.slice(digits, end)))
      throw new JsonFailure('Invalid \\uXXXX escape', i);
    const unit = Number.parseInt(text.slice(digits, end), 16);
    if (unit >= 0xd800 && unit <= 0xdbff && end + 6 < length && text[end] === '\\' && text[end + 1] === 'u') {
      if (!HEX.test(text.slice(end + 2, end + 6))) throw new JsonFailure('Invalid \\uXXXX escape', end + 1);
      const low = Number.parseInt(text.slice(end + 2, end + 6), 16);
      if (low >= 0xdc00 && low <= 0xdfff) end += 6;
    }
    i = end;
  }
}

function scanObject(text: string, start: number): number {
  let i = skipSpace(text, start);
  if (text[i] === '}') return i + 1;
  for (;;) {
    if (text[i] !== '"') throw new JsonFailure('Expecting property name enclosed in double quotes', i);
    i = skipSpace(text, scanString(text, i + 1));
    if (text[i] !== ':') throw new JsonFailure("Expecting ':' delimiter", i);
    i = skipSpace(text, scanValue(text, skipSpace(text, i + 1)));
    if (text[i] === '}') return i + 1;
    if (text[i] !== ',') throw new JsonFailure("Expecting ',' delimiter", i);
    const comma = i;
    i = skipSpace(text, i + 1);
    if (text[i] === '}') throw new JsonFailure('Illegal trailing comma before end of object', comma);
  }
}

function scanArray(text: string, start: number): number {
  let i = skipSpace(text, start);
  if (text[i] === ']') return i + 1;
  for (;;) {
    i = skipSpace(text, scanValue(text, i));
    if (text[i] === ']') return i + 1;
    if (text[i] !== ',') throw new JsonFailure("Expecting ',' delimiter", i);
    const comma = i;
    i = skipSpace(text, i + 1);
    if (text[i] === ']') throw new JsonFailure('Illegal trailing comma before end of array', comma);
  }
}
