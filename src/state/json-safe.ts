import { ValidationError } from '../util/errors.ts';

/** A value `JSON.stringify` writes and `JSON.parse` reads back unchanged. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Tags of the values plain JSON cannot hold. A tagged value is an object with exactly one key, the
 * tag. A user object with exactly one key starting with `$` is wrapped in `$escape`, so it can
 * never be mistaken for a tag (today's or a future one).
 */
const TAG = {
  date: '$date',
  map: '$map',
  set: '$set',
  bigint: '$bigint',
  number: '$number',
  undefined: '$undefined',
  escape: '$escape',
} as const;

/** Deeper values are refused: recursion that deep would overflow the stack instead of failing clearly. */
const MAX_DEPTH = 500;

/**
 * Encodes a value as plain JSON that `decodeJsonSafe` turns back into an equal value:
 *
 * - `Date` → `{"$date": iso}` (an invalid date → `{"$date": null}`), `Map` → `{"$map": [[k, v], …]}`,
 *   `Set` → `{"$set": [v, …]}`, `bigint` → `{"$bigint": "123"}`;
 * - `NaN`, `±Infinity` and `-0` → `{"$number": "NaN" | "Infinity" | "-Infinity" | "-0"}`;
 * - `undefined` (as a property, an array element or the whole value) → `{"$undefined": true}`;
 * - a user object with a single `$`-key → `{"$escape": {…}}`;
 * - an object with a `toJSON()` method other than those above is encoded as what it returns, as
 *   `JSON.stringify` would.
 *
 * Throws a ValidationError naming the path (e.g. `data.items[2]`) for what cannot be stored:
 * functions, symbols, symbol keys, cycles, class instances without `toJSON`, nesting deeper than
 * 500 levels. Objects with a null prototype decode as ordinary objects.
 */
export function encodeJsonSafe(value: unknown, path = 'value'): JsonValue {
  return encode(value, path, [], 0);
}

/**
 * Decodes what `encodeJsonSafe` produced. Objects with a single unknown `$`-key (never produced by
 * the encoder) are kept as they are. A malformed tag (e.g. `{"$bigint": 12}`) is a ValidationError.
 */
export function decodeJsonSafe(json: unknown, path = 'value'): unknown {
  return decode(json, path, 0);
}

function encode(value: unknown, path: string, ancestors: object[], depth: number): JsonValue {
  if (depth > MAX_DEPTH) throw refuse(path, `nests deeper than ${MAX_DEPTH} levels`);
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return encodeNumber(value);
    case 'bigint':
      return { [TAG.bigint]: value.toString() };
    case 'undefined':
      return { [TAG.undefined]: true };
    case 'function':
      throw refuse(path, 'is a function, which cannot be stored');
    case 'symbol':
      throw refuse(path, 'is a symbol, which cannot be stored');
    case 'object':
      if (value === null) return null;
      return encodeObject(value, path, ancestors, depth);
  }
  throw refuse(path, `has unsupported type ${typeof value}`);
}

function encodeNumber(value: number): JsonValue {
  if (Object.is(value, -0)) return { [TAG.number]: '-0' };
  if (Number.isFinite(value)) return value;
  return { [TAG.number]: String(value) };
}

function encodeObject(value: object, path: string, ancestors: object[], depth: number): JsonValue {
  if (ancestors.includes(value))
    throw refuse(path, 'refers back to itself (a cycle), which cannot be stored');
  if (value instanceof Date) {
    const time = value.getTime();
    return { [TAG.date]: Number.isNaN(time) ? null : value.toISOString() };
  }
  ancestors.push(value);
  try {
    const next = depth + 1;
    if (Array.isArray(value))
      return Array.from(value, (item: unknown, i) => encode(item, `${path}[${i}]`, ancestors, next));
    if (value instanceof Map)
      return {
        [TAG.map]: Array.from(value, ([key, item]: [unknown, unknown], i) => [
          encode(key, `${path}<key ${i}>`, ancestors, next),
          encode(item, `${path}<value ${i}>`, ancestors, next),
        ]),
      };
    if (value instanceof Set)
      return {
        [TAG.set]: Array.from(value, (item: unknown, i) => encode(item, `${path}<${i}>`, ancestors, next)),
      };
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return encode(toJSON.call(value), path, ancestors, next);
    if (isPlainObject(value)) return encodePlainObject(value, path, ancestors, next);
    const kind = value.constructor?.name ?? 'object';
    throw refuse(path, `is a ${kind} instance, which cannot be stored: convert it to a plain object`);
  } finally {
    ancestors.pop();
  }
}

