import { REDACTED, redactUrl } from './redact.ts';

/**
 * Thrown by a parser for a value it does not accept. The loader turns it into a message naming
 * the setting, what is accepted and the value received, so a parser only adds `problem` when
 * "expected …" alone would not say what is wrong.
 */
export class InvalidValue extends Error {
  readonly problem: string | undefined;

  constructor(problem?: string) {
    super(problem ?? 'invalid value');
    this.name = 'InvalidValue';
    this.problem = problem;
  }
}

/** How one kind of value is read (from the file, the environment or a flag) and described. */
export interface ValueParser<T> {
  /** What is accepted; completes "expected …" in errors and fills the docs. */
  readonly accepts: string;
  /** When true the value is never shown, not even in the error about it being invalid. */
  readonly secret?: boolean;
  /** Turns text (or a typed value from a config file) into the value, or throws InvalidValue. */
  parse(raw: unknown): T;
  /** A copy safe to print; absent when the value holds nothing sensitive. */
  redact?(value: T): T;
}

/** An access token for `auth: token` and the permissions it grants. */
export interface AccessToken<P extends string = string> {
  readonly token: string;
  readonly permissions: readonly P[];
}

/** At most `limit` requests per client in any `windowMs` window. */
export interface RateLimitRule {
  readonly limit: number;
  readonly windowMs: number;
}

// Files may hold numbers and booleans where the environment only has text; both read the same.
function scalarText(raw: unknown): string {
  if (typeof raw === 'string') return raw.trim();
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  throw new InvalidValue();
}

function nonEmptyText(raw: unknown): string {
  const text = scalarText(raw);
  if (text === '') throw new InvalidValue();
  return text;
}

/** An integer within `min`..`max`, inclusive. */
export function integer(min: number, max: number): ValueParser<number> {
  return {
    accepts: `an integer from ${min} to ${max}`,
    parse(raw) {
      const text = scalarText(raw);
      const value = Number(text);
      if (!/^-?\d+$/.test(text) || value < min || value > max) throw new InvalidValue();
      return value;
    },
  };
}

/** One of a fixed list of words, case-insensitive. */
export function oneOf<const V extends string>(values: readonly V[]): ValueParser<V> {
  return {
    accepts: `one of ${values.join(', ')}`,
    parse(raw) {
      const text = scalarText(raw).toLowerCase();
      const match = values.find((value) => value === text);
      if (match === undefined) throw new InvalidValue();
      return match;
    },
  };
}

const TRUE_WORDS = ['true', '1', 'yes'];
const FALSE_WORDS = ['false', '0', 'no'];

/** A switch written `true/false`, `1/0` or `yes/no`, case-insensitive. */
export function boolean(): ValueParser<boolean> {
  return {
    accepts: 'true or false (also 1/0, yes/no)',
    parse(raw) {
      const text = scalarText(raw).toLowerCase();
      if (TRUE_WORDS.includes(text)) return true;
      if (FALSE_WORDS.includes(text)) return false;
      throw new InvalidValue();
    },
  };
}

/** Any non-empty text; `accepts` describes what it stands for (a path, an issuer…). */
export function text(accepts: string): ValueParser<string> {
  return { accepts, parse: nonEmptyText };
}

/** A host name or IP address to listen on. */
export function hostName(): ValueParser<string> {
  return {
    accepts: 'a host name or IP address',
    parse(raw) {
      const host = nonEmptyText(raw);
      if (/[\s/]/.test(host)) throw new InvalidValue();
      return host;
    },
  };
}

// RFC 7518 §3.2: an HS256 key must be at least as long as the hash output (256 bits).
const MIN_SECRET_LENGTH = 32;

/** A shared secret, never shown. */
export function secretText(): ValueParser<string> {
  return {
    accepts: `a secret of at least ${MIN_SECRET_LENGTH} characters (HS256 needs 256 bits)`,
    secret: true,
    parse(raw) {
      const secret = nonEmptyText(raw);
      if (secret.length < MIN_SECRET_LENGTH) throw new InvalidValue();
      return secret;
    },
    redact: () => REDACTED,
  };
}

/** A URL with one of the given protocols (written with their colon: `https:`). */
export function url(protocols: readonly string[]): ValueParser<string> {
  return {
    accepts: `a URL starting with ${protocols.map((protocol) => `${protocol}//`).join(' or ')}`,
    parse(raw) {
      const value = nonEmptyText(raw);
      const scheme = /^([a-z][a-z0-9+.-]*:)\/\//i.exec(value)?.[1]?.toLowerCase() ?? '';
      if (!protocols.includes(scheme) || !URL.canParse(value)) throw new InvalidValue();
      return value;
    },
    redact: redactUrl,
  };
}

/** Where tasks are stored: an SQLite file, SQLite in memory, or a PostgreSQL URL. */
export function storeLocation(): ValueParser<string> {
  return {
    accepts: 'sqlite:PATH, sqlite::memory: or a URL starting with postgres:// or postgresql://',
    parse(raw) {
      const value = nonEmptyText(raw);
      const isSqlite = value.startsWith('sqlite:') && value.length > 'sqlite:'.length;
      const isPostgres = /^postgres(ql)?:\/\//i.test(value) && URL.canParse(value);
      if (!isSqlite && !isPostgres) throw new InvalidValue();
      return value;
    },
    redact: redactUrl,
  };
}

