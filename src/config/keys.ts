import {
  accessTokens,
  agentUrn,
  boolean,
  hostName,
  integer,
  oneOf,
  rateLimitRules,
  secretText,
  storeLocation,
  text,
  url,
} from './parsers.ts';
import type { ValueParser } from './parsers.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Where spans go: nowhere (tracing off), an OTLP/HTTP collector, or standard output. */
export const OTEL_EXPORTERS = ['none', 'otlp', 'console'] as const;
export type OtelExporter = (typeof OTEL_EXPORTERS)[number];

export const AUTH_MODES = ['none', 'token', 'jwt'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/** Everything a token or JWT can be allowed to do (SPEC §6). */
export const PERMISSIONS = [
  'tasks:read',
  'tasks:write',
  'templates:write',
  'dlq:write',
  'health:read',
  'metrics:read',
  'asap:send',
  'admin',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** What a computed default may depend on. */
export interface DefaultContext {
  /** Whether standard output is a terminal. */
  readonly isTTY: boolean;
}

/** One configuration key: where it is read from, how it is parsed, and how it is documented. */
export interface KeySpec<T> extends ValueParser<T> {
  /** The environment variable; the config file key is the table key (camelCase). */
  readonly env: `BATON_${string}`;
  /** The global CLI option, in commander syntax, when the key has one. */
  readonly flag?: `--${string} <${string}>`;
  /** The default in the same text form a user would write, parsed like any other value. */
  readonly default?: string | ((context: DefaultContext) => string);
  /** How the docs describe a default computed at start-up. */
  readonly defaultDescription?: string;
  /** What the key is for, one sentence for the docs and `--help`. */
  readonly meaning: string;
}

/**
 * Every configuration key, in the order the docs list them. The one source of the keys' file
 * names, environment variables, flags, defaults, parsing, validation and documentation.
 */
export const CONFIG_KEYS = {
  store: {
    env: 'BATON_STORE',
    flag: '--store <url>',
    default: 'sqlite:./data/baton.db',
    meaning: 'Where tasks are stored: an SQLite file, SQLite in memory, or PostgreSQL',
    ...storeLocation(),
  },
  redisUrl: {
    env: 'BATON_REDIS_URL',
    flag: '--redis-url <url>',
    meaning: 'Optional Redis for shared rate limits, the nonce cache and event fan-out',
    ...url(['redis:', 'rediss:']),
  },
  host: {
    env: 'BATON_HOST',
    flag: '--host <host>',
    default: '127.0.0.1',
    meaning: 'Address the HTTP server listens on',
    ...hostName(),
  },
  port: {
    env: 'BATON_PORT',
    flag: '--port <port>',
    default: '8080',
    meaning: 'Port the HTTP server listens on (0 picks a free port)',
    ...integer(0, 65_535),
  },
  url: {
    env: 'BATON_URL',
    flag: '--url <url>',
    meaning:
      'Baton server the CLI commands (run, tasks, templates, handlers, dlq, resolve) talk to; without it they work on the store directly',
    ...url(['http:', 'https:']),
  },
  agentId: {
    env: 'BATON_AGENT_ID',
    default: 'urn:asap:agent:baton',
    meaning: "This agent's URN in ASAP envelopes and the manifest",
    ...agentUrn(),
  },
  publicUrl: {
    env: 'BATON_PUBLIC_URL',
    meaning: 'Base URL advertised in the ASAP manifest (default: the address the server listens on)',
    ...url(['http:', 'https:']),
  },
  workerConcurrency: {
    env: 'BATON_WORKER_CONCURRENCY',
    flag: '--concurrency <n>',
    default: '16',
    meaning: 'Steps this process runs at once (0 = no worker)',
    ...integer(0, 10_000),
  },
  logLevel: {
    env: 'BATON_LOG_LEVEL',
    flag: '--log-level <level>',
    default: 'info',
    meaning: 'Lowest log level written',
    ...oneOf(LOG_LEVELS),
  },
  logFormat: {
    env: 'BATON_LOG_FORMAT',
    flag: '--log-format <format>',
    default: ({ isTTY }) => (isTTY ? 'pretty' : 'json'),
    defaultDescription: '`pretty` on a TTY, else `json`',
    meaning: 'Log line format',
    ...oneOf(LOG_FORMATS),
  },
  auth: {
    env: 'BATON_AUTH',
    flag: '--auth <mode>',
    default: 'none',
    meaning: 'How API and ASAP callers authenticate',
    ...oneOf(AUTH_MODES),
  },
  tokens: {
    env: 'BATON_TOKENS',
    meaning: 'Access tokens and the permissions of each (used when auth is token)',
    ...accessTokens(PERMISSIONS),
  },
  jwtSecret: {
    env: 'BATON_JWT_SECRET',
    meaning: 'HS256 secret that signs JWTs (auth jwt)',
    ...secretText(),
  },
  jwksUrl: {
    env: 'BATON_JWKS_URL',
    meaning: 'URL of the JWKS holding the JWT signing keys (auth jwt)',
    ...url(['http:', 'https:']),
  },
  jwtIssuer: {
    env: 'BATON_JWT_ISSUER',
    meaning: 'Required JWT issuer (iss), when set',
    ...text('an issuer name'),
  },
  jwtAudience: {
    env: 'BATON_JWT_AUDIENCE',
    meaning: 'Required JWT audience (aud), when set',
    ...text('an audience name'),
  },
  rateLimit: {
    env: 'BATON_RATE_LIMIT',
    default: '100/second;2000/minute',
    meaning: 'Per-client request limits on /asap and /api',
    ...rateLimitRules(),
  },
  maxRequestBytes: {
    env: 'BATON_MAX_REQUEST_BYTES',
    default: '10485760',
    meaning: 'Request body limit in bytes, applied before and after decompression',
    ...integer(1_024, 1_073_741_824),
  },
  requireNonce: {
    env: 'BATON_REQUIRE_NONCE',
    default: 'false',
    meaning: 'Require a nonce on ASAP envelopes (replay protection)',
    ...boolean(),
  },
  leaseMs: {
    env: 'BATON_LEASE_MS',
    default: '30000',
    meaning: 'Lease on a running step, renewed by heartbeats; an expired lease makes the step ready again',
    ...integer(1_000, 3_600_000),
  },
  pollIntervalMs: {
    env: 'BATON_POLL_INTERVAL_MS',
    default: '1000',
    meaning: 'Safety-net polling interval of the worker for ready steps',
    ...integer(10, 60_000),
  },
  shutdownTimeoutMs: {
    env: 'BATON_SHUTDOWN_TIMEOUT_MS',
    default: '10000',
    meaning: 'How long a graceful shutdown waits for running steps',
    ...integer(0, 600_000),
  },
  templatesDir: {
    env: 'BATON_TEMPLATES_DIR',
    flag: '--templates-dir <dir>',
    meaning: 'Folder of YAML/JSON templates loaded at start',
    ...text('a folder path'),
  },
  handlers: {
    env: 'BATON_HANDLERS',
    flag: '--handlers <module>',
    meaning:
      "Module that registers this process's step handlers (and templates): its default export is called with the engine",
    ...text('a path to a .ts or .js module'),
  },
  otelExporter: {
    env: 'BATON_OTEL_EXPORTER',
    default: 'none',
    meaning:
      'OpenTelemetry trace export: none (tracing off), otlp (OTLP/HTTP to BATON_OTEL_ENDPOINT) or console',
    ...oneOf(OTEL_EXPORTERS),
  },
  otelEndpoint: {
    env: 'BATON_OTEL_ENDPOINT',
    default: 'http://localhost:4318/v1/traces',
    meaning: 'OTLP/HTTP URL spans are sent to (with BATON_OTEL_EXPORTER=otlp)',
    ...url(['http:', 'https:']),
  },
  otelServiceName: {
    env: 'BATON_OTEL_SERVICE_NAME',
    default: 'baton',
    meaning: 'The service.name of the spans this process exports',
    ...text('a service name'),
  },
  debug: {
    env: 'BATON_DEBUG',
    default: 'false',
    meaning: 'Debug mode: error answers and CLI errors may include stack traces',
    ...boolean(),
  },
} as const satisfies Record<string, KeySpec<unknown>>;

export type ConfigKey = keyof typeof CONFIG_KEYS;

/** Every configuration key, in table order. */
export const CONFIG_KEY_NAMES = Object.freeze(Object.keys(CONFIG_KEYS) as ConfigKey[]);

// A key without a default is optional: its value may be undefined.
type ValueOf<S> = S extends { parse(raw: unknown): infer T }
  ? S extends { default: unknown }
    ? T
    : T | undefined
  : never;

/** The resolved configuration: one property per key of CONFIG_KEYS, deeply frozen. */
export type BatonConfig = { readonly [K in ConfigKey]: ValueOf<(typeof CONFIG_KEYS)[K]> };

export function isConfigKey(name: string): name is ConfigKey {
  return Object.hasOwn(CONFIG_KEYS, name);
}

/** The spec of a key, typed loosely, for code that treats every key alike. */
export function specOf(key: ConfigKey): KeySpec<unknown> {
  return CONFIG_KEYS[key];
}

/** The option name of a key's flag (`--port`), if it has one. */
export function flagName(key: ConfigKey): string | undefined {
  return specOf(key).flag?.split(' ')[0];
}
