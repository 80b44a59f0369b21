// The ASAP protocol's state objects (asap-wire §7), with the wire's snake_case field names, and
// the checks every store runs before it writes anything.
import { ValidationError } from '../util/errors.ts';

/** A version of a task's state. `(task_id, version)` identifies it; saving the same pair replaces it. */
export interface StateSnapshot {
  /** Conventionally `snap_<ULID>`. */
  id: string;
  task_id: string;
  /** Chosen by the caller, ≥ 1. */
  version: number;
  /** Any object: Date, Map, Set, BigInt, NaN and `undefined` values come back as they went in. */
  data: Record<string, unknown>;
  checkpoint: boolean;
  created_at: Date;
}

/** A snapshot as callers save it: `checkpoint` defaults to false. */
export type StateSnapshotInput = Omit<StateSnapshot, 'checkpoint'> & { checkpoint?: boolean };

/** What one task cost; every count is an integer ≥ 0. */
export interface UsageMetrics {
  tokens_in: number;
  tokens_out: number;
  duration_ms: number;
  api_calls: number;
}

export interface UsageEvent {
  task_id: string;
  agent_id: string;
  consumer_id: string;
  metrics: UsageMetrics;
  timestamp: Date;
}

/** A usage event as callers record it: missing metrics default to 0. */
export type UsageEventInput = Omit<UsageEvent, 'metrics'> & { metrics?: Partial<UsageMetrics> };

/**
 * Aggregation windows, each ending now: the last 60 minutes, 24 hours, since UTC midnight, the
 * last 7 days, the last 30 days, or all time.
 */
export const USAGE_PERIODS = ['hour', 'day', 'today', 'week', 'month', 'all'] as const;
export type UsagePeriod = (typeof USAGE_PERIODS)[number];

export interface UsageAggregate {
  agent_id: string;
  period: UsagePeriod;
  /** tokens_in + tokens_out. */
  total_tokens: number;
  /** Sum of duration_ms. */
  total_duration: number;
  /** Number of events. */
  total_tasks: number;
  total_api_calls: number;
}

export interface UsageQueryOptions {
  /** At most this many events (an integer ≥ 0); all when omitted. */
  limit?: number;
  /** Skips this many events first (an integer ≥ 0). Default 0. */
  offset?: number;
}

export interface MeteringStoreOptions {
  /** The clock `aggregate` measures periods from, in epoch ms. Default `Date.now`. */
  now?: () => number;
}

/** Versions of each task's state. Every method validates its arguments (ValidationError). */
export interface SnapshotStore {
  /** Upserts by (task_id, version) and returns the snapshot as stored. */
  save(snapshot: StateSnapshotInput): Promise<StateSnapshot>;
  /** The given version, or the highest one when `version` is omitted. */
  get(taskId: string, version?: number): Promise<StateSnapshot | undefined>;
  /** The snapshot of the task with this id (the highest version if several share it). */
  getById(taskId: string, snapshotId: string): Promise<StateSnapshot | undefined>;
  /** The task's versions, ascending (`[]` when none). */
  listVersions(taskId: string): Promise<number[]>;
  /** Deletes one version, or every version when omitted; true if anything was deleted. */
  delete(taskId: string, version?: number): Promise<boolean>;
}

/** Usage events per agent. Every method validates its arguments (ValidationError). */
export interface MeteringStore {
  /** Appends one event and returns it as stored (metrics defaults filled in). */
  record(event: UsageEventInput): Promise<UsageEvent>;
  /** The agent's events with start ≤ timestamp ≤ end, oldest first (ties in recording order). */
  query(agentId: string, start: Date, end: Date, options?: UsageQueryOptions): Promise<UsageEvent[]>;
  /** Totals of the agent's events in the period (zeros when none). */
  aggregate(agentId: string, period: UsagePeriod): Promise<UsageAggregate>;
}

/** The ASAP state stores a Baton store carries (`store.state`). */
export interface StateStores {
  readonly snapshots: SnapshotStore;
  readonly metering: MeteringStore;
}

/** The largest version both backends store (PostgreSQL `integer`). */
const MAX_VERSION = 2 ** 31 - 1;
const SNAPSHOT_FIELDS = new Set(['id', 'task_id', 'version', 'data', 'checkpoint', 'created_at']);
const EVENT_FIELDS = new Set(['task_id', 'agent_id', 'consumer_id', 'metrics', 'timestamp']);
const METRIC_FIELDS = ['tokens_in', 'tokens_out', 'duration_ms', 'api_calls'] as const;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Checks a snapshot before it is saved and fills in defaults. */
export function validateSnapshot(input: unknown): StateSnapshot {
  const value = record(input, 'snapshot');
  unknownFields(value, SNAPSHOT_FIELDS, 'snapshot');
  const checkpoint = value.checkpoint ?? false;
  if (typeof checkpoint !== 'boolean')
    throw invalid('checkpoint', `checkpoint must be true or false, got ${describe(checkpoint)}`);
  const data = value.data;
  if (!isPlainObject(data)) throw invalid('data', `data must be an object, got ${describe(data)}`);
  return {
    id: identifier(value.id, 'id'),
    task_id: identifier(value.task_id, 'task_id'),
    version: validateVersion(value.version),
    data: data,
    checkpoint,
    created_at: validDate(value.created_at, 'created_at'),
  };
}

