import type { DatabaseSync, StatementSync } from 'node:sqlite';
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

const SNAPSHOT_SQL = {
  save: `INSERT INTO asap_snapshots (task_id, version, id, data, checkpoint, created_at)
    VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (task_id, version) DO UPDATE SET
      id = excluded.id, data = excluded.data, checkpoint = excluded.checkpoint, created_at = excluded.created_at`,
  get: `SELECT * FROM asap_snapshots WHERE task_id = ? AND version = ?`,
  latest: `SELECT * FROM asap_snapshots WHERE task_id = ? ORDER BY version DESC LIMIT 1`,
  byId: `SELECT * FROM asap_snapshots WHERE task_id = ? AND id = ? ORDER BY version DESC LIMIT 1`,
  versions: `SELECT version FROM asap_snapshots WHERE task_id = ? ORDER BY version`,
  deleteOne: `DELETE FROM asap_snapshots WHERE task_id = ? AND version = ?`,
  deleteAll: `DELETE FROM asap_snapshots WHERE task_id = ?`,
} as const;

const METERING_SQL = {
  record: `INSERT INTO asap_usage_events (id, task_id, agent_id, consumer_id, metrics, timestamp)
    VALUES (?, ?, ?, ?, ?, ?)`,
  // LIMIT -1 is SQLite for "no limit".
  query: `SELECT * FROM asap_usage_events
    WHERE agent_id = ? AND timestamp >= ? AND timestamp <= ?
    ORDER BY timestamp, id LIMIT ? OFFSET ?`,
  aggregate: `SELECT count(*) AS tasks,
      coalesce(sum(json_extract(metrics, '$.tokens_in') + json_extract(metrics, '$.tokens_out')), 0) AS tokens,
      coalesce(sum(json_extract(metrics, '$.duration_ms')), 0) AS duration,
      coalesce(sum(json_extract(metrics, '$.api_calls')), 0) AS api_calls
    FROM asap_usage_events WHERE agent_id = ? AND timestamp >= ? AND timestamp <= ?`,
} as const;

/**
 * Statements prepared on first use: the store is built with its connection, before `migrate()`
 * has created the tables.
 */
class Statements<K extends string> {
  readonly #db: DatabaseSync;
  readonly #sql: Readonly<Record<K, string>>;
  #prepared: Record<K, StatementSync> | undefined;

  constructor(db: DatabaseSync, sql: Readonly<Record<K, string>>) {
    this.#db = db;
    this.#sql = sql;
  }

  /** Runs `work` with the statements; a closed or unmigrated database is `store_unavailable`. */
  run<T>(work: (sql: Record<K, StatementSync>) => T): Promise<T> {
    try {
      return Promise.resolve(work(this.#statements()));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #statements(): Record<K, StatementSync> {
    if (!this.#db.isOpen) throw new BatonError('store_unavailable', 'the SQLite store is closed');
    if (this.#prepared) return this.#prepared;
    const prepared = {} as Record<K, StatementSync>;
    try {
      for (const key of Object.keys(this.#sql) as K[]) prepared[key] = this.#db.prepare(this.#sql[key]);
    } catch (error) {
      if (error instanceof Error && /no such table/.test(error.message))
        throw new BatonError('store_unavailable', 'the SQLite store is not migrated: call migrate() first', {
          cause: error,
        });
      throw error;
    }
    this.#prepared = prepared;
    return prepared;
  }
}

/** ASAP state snapshots in the `asap_snapshots` table of a Baton SQLite database. */
export class SqliteSnapshotStore implements SnapshotStore {
  readonly #sql: Statements<keyof typeof SNAPSHOT_SQL>;

  constructor(db: DatabaseSync) {
    this.#sql = new Statements(db, SNAPSHOT_SQL);
  }

  save(input: StateSnapshotInput): Promise<StateSnapshot> {
    return this.#sql.run((sql) => {
      const snapshot = validateSnapshot(input);
      const data = JSON.stringify(encodeJsonSafe(snapshot.data, 'data'));
      sql.save.run(
        snapshot.task_id,
        snapshot.version,
        snapshot.id,
        data,
        snapshot.checkpoint ? 1 : 0,
        snapshot.created_at.getTime(),
      );
      return snapshot;
    });
  }

  get(taskId: string, version?: number): Promise<StateSnapshot | undefined> {
    return this.#sql.run((sql) => {
      const task = identifier(taskId, 'task_id');
      const row = version === undefined ? sql.latest.get(task) : sql.get.get(task, validateVersion(version));
      return row ? snapshotOf(row) : undefined;
    });
  }

  getById(taskId: string, snapshotId: string): Promise<StateSnapshot | undefined> {
    return this.#sql.run((sql) => {
      const row = sql.byId.get(identifier(taskId, 'task_id'), identifier(snapshotId, 'snapshot_id'));
      return row ? snapshotOf(row) : undefined;
    });
  }

  listVersions(taskId: string): Promise<number[]> {
    return this.#sql.run((sql) =>
      sql.versions.all(identifier(taskId, 'task_id')).map((row) => Number(row.version)),
    );
  }