const AGENT_URN = /^urn:asap:agent:[a-z0-9-]+(?::[a-z0-9-]+)?$/;
const MAX_URN_LENGTH = 256;

/** An ASAP agent URN, as the protocol validates it. */
export function agentUrn(): ValueParser<string> {
  return {
    accepts:
      `urn:asap:agent:NAME or urn:asap:agent:NAME:SUBNAME (lowercase letters, digits and hyphens, ` +
      `at most ${MAX_URN_LENGTH} characters)`,
    parse(raw) {
      const urn = nonEmptyText(raw);
      if (urn.length > MAX_URN_LENGTH || !AGENT_URN.test(urn)) throw new InvalidValue();
      return urn;
    },
  };
}

const WINDOW_MS: Readonly<Record<string, number>> = {
  second: 1_000,
  s: 1_000,
  minute: 60_000,
  m: 60_000,
  hour: 3_600_000,
  h: 3_600_000,
};

/** Rate limit rules such as `100/second;2000/minute`. */
export function rateLimitRules(): ValueParser<readonly RateLimitRule[]> {
  return {
    accepts:
      'LIMIT/WINDOW rules separated by ";" with a positive integer LIMIT and a WINDOW of second, ' +
      'minute or hour (or s, m, h), e.g. 100/second;2000/minute',
    parse(raw) {
      return nonEmptyText(raw).split(';').map(parseRateLimitRule);
    },
  };
}

function parseRateLimitRule(rule: string, index: number): RateLimitRule {
  const match = /^(\d+)\s*\/\s*([a-z]+)$/i.exec(rule.trim());
  const limit = Number(match?.[1]);
  const unit = match?.[2]?.toLowerCase() ?? '';
  if (!match || limit < 1 || !Number.isSafeInteger(limit) || !Object.hasOwn(WINDOW_MS, unit)) {
    throw new InvalidValue(`rule ${index + 1} is not LIMIT/WINDOW`);
  }
  return { limit, windowMs: WINDOW_MS[unit] ?? 0 };
}

/**
 * Access tokens with their permissions: `TOKEN:PERM+PERM,TOKEN:PERM` as text, or in a file also
 * `[{ token, permissions: [...] }]`. Problems are reported by entry number and permission
 * position, never by quoting: a mistyped entry may be mostly token.
 */
export function accessTokens<const P extends string>(
  permissions: readonly P[],
): ValueParser<readonly AccessToken<P>[]> {
  return {
    accepts:
      `TOKEN:PERMISSION+PERMISSION entries separated by commas (in the config file also a list of ` +
      `{ token, permissions }), with permissions from ${permissions.join(', ')}`,
    secret: true,
    parse(raw) {
      const entries = Array.isArray(raw)
        ? raw.map(tokenFromObject)
        : nonEmptyText(raw).split(',').map(tokenFromText);
      return entries.map((entry, index) => checkToken(entry, index, entries, permissions));
    },
    redact: (tokens) => tokens.map(({ permissions: granted }) => ({ token: REDACTED, permissions: granted })),
  };
}

function tokenFromText(entry: string, index: number): AccessToken {
  const separator = entry.indexOf(':');
  if (separator < 0) throw new InvalidValue(`entry ${index + 1} has no ":PERMISSION" part`);
  return {
    token: entry.slice(0, separator).trim(),
    permissions: entry
      .slice(separator + 1)
      .split('+')
      .map((permission) => permission.trim()),
  };
}

function tokenFromObject(entry: unknown, index: number): AccessToken {
  const fields: Record<string, unknown> = typeof entry === 'object' && entry !== null ? { ...entry } : {};
  const { token, permissions, ...rest } = fields;
  const isWellFormed =
    typeof token === 'string' &&
    Array.isArray(permissions) &&
    permissions.every((permission) => typeof permission === 'string') &&
    Object.keys(rest).length === 0;
  if (!isWellFormed) throw new InvalidValue(`entry ${index + 1} is not { token, permissions: [...] }`);
  return { token: token.trim(), permissions };
}

function checkToken<P extends string>(
  entry: AccessToken,
  index: number,
  entries: readonly AccessToken[],
  allowed: readonly P[],
): AccessToken<P> {
  const where = `entry ${index + 1}`;
  if (entry.token === '' || /\s/.test(entry.token))
    throw new InvalidValue(`${where} has an empty token or spaces in it`);
  if (entries.findIndex((other) => other.token === entry.token) < index) {
    throw new InvalidValue(`${where} repeats the token of an earlier entry`);
  }
  if (entry.permissions.length === 0) throw new InvalidValue(`${where} has no permissions`);
  const unknown = entry.permissions.findIndex(
    (permission) => !(allowed as readonly string[]).includes(permission),
  );
  if (unknown >= 0) throw new InvalidValue(`permission ${unknown + 1} of ${where} is not a known permission`);
  return { token: entry.token, permissions: entry.permissions as P[] };
}
