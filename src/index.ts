/**
 * Baton: durable, resilient workflows. The engine, its configuration, and the store seam for
 * custom deployments. See the README for a tour.
 */
export * from './engine/index.ts';
export {
  ConfigError,
  isConfigError,
  loadConfig,
  redactConfig,
  redactUrl,
  resolveConfig,
  type BatonConfig,
  type LoadConfigOptions,
  type ResolvedConfig,
} from './config/index.ts';
export {
  openStore,
  PostgresStore,
  SqliteStore,
  type PostgresStoreOptions,
  type SqliteStoreOptions,
  type Store,
} from './storage/index.ts';
export {
  decodeJsonSafe,
  encodeJsonSafe,
  USAGE_PERIODS,
  type JsonValue,
  type MeteringStore,
  type SnapshotStore,
  type StateSnapshot,
  type StateSnapshotInput,
  type StateStores,
  type UsageAggregate,
  type UsageEvent,
  type UsageEventInput,
  type UsageMetrics,
  type UsagePeriod,
  type UsageQueryOptions,
} from './state/index.ts';
export {
  BatonError,
  ConflictError,
  NotFoundError,
  ValidationError,
  isBatonError,
  type ErrorCode,
} from './util/errors.ts';
