import pg from 'pg';
import type { QueryResultRow } from 'pg';
import { BatonError } from '../util/errors.ts';
import { ulid } from '../util/ids.ts';
import { decodeJsonSafe, encodeJsonSafe } from './json-safe.ts';
import type {
  MeteringStore,
  MeteringStoreOptions,
  SnapshotStore,
  StateSnapshot,
  StateSnapshotInput,
  UsageAggregate,
  UsageEvent,
  UsageEventInput,
  UsagePeriod,
  UsageQueryOptions,
} from './types.ts';
import {
  emptyAggregate,
  identifier,
  periodBounds,
  validateSnapshot,
  validateUsageEvent,
  validatePaging,
  validatePeriod,
  validateVersion,
  validDate,
} from './types.ts';

type Row = Record<string, unknown>;

/** SQLSTATEs meaning "the tables are not there": the schema was never migrated. */
const NOT_MIGRATED = new Set(['42P01', '3F000']);

/** A named statement: node-postgres prepares it once per connection. */
interface Statement {
  readonly name: string;
  readonly text: string;
}

function snapshotStatements(s: string, schema: string) {
  const statement = (key: string, text: string): Statement => ({ name: `asap_snap_${key}_${schema}`, text });
  return {
    save: statement(
      'save',
      `INSERT INTO ${s}.asap_snapshots (task_id, version, id, data, checkpoint, created_at)
        VALUES ($1, $2, $3, $4::json, $5, $6)
        ON CONFLICT (task_id, version) DO UPDATE SET
          id = excluded.id, data = excluded.data, checkpoint = excluded.checkpoint, created_at = excluded.created_at`,
    ),
    get: statement('get', `SELECT * FROM ${s}.asap_snapshots WHERE task_id = $1 AND version = $2`),
    latest: statement(
      'latest',
      `SELECT * FROM ${s}.asap_snapshots WHERE task_id = $1 ORDER BY version DESC LIMIT 1`,
    ),
    byId: statement(
      'by_id',
      `SELECT * FROM ${s}.asap_snapshots WHERE task_id = $1 AND id = $2 ORDER BY version DESC LIMIT 1`,
    ),
    versions: statement(
      'versions',
      `SELECT version FROM ${s}.asap_snapshots WHERE task_id = $1 ORDER BY version`,
    ),
    deleteOne: statement('delete_one', `DELETE FROM ${s}.asap_snapshots WHERE task_id = $1 AND version = $2`),
    deleteAll: statement('delete_all', `DELETE FROM ${s}.asap_snapshots WHERE task_id = $1`),
  };
}

function meteringStatements(s: string, schema: string) {
  const statement = (key: string, text: string): Statement => ({ name: `asap_usage_${key}_${schema}`, text });
  return {
    record: statement(
      'record',
      `INSERT INTO ${s}.asap_usage_events (id, task_id, agent_id, consumer_id, metrics, timestamp)
        VALUES ($1, $2, $3, $4, $5::jsonb, $6)`,
    ),
    // A null limit is no limit.
    query: statement(
      'query',
      `SELECT * FROM ${s}.asap_usage_events
        WHERE agent_id = $1 AND timestamp >= $2::timestamptz AND timestamp <= $3::timestamptz
        ORDER BY timestamp, id LIMIT $4::bigint OFFSET $5::bigint`,
    ),
    aggregate: statement(
      'aggregate',
      `SELECT count(*) AS tasks,
          coalesce(sum((metrics ->> 'tokens_in')::bigint + (metrics ->> 'tokens_out')::bigint), 0) AS tokens,
          coalesce(sum((metrics ->> 'duration_ms')::bigint), 0) AS duration,
          coalesce(sum((metrics ->> 'api_calls')::bigint), 0) AS api_calls
        FROM ${s}.asap_usage_events
        WHERE agent_id = $1 AND timestamp >= $2::timestamptz AND timestamp <= $3::timestamptz`,
    ),
  };
}

/** Runs statements on a pool the caller owns, naming the fix for a closed pool or an unmigrated schema. */
class Executor {
  readonly #pool: pg.Pool;
  readonly #schema: string;

  constructor(pool: pg.Pool, schema: string) {
    this.#pool = pool;
    this.#schema = schema;
  }

  async query(statement: Statement, values: unknown[]): Promise<pg.QueryResult<Row & QueryResultRow>> {
    if (this.#pool.ending) throw new BatonError('store_unavailable', 'the PostgreSQL store is closed');
    try {
      return await this.#pool.query<Row & QueryResultRow>({ ...statement, values });
    } catch (error) {
      throw this.#explain(error);
    }
  }

  #explain(error: unknown): unknown {
    if (error instanceof pg.DatabaseError) {
      if (error.code === undefined || !NOT_MIGRATED.has(error.code)) return error;
      return new BatonError(
        'store_unavailable',
        `the PostgreSQL schema "${this.#schema}" is not migrated: call migrate() first`,
        { cause: error },
      );
    }
    // Anything but a server's answer is the connection failing (refused, reset, pool ended).
    const message = error instanceof Error ? error.message : String(error);
    return new BatonError('store_unavailable', `PostgreSQL is unavailable: ${message}`, { cause: error });
  }
}

