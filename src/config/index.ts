/**
 * Baton's layered configuration (SPEC §1): defaults → config file → `BATON_*` environment →
 * CLI flags, later wins, resolved once into a deeply frozen, typed object.
 *
 * @example
 * const config = loadConfig({ flags: { port: '9000' } });
 * logger.info({ config: redactConfig(config) }, 'starting');
 *
 * @module
 */
export { ConfigError, isConfigError } from './errors.ts';
export type { ConfigIssue } from './errors.ts';
export { renderConfigReference } from './docs.ts';
export { CONFIG_KEY_NAMES, CONFIG_KEYS, PERMISSIONS } from './keys.ts';
export type { AuthMode, BatonConfig, ConfigKey, LogFormat, LogLevel, Permission } from './keys.ts';
export type { AccessToken, RateLimitRule } from './parsers.ts';
export { redactConfig } from './redact-config.ts';
export { REDACTED, redactUrl } from './redact.ts';
export { loadConfig, resolveConfig } from './resolve.ts';
export type {
  ConfigLayer,
  ConfigOverrides,
  ConfigSource,
  LoadConfigOptions,
  ResolvedConfig,
} from './resolve.ts';