/** Checks a usage event before it is recorded and fills in metrics defaults. */
export function validateUsageEvent(input: unknown): UsageEvent {
  const value = record(input, 'usage event');
  unknownFields(value, EVENT_FIELDS, 'usage event');
  const metricsInput = value.metrics === undefined ? {} : record(value.metrics, 'metrics');
  unknownFields(metricsInput, new Set(METRIC_FIELDS), 'metrics');
  const metrics = {} as UsageMetrics;
  for (const field of METRIC_FIELDS) {
    const count = metricsInput[field] ?? 0;
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0)
      throw invalid(`metrics.${field}`, `metrics.${field} must be an integer ≥ 0, got ${describe(count)}`);
    metrics[field] = count;
  }
  return {
    task_id: identifier(value.task_id, 'task_id'),
    agent_id: identifier(value.agent_id, 'agent_id'),
    consumer_id: identifier(value.consumer_id, 'consumer_id'),
    metrics,
    timestamp: validDate(value.timestamp, 'timestamp'),
  };
}

/** A non-empty string id (task, agent, snapshot). */
export function identifier(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0)
    throw invalid(name, `${name} must be a non-empty string, got ${describe(value)}`);
  return value;
}

export function validateVersion(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_VERSION)
    throw invalid('version', `version must be an integer from 1 to ${MAX_VERSION}, got ${describe(value)}`);
  return value;
}

export function validDate(value: unknown, name: string): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime()))
    throw invalid(name, `${name} must be a valid Date, got ${describe(value)}`);
  return value;
}

/** The limit (undefined for "all") and offset of a query. */
export function validatePaging(options: UsageQueryOptions = {}): {
  limit: number | undefined;
  offset: number;
} {
  const { limit, offset = 0 } = options;
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0))
    throw invalid('limit', `limit must be an integer ≥ 0, got ${describe(limit)}`);
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw invalid('offset', `offset must be an integer ≥ 0, got ${describe(offset)}`);
  return { limit, offset };
}

export function validatePeriod(value: unknown): UsagePeriod {
  if (typeof value === 'string' && (USAGE_PERIODS as readonly string[]).includes(value))
    return value as UsagePeriod;
  throw invalid('period', `period must be one of ${USAGE_PERIODS.join(', ')}; got ${describe(value)}`);
}

/**
 * The epoch-ms bounds of a period at `now`: [start, now], both inclusive; `all` is unbounded
 * (undefined), so it also counts events timestamped in the future.
 */
export function periodBounds(period: UsagePeriod, now: number): { start: number; end: number } | undefined {
  switch (period) {
    case 'hour':
      return { start: now - HOUR_MS, end: now };
    case 'day':
      return { start: now - DAY_MS, end: now };
    case 'today':
      return { start: now - (((now % DAY_MS) + DAY_MS) % DAY_MS), end: now };
    case 'week':
      return { start: now - 7 * DAY_MS, end: now };
    case 'month':
      return { start: now - 30 * DAY_MS, end: now };
    case 'all':
      return undefined;
    default:
      return unreachable(period);
  }
}

/** Totals with every count at zero. */
export function emptyAggregate(agentId: string, period: UsagePeriod): UsageAggregate {
  return {
    agent_id: agentId,
    period,
    total_tokens: 0,
    total_duration: 0,
    total_tasks: 0,
    total_api_calls: 0,
  };
}

function unreachable(value: never): never {
  throw new Error(`Internal error: unhandled period ${String(value)}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function record(value: unknown, name: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw invalid(name, `${name} must be an object, got ${describe(value)}`);
  return value as Record<string, unknown>;
}

function unknownFields(value: Record<string, unknown>, known: ReadonlySet<string>, name: string): void {
  const extra = Object.keys(value).filter((key) => !known.has(key));
  if (extra.length > 0)
    throw invalid(
      extra[0]!,
      `${name} has unknown field${extra.length > 1 ? 's' : ''} ${extra.join(', ')}; expected only ${[...known].join(', ')}`,
    );
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid Date' : 'a Date';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return `${String(value)}${typeof value === 'bigint' ? 'n' : ''}`;
  return typeof value === 'object' ? `a ${value.constructor?.name ?? 'null-prototype'} object` : typeof value;
}

function invalid(path: string, message: string): ValidationError {
  return new ValidationError(message, [{ path, message }]);
}