/**
 * ASAP state snapshots in `<schema>.asap_snapshots`. The pool belongs to the caller (the Baton
 * PostgreSQL store passes its own); `schema` is the unquoted schema name.
 */
export class PostgresSnapshotStore implements SnapshotStore {
  readonly #db: Executor;
  readonly #sql: ReturnType<typeof snapshotStatements>;

  constructor(pool: pg.Pool, schema: string) {
    this.#db = new Executor(pool, schema);
    this.#sql = snapshotStatements(pg.escapeIdentifier(schema), schema);
  }

  async save(input: StateSnapshotInput): Promise<StateSnapshot> {
    const snapshot = validateSnapshot(input);
    const data = JSON.stringify(encodeJsonSafe(snapshot.data, 'data'));
    await this.#db.query(this.#sql.save, [
      snapshot.task_id,
      snapshot.version,
      snapshot.id,
      data,
      snapshot.checkpoint,
      snapshot.created_at,
    ]);
    return snapshot;
  }

  async get(taskId: string, version?: number): Promise<StateSnapshot | undefined> {
    const task = identifier(taskId, 'task_id');
    const { rows } =
      version === undefined
        ? await this.#db.query(this.#sql.latest, [task])
        : await this.#db.query(this.#sql.get, [task, validateVersion(version)]);
    return rows[0] ? snapshotOf(rows[0]) : undefined;
  }

  async getById(taskId: string, snapshotId: string): Promise<StateSnapshot | undefined> {
    const values = [identifier(taskId, 'task_id'), identifier(snapshotId, 'snapshot_id')];
    const { rows } = await this.#db.query(this.#sql.byId, values);
    return rows[0] ? snapshotOf(rows[0]) : undefined;
  }

  async listVersions(taskId: string): Promise<number[]> {
    const { rows } = await this.#db.query(this.#sql.versions, [identifier(taskId, 'task_id')]);
    return rows.map((row) => Number(row.version));
  }

  async delete(taskId: string, version?: number): Promise<boolean> {
    const task = identifier(taskId, 'task_id');
    const result =
      version === undefined
        ? await this.#db.query(this.#sql.deleteAll, [task])
        : await this.#db.query(this.#sql.deleteOne, [task, validateVersion(version)]);
    return (result.rowCount ?? 0) > 0;
  }
}

/** ASAP usage events in `<schema>.asap_usage_events`, on a pool the caller owns. */
export class PostgresMeteringStore implements MeteringStore {
  readonly #db: Executor;
  readonly #sql: ReturnType<typeof meteringStatements>;
  readonly #now: () => number;

  constructor(pool: pg.Pool, schema: string, options: MeteringStoreOptions = {}) {
    this.#db = new Executor(pool, schema);
    this.#sql = meteringStatements(pg.escapeIdentifier(schema), schema);
    this.#now = options.now ?? Date.now;
  }

  async record(input: UsageEventInput): Promise<UsageEvent> {
    const event = validateUsageEvent(input);
    await this.#db.query(this.#sql.record, [
      `evt_${ulid()}`,
      event.task_id,
      event.agent_id,
      event.consumer_id,
      JSON.stringify(event.metrics),
      event.timestamp,
    ]);
    return event;
  }

  async query(agentId: string, start: Date, end: Date, options?: UsageQueryOptions): Promise<UsageEvent[]> {
    const agent = identifier(agentId, 'agent_id');
    const from = validDate(start, 'start');
    const to = validDate(end, 'end');
    const { limit, offset } = validatePaging(options);
    const { rows } = await this.#db.query(this.#sql.query, [agent, from, to, limit ?? null, offset]);
    return rows.map(usageEventOf);
  }

  async aggregate(agentId: string, period: UsagePeriod): Promise<UsageAggregate> {
    const agent = identifier(agentId, 'agent_id');
    const checked = validatePeriod(period);
    const bounds = periodBounds(checked, this.#now());
    const { rows } = await this.#db.query(this.#sql.aggregate, [
      agent,
      bounds ? new Date(bounds.start) : '-infinity',
      bounds ? new Date(bounds.end) : 'infinity',
    ]);
    const row = rows[0];
    if (!row) return emptyAggregate(agent, checked);
    return {
      agent_id: agent,
      period: checked,
      total_tokens: Number(row.tokens),
      total_duration: Number(row.duration),
      total_tasks: Number(row.tasks),
      total_api_calls: Number(row.api_calls),
    };
  }
}

function snapshotOf(row: Row): StateSnapshot {
  return {
    id: String(row.id),
    task_id: String(row.task_id),
    version: Number(row.version),
    data: decodeJsonSafe(parsedJson(row.data), 'data') as Record<string, unknown>,
    checkpoint: row.checkpoint === true,
    created_at: dateOf(row.created_at),
  };
}

function usageEventOf(row: Row): UsageEvent {
  return {
    task_id: String(row.task_id),
    agent_id: String(row.agent_id),
    consumer_id: String(row.consumer_id),
    metrics: parsedJson(row.metrics) as UsageEvent['metrics'],
    timestamp: dateOf(row.timestamp),
  };
}

/** node-postgres parses json, jsonb and timestamptz by default; a pool with its own parsers may not. */
function parsedJson(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

function dateOf(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value));
}
