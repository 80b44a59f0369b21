import { ConfigError } from './errors.ts';
import type { ConfigIssue } from './errors.ts';
import { readConfigFile } from './file.ts';
import type { ConfigFile } from './file.ts';
import { CONFIG_KEY_NAMES, CONFIG_KEYS, flagName, isConfigKey, specOf } from './keys.ts';
import type { BatonConfig, ConfigKey, DefaultContext } from './keys.ts';
import { InvalidValue } from './parsers.ts';
import { REDACTED, redactUrl } from './redact.ts';
import { closestMatch } from './suggest.ts';

/** The layers a value can come from, lowest precedence first. */
export type ConfigLayer = 'default' | 'file' | 'env' | 'flag';

/** Where a resolved value came from. */
export interface ConfigSource {
  readonly layer: ConfigLayer;
  /** The environment variable, flag or config file that set it; absent for defaults. */
  readonly name?: string;
}

/** Values given on the command line (or by code), by config key; undefined entries are skipped. */
export type ConfigOverrides = { readonly [K in ConfigKey]?: unknown };

export interface LoadConfigOptions {
  /** The top layer: values from CLI flags (or code), by config key. */
  readonly flags?: ConfigOverrides;
  /** The environment to read `BATON_*` from. Default: `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where relative config file paths resolve and the config file is looked for. Default: `process.cwd()`. */
  readonly cwd?: string;
  /** The config file to read (e.g. from `--config`). Default: `BATON_CONFIG`, else `baton.config.{json,yaml,yml}` in `cwd`. */
  readonly file?: string;
  /** Whether standard output is a terminal (decides the default log format). Default: `process.stdout.isTTY`. */
  readonly isTTY?: boolean;
}

/** The configuration with where each value came from, for `baton config` and start-up logs. */
export interface ResolvedConfig {
  readonly config: BatonConfig;
  readonly sources: Readonly<Record<ConfigKey, ConfigSource>>;
  /** The absolute path of the config file read, if any. */
  readonly file: string | undefined;
}

// One value as found in one layer, before parsing.
interface Setting {
  readonly key: ConfigKey;
  readonly source: ConfigSource;
  /** The key as the user wrote it, for messages: `BATON_PORT`, `port in baton.config.yaml`, `--port`. */
  readonly where: string;
  readonly raw: unknown;
}

interface Found {
  readonly settings: readonly Setting[];
  readonly issues: readonly ConfigIssue[];
}

/**
 * Resolves the configuration once: defaults, then the config file, then `BATON_*` environment
 * variables, then flags; a later layer wins, key by key. Every value of every layer is validated,
 * unknown keys and variables are rejected, and all problems are thrown together.
 *
 * @throws {ConfigError} listing every problem, secrets redacted.
 */
export function resolveConfig(options: LoadConfigOptions = {}): ResolvedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const fileResult = readConfigFile(options.file ?? nonEmpty(env.BATON_CONFIG), cwd);
  const layers = [
    defaultSettings({ isTTY: options.isTTY ?? process.stdout.isTTY === true }),
    fileSettings(fileResult.file),
    envSettings(env),
    flagSettings(options.flags ?? {}),
  ];
  const applied = new Map<ConfigKey, { value: unknown; setting: Setting }>();
  const issues = [...fileResult.issues, ...layers.flatMap((layer) => layer.issues)];
  for (const setting of layers.flatMap((layer) => layer.settings)) {
    try {
      applied.set(setting.key, { value: specOf(setting.key).parse(setting.raw), setting });
    } catch (error) {
      if (!(error instanceof InvalidValue)) throw error;
      issues.push({ where: setting.where, key: setting.key, message: invalidValueMessage(setting, error) });
    }
  }
  const config = Object.fromEntries(
    CONFIG_KEY_NAMES.map((key) => [key, applied.get(key)?.value]),
  ) as BatonConfig;
  issues.push(...authIssues(config, applied));
  if (issues.length > 0) throw new ConfigError(issues);
  const sources = Object.fromEntries(
    CONFIG_KEY_NAMES.map((key) => [key, applied.get(key)?.setting.source ?? { layer: 'default' }]),
  ) as ResolvedConfig['sources'];
  return deepFreeze({ config, sources, file: fileResult.file?.path });
}

/** Resolves the configuration (see resolveConfig) and returns just the frozen values. */
export function loadConfig(options: LoadConfigOptions = {}): BatonConfig {
  return resolveConfig(options).config;
}

// An empty variable counts as unset: `BATON_X=` is how shells and compose files clear a value.
function nonEmpty(value: string | undefined): string | undefined {
  return value === '' ? undefined : value;
}