function encodePlainObject(
  value: object,
  path: string,
  ancestors: object[],
  depth: number,
): { [key: string]: JsonValue } {
  if (
    Object.getOwnPropertySymbols(value).some((key) => Object.prototype.propertyIsEnumerable.call(value, key))
  )
    throw refuse(path, 'has a symbol key, which cannot be stored');
  const out: { [key: string]: JsonValue } = {};
  const keys = Object.keys(value);
  for (const key of keys)
    setOwn(
      out,
      key,
      encode((value as Record<string, unknown>)[key], propertyPath(path, key), ancestors, depth),
    );
  return keys.length === 1 && keys[0]!.startsWith('$') ? { [TAG.escape]: out } : out;
}

function decode(json: unknown, path: string, depth: number): unknown {
  if (depth > MAX_DEPTH * 2 + 2) throw malformed(path, `nests deeper than ${MAX_DEPTH} levels`);
  if (json === null || typeof json !== 'object') return json;
  const next = depth + 1;
  if (Array.isArray(json)) return json.map((item: unknown, i) => decode(item, `${path}[${i}]`, next));
  const keys = Object.keys(json);
  const record = json as Record<string, unknown>;
  if (keys.length === 1) {
    const tag = keys[0]!;
    const content = record[tag];
    switch (tag) {
      case TAG.date:
        return decodeDate(content, path);
      case TAG.bigint:
        return decodeBigint(content, path);
      case TAG.number:
        return decodeNumber(content, path);
      case TAG.undefined:
        return undefined;
      case TAG.map:
        return new Map(
          pairs(content, path).map(([key, item], i) => [
            decode(key, `${path}<key ${i}>`, next),
            decode(item, `${path}<value ${i}>`, next),
          ]),
        );
      case TAG.set:
        return new Set(list(content, TAG.set, path).map((item, i) => decode(item, `${path}<${i}>`, next)));
      case TAG.escape:
        if (content === null || typeof content !== 'object' || Array.isArray(content))
          throw malformed(path, 'a $escape tag must hold an object');
        return decodeProperties(content as Record<string, unknown>, path, next);
    }
  }
  return decodeProperties(record, path, next);
}

function decodeProperties(
  record: Record<string, unknown>,
  path: string,
  depth: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(record))
    setOwn(out, key, decode(record[key], propertyPath(path, key), depth));
  return out;
}

function decodeDate(content: unknown, path: string): Date {
  if (content === null) return new Date(Number.NaN);
  const date = typeof content === 'string' ? new Date(content) : undefined;
  if (!date || Number.isNaN(date.getTime()))
    throw malformed(path, 'a $date tag must hold an ISO 8601 string');
  return date;
}

function decodeBigint(content: unknown, path: string): bigint {
  if (typeof content !== 'string' || !/^-?\d+$/.test(content))
    throw malformed(path, 'a $bigint tag must hold a string of decimal digits');
  return BigInt(content);
}

function decodeNumber(content: unknown, path: string): number {
  switch (content) {
    case 'NaN':
      return Number.NaN;
    case 'Infinity':
      return Number.POSITIVE_INFINITY;
    case '-Infinity':
      return Number.NEGATIVE_INFINITY;
    case '-0':
      return -0;
  }
  throw malformed(path, 'a $number tag must hold "NaN", "Infinity", "-Infinity" or "-0"');
}

function list(content: unknown, tag: string, path: string): unknown[] {
  if (!Array.isArray(content)) throw malformed(path, `a ${tag} tag must hold an array`);
  return content;
}

function pairs(content: unknown, path: string): [unknown, unknown][] {
  const entries = list(content, TAG.map, path);
  if (!entries.every((entry) => Array.isArray(entry) && entry.length === 2))
    throw malformed(path, 'a $map tag must hold [key, value] pairs');
  return entries as [unknown, unknown][];
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Sets an own property even for the key `__proto__`, which plain assignment would treat as the prototype. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function propertyPath(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function refuse(path: string, problem: string): ValidationError {
  return new ValidationError(`${path} ${problem}`, [{ path, message: problem }]);
}

function malformed(path: string, problem: string): ValidationError {
  return new ValidationError(`cannot decode ${path}: ${problem}`, [{ path, message: problem }]);
}
