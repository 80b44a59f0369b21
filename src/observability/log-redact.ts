/**
 * Secrets out of log lines, by key name at any depth. pino's `redact` only knows fixed paths; this
 * walks what a line logs and hides the value of every key that names a credential, wherever it
 * sits (`{ target: { auth: { password } } }`, an error's `config.headers.Authorization`). Nothing
 * is copied unless a secret is found, and then only the objects on the way to it: the caller's
 * objects are never changed.
 */
import { REDACTED } from '../util/redact.ts';

/** Keys whose values never reach a log line. */
export const SECRET_LOG_KEY = /pass(word)?|secret|token|api[-_]?key|authorization|cookie/i;

/**
 * Fixed paths for pino's `redact` (compiled once, cheap): the headers of logged requests and
 * responses and the usual top-level credential fields. The key pattern above catches the rest.
 * No leading wildcards (`*.password`): pino would then run its redaction over every line.
 */
export const REDACT_PATHS: readonly string[] = [
  'authorization',
  'cookie',
  'password',
  'token',
  'secret',
  'apiKey',
  'api_key',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
];

/** Objects nested deeper than this are logged as they are (pino stops at a similar depth). */
const MAX_DEPTH = 8;
/** Key names seen so far and whether they are secret: log lines reuse a small set of keys. */
const verdicts = new Map<string, boolean>();
const MAX_VERDICTS = 2048;

function isSecretKey(key: string): boolean {
  let verdict = verdicts.get(key);
  if (verdict === undefined) {
    verdict = SECRET_LOG_KEY.test(key);
    if (verdicts.size < MAX_VERDICTS) verdicts.set(key, verdict);
  }
  return verdict;
}

/**
 * `value` with every secret-named key's value replaced by `[redacted]`; `value` itself when it
 * holds none. Walks plain objects, arrays and errors (their own properties; a copy keeps the
 * prototype, so it is still serialized as an error).
 */
export function redactSecretKeys<T>(value: T): T {
  return redactValue(value, 0, undefined) as T;
}

function redactValue(value: unknown, depth: number, seen: Set<object> | undefined): unknown {
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) return redactArray(value, depth, seen);
  if (!isWalkable(value)) return value;
  const visited = seen ?? new Set<object>();
  if (visited.has(value)) return value;
  visited.add(value);
  const isError = value instanceof Error;
  const keys = isError ? Object.getOwnPropertyNames(value) : Object.keys(value);
  let copy: Record<string, unknown> | undefined;
  for (const key of keys) {
    const inner = (value as Record<string, unknown>)[key];
    let next: unknown;
    if (isSecretKey(key)) next = inner === undefined || inner === null ? inner : REDACTED;
    else next = redactValue(inner, depth + 1, visited);
    if (next === inner) continue;
    copy ??= copyOf(value, keys, isError);
    copy[key] = next;
  }
  return copy ?? value;
}

function redactArray(items: readonly unknown[], depth: number, seen: Set<object> | undefined): unknown {
  let copy: unknown[] | undefined;
  for (let i = 0; i < items.length; i++) {
    const next = redactValue(items[i], depth + 1, seen);
    if (next === items[i]) continue;
    copy ??= [...items];
    copy[i] = next;
  }
  return copy ?? items;
}

/** Plain objects and errors: class instances (buffers, dates, streams) are left to serializers. */
function isWalkable(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null || value instanceof Error;
}

function copyOf(value: object, keys: readonly string[], isError: boolean): Record<string, unknown> {
  const copy = (isError ? Object.create(Object.getPrototypeOf(value) as object) : {}) as Record<
    string,
    unknown
  >;
  for (const key of keys) copy[key] = (value as Record<string, unknown>)[key];
  return copy;
}