function defaultSettings(context: DefaultContext): Found {
  const settings = CONFIG_KEY_NAMES.flatMap((key): Setting[] => {
    const fallback = specOf(key).default;
    if (fallback === undefined) return [];
    const raw = typeof fallback === 'function' ? fallback(context) : fallback;
    return [{ key, source: { layer: 'default' }, where: `the default of ${key}`, raw }];
  });
  return { settings, issues: [] };
}

function fileSettings(file: ConfigFile | undefined): Found {
  const settings: Setting[] = [];
  const issues: ConfigIssue[] = [];
  if (file === undefined) return { settings, issues };
  for (const [name, raw] of Object.entries(file.values)) {
    const where = `${name} in ${file.label}`;
    if (!isConfigKey(name)) {
      issues.push({ where, message: `${where}: ${unknownName('key', name, CONFIG_KEY_NAMES)}` });
      continue;
    }
    // YAML writes "no value" as null (`redisUrl:`): leave the key to the layers below.
    if (raw !== null) settings.push({ key: name, source: { layer: 'file', name: file.label }, where, raw });
  }
  return { settings, issues };
}

const ENV_NAMES = CONFIG_KEY_NAMES.map((key) => CONFIG_KEYS[key].env);
const KEY_BY_ENV = new Map<string, ConfigKey>(CONFIG_KEY_NAMES.map((key) => [CONFIG_KEYS[key].env, key]));

function envSettings(env: Readonly<Record<string, string | undefined>>): Found {
  const settings: Setting[] = [];
  const issues: ConfigIssue[] = [];
  // Sorted so that messages come out in the same order whatever the environment's order.
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('BATON_') || name === 'BATON_CONFIG') continue;
    const key = KEY_BY_ENV.get(name);
    if (key === undefined) {
      issues.push({ where: name, message: `${name}: ${unknownName('variable', name, ENV_NAMES)}` });
      continue;
    }
    const raw = nonEmpty(env[name]);
    if (raw !== undefined) settings.push({ key, source: { layer: 'env', name }, where: name, raw });
  }
  return { settings, issues };
}

function flagSettings(flags: ConfigOverrides): Found {
  const settings: Setting[] = [];
  const issues: ConfigIssue[] = [];
  for (const [name, raw] of Object.entries(flags)) {
    if (!isConfigKey(name)) {
      issues.push({ where: name, message: `${name}: ${unknownName('key', name, CONFIG_KEY_NAMES)}` });
      continue;
    }
    const where = flagName(name) ?? name;
    if (raw !== undefined) settings.push({ key: name, source: { layer: 'flag', name: where }, where, raw });
  }
  return { settings, issues };
}

function unknownName(kind: 'key' | 'variable', name: string, known: readonly string[]): string {
  const suggestion = closestMatch(name, known);
  if (suggestion !== undefined) return `unknown configuration ${kind} (did you mean ${suggestion}?)`;
  return `unknown configuration ${kind}; known ${kind}s: ${known.join(', ')}`;
}

function invalidValueMessage(setting: Setting, error: InvalidValue): string {
  const spec = specOf(setting.key);
  const problem = error.problem === undefined ? '' : `${error.problem}; `;
  const shown = spec.secret === true ? REDACTED : showRaw(setting.raw);
  return `${setting.where}: ${problem}expected ${spec.accepts}, got ${shown}`;
}

// Only scalars are quoted back: a list or mapping could hold credentials anywhere inside.
function showRaw(raw: unknown): string {
  if (typeof raw === 'string') return JSON.stringify(redactUrl(raw));
  if (typeof raw === 'number' || typeof raw === 'boolean' || raw === null) return String(raw);
  return Array.isArray(raw) ? 'a list' : 'a mapping';
}

// Settings that are each valid but cannot work together; checked here so start-up fails early.
function authIssues(
  config: BatonConfig,
  applied: ReadonlyMap<ConfigKey, { setting: Setting }>,
): ConfigIssue[] {
  const authWhere = applied.get('auth')?.setting.where ?? 'auth';
  const issue = (message: string): ConfigIssue => ({
    where: authWhere,
    key: 'auth',
    message: `${authWhere}: ${message}`,
  });
  if (config.auth === 'token' && config.tokens === undefined) {
    return [issue('auth "token" needs tokens (BATON_TOKENS)')];
  }
  const jwtKeys = [config.jwtSecret, config.jwksUrl].filter((value) => value !== undefined).length;
  if (config.auth === 'jwt' && jwtKeys !== 1) {
    return [
      issue(
        'auth "jwt" needs exactly one of jwtSecret (BATON_JWT_SECRET, for HS256) or jwksUrl (BATON_JWKS_URL)',
      ),
    ];
  }
  return [];
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