  delete(taskId: string, version?: number): Promise<boolean> {
    return this.#sql.run((sql) => {
      const task = identifier(taskId, 'task_id');
      const result =
        version === undefined ? sql.deleteAll.run(task) : sql.deleteOne.run(task, validateVersion(version));
      return Number(result.changes) > 0;
    });
  }
}

/** ASAP usage events in the `asap_usage_events` table of a Baton SQLite database. */
export class SqliteMeteringStore implements MeteringStore {
  readonly #sql: Statements<keyof typeof METERING_SQL>;
  readonly #now: () => number;

  constructor(db: DatabaseSync, options: MeteringStoreOptions = {}) {
    this.#sql = new Statements(db, METERING_SQL);
    this.#now = options.now ?? Date.now;
  }

  record(input: UsageEventInput): Promise<UsageEvent> {
    return this.#sql.run((sql) => {
      const event = validateUsageEvent(input);
      sql.record.run(
        `evt_${ulid()}`,
        event.task_id,
        event.agent_id,
        event.consumer_id,
        JSON.stringify(event.metrics),
        event.timestamp.getTime(),
      );
      return event;
    });
  }

  query(agentId: string, start: Date, end: Date, options?: UsageQueryOptions): Promise<UsageEvent[]> {
    return this.#sql.run((sql) => {
      const agent = identifier(agentId, 'agent_id');
      const from = validDate(start, 'start').getTime();
      const to = validDate(end, 'end').getTime();
      const { limit, offset } = validatePaging(options);
      return sql.query.all(agent, from, to, limit ?? -1, offset).map(usageEventOf);
    });
  }

  aggregate(agentId: string, period: UsagePeriod): Promise<UsageAggregate> {
    return this.#sql.run((sql) => {
      const agent = identifier(agentId, 'agent_id');
      const checked = validatePeriod(period);
      const bounds = periodBounds(checked, this.#now());
      const row = sql.aggregate.get(
        agent,
        bounds?.start ?? Number.MIN_SAFE_INTEGER,
        bounds?.end ?? Number.MAX_SAFE_INTEGER,
      );
      if (!row) return emptyAggregate(agent, checked);
      return {
        agent_id: agent,
        period: checked,
        total_tokens: Number(row.tokens),
        total_duration: Number(row.duration),
        total_tasks: Number(row.tasks),
        total_api_calls: Number(row.api_calls),
      };
    });
  }
}

function snapshotOf(row: Row): StateSnapshot {
  return {
    id: String(row.id),
    task_id: String(row.task_id),
    version: Number(row.version),
    data: decodeJsonSafe(JSON.parse(String(row.data)), 'data') as Record<string, unknown>,
    checkpoint: Number(row.checkpoint) === 1,
    created_at: new Date(Number(row.created_at)),
  };
}

function usageEventOf(row: Row): UsageEvent {
  return {
    task_id: String(row.task_id),
    agent_id: String(row.agent_id),
    consumer_id: String(row.consumer_id),
    metrics: JSON.parse(String(row.metrics)) as UsageEvent['metrics'],
    timestamp: new Date(Number(row.timestamp)),
  };
}
