import pg from 'pg';
import type { CustomTypesConfig, PoolClient, QueryResultRow } from 'pg';
import { PostgresMeteringStore, PostgresSnapshotStore } from '../../state/postgres.ts';
import type { StateStores } from '../../state/types.ts';
import { BatonError, ValidationError } from '../../util/errors.ts';
import { stepStartedEvent, taskStartedEvent } from '../claim-events.ts';
import type { DeadLetterRow, EventDraft, EventRecord, TaskRow, TaskState, TaskStatus } from '../records.ts';
import { TASK_STATUSES } from '../records.ts';
import type {
  ClaimRequest,
  ClaimResult,
  ClaimedStep,
  CreateTaskResult,
  DeadLetterQuery,
  EventQuery,
  LeaseRef,
  Page,
  Store,
  StoreStats,
  TaskChange,
  TaskDraft,
  TaskPlanner,
  TaskQuery,
} from '../store.ts';
import { applyPostgresMigrations } from './migrate.ts';
import { WakeChannel } from './wake-channel.ts';
import {
  deadLetterValues,
  eventValues,
  page,
  stepInsertValues,
  stepUpdateValues,
  taskUpdateValues,
  taskValues,
  type Row,
  type SqlValue,
} from '../rows.ts';
import {
  columns,
  DEAD_LETTER_WIDTH,
  EVENT_WIDTH,
  jsonToSteps,
  pgRows,
  STEP_INSERT_WIDTH,
  STEP_UPDATE_WIDTH,
  TASK_INSERT_WIDTH,
  TASK_UPDATE_WIDTH,
  withSeqs,
} from './rows.ts';
import { statements } from './statements.ts';
import type { Statement, Statements } from './statements.ts';

export interface PostgresStoreOptions {
  /** A `postgres://` or `postgresql://` URL. */
  connectionString: string;
  /** Most connections the store's pool opens at once. Default 10. */
  max?: number;
  /**
   * Schema holding every Baton table (created by `migrate()` when missing). Default `baton`.
   * Lowercase letters, digits and `_`, starting with a letter or `_`. Several Baton deployments
   * may share one database under different schemas.
   */
  schema?: string;
  /**
   * Called with errors of idle pooled connections (e.g. the server restarted). Such a connection
   * is discarded and replaced on next use; the default ignores the error.
   */
  onError?: (error: Error) => void;
  /** The clock of `state.metering` periods, in epoch ms. Default `Date.now`. */
  now?: () => number;
}

// Times are whole epoch milliseconds in bigint columns. Time bounds a caller passes (claim,
// lease and expiry times) may be fractional, which SQLite accepts; they are rounded in the
// direction that keeps each comparison exact, and a lease is never made shorter than asked.

const DEFAULT_SCHEMA = 'baton';
/** The 'error' listener of each checked-out client, removed when it goes back to the pool. */
const checkedOut = new WeakMap<PoolClient, (error: Error) => void>();
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const INT8_OID = 20;

/**
 * Epoch-ms times, step ids and seqs are `bigint` columns; node-postgres returns those as strings
 * by default, so this pool parses them to numbers (all fit in 2^53). The parser is set on the
 * pool only, never globally, so other pg users in the process are unaffected.
 */
const TYPES: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
    oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format)) as CustomTypesConfig['getTypeParser'],
};

/** The name of a statement built per call (filters vary): not prepared, planned each time. */
const UNNAMED = '';

/** SQLSTATEs meaning "the tables are not there": the schema was never migrated. */
const NOT_MIGRATED = new Set(['42P01', '3F000']);

/**
 * The shared store on PostgreSQL: any number of Baton processes on one database split the work.
 * Claims use `FOR UPDATE SKIP LOCKED`, so workers never wait for each other or claim a step twice;
 * `updateTasks` locks its tasks, so the two branches of a diamond cannot both miss the join. The
 * store owns its `pg.Pool`; `close()` ends it. Unlike the SQLite store it works without calling
 * `migrate()` when another process has migrated the schema.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres';
  /** The schema holding the tables, unquoted. */
  readonly schema: string;
  readonly state: StateStores;
  readonly #pool: pg.Pool;
  readonly #sql: Statements;
  readonly #quotedSchema: string;
  readonly #wake: WakeChannel;
  readonly #onError: (error: Error) => void;
  #closed = false;

  constructor(options: PostgresStoreOptions) {
    this.schema = options.schema ?? DEFAULT_SCHEMA;
    if (!SCHEMA_NAME.test(this.schema))
      throw new ValidationError(
        `invalid PostgreSQL schema "${this.schema}": use lowercase letters, digits and _ (at most 63), not starting with a digit`,
      );
    this.#quotedSchema = pg.escapeIdentifier(this.schema);
    this.#sql = statements(this.#quotedSchema);
    this.#pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.max ?? 10,
      types: TYPES,
      // Names Baton's sessions in pg_stat_activity unless the URL sets application_name.
      fallback_application_name: 'baton',
      options: sessionOptions(),
    });
    // An idle client that loses its connection emits 'error' on the pool; with no listener that
    // is an unhandled 'error' event and the process dies. The pool discards the client anyway.
    this.#onError = options.onError ?? (() => {});
    this.#pool.on('error', (error) => this.#onError(error));
    this.#wake = new WakeChannel(options.connectionString, `baton_wake_${this.schema}`, this.#onError);
    this.state = {
      snapshots: new PostgresSnapshotStore(this.#pool, this.schema),
      metering: new PostgresMeteringStore(this.#pool, this.schema, options.now ? { now: options.now } : {}),
    };
  }

  /**
   * Wake-ups from every process on this schema (LISTEN/NOTIFY): tasks created or steps made ready
   * elsewhere start within milliseconds instead of at the next poll.
   */
  onWake(listener: () => void): () => void {
    return this.#wake.subscribe(listener);
  }

  async migrate(): Promise<{ applied: string[] }> {
    const client = await this.#connect();
    try {
      return { applied: await applyPostgresMigrations(client, this.#quotedSchema) };
    } finally {
      this.#release(client);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake.close();
    await this.#pool.end();
  }

  async ping(): Promise<void> {
    await this.#query({ name: 'baton_ping', text: 'SELECT 1' }, []);
  }

  async createTasks(drafts: readonly TaskDraft[]): Promise<CreateTaskResult[]> {
    if (drafts.length === 0) return [];
    // Each event carries the 1-based position of its draft, so the statement can drop the events
    // of drafts that were not created.
    const events = drafts.flatMap((draft, i) => draft.events.map((event) => [...eventValues(event), i + 1]));
    const { rows } = await this.#query(this.#sql.createTasks, [
      ...columns(
        drafts.map((draft) => taskValues(draft.task)),
        TASK_INSERT_WIDTH,
      ),
      ...columns(
        drafts.flatMap((draft) => draft.steps.map(stepInsertValues)),
        STEP_INSERT_WIDTH,
      ),
      ...columns(events, EVENT_WIDTH + 1),
    ]);
    const row = rows[0]!;
    const created = new Map<string, TaskState>();
    for (const task of (row.tasks ?? []) as Row[])
      created.set(String(task.id), { task: pgRows.task(task), steps: jsonToSteps(task.steps) });
    const drafted = drafts.filter((draft) => created.has(draft.task.id));
    const records = withSeqs(
      drafted.flatMap((draft) => draft.events),
      row.seqs as unknown[],
    );
    if (created.size > 0) this.#wakeOthers();
    const existing = await this.#existingTasks(drafts.filter((draft) => !created.has(draft.task.id)));
    return drafts.map((draft) => {
      const state = created.get(draft.task.id);
      if (state) return { state, created: true, events: records.splice(0, draft.events.length) };
      return { state: existing.get(keyOf(draft.task))!, created: false, events: [] };
    });
  }

  async claimSteps(request: ClaimRequest): Promise<ClaimResult> {
    if (request.limit <= 0 || request.handlers.length === 0) return { claimed: [], events: [] };
    // `run_at <= now` on whole milliseconds: flooring a fractional now selects the same rows.
    const now = Math.floor(request.now);
    // One statement, so atomic without a transaction around it (see `claim` in statements.ts).
    const { rows } = await this.#query(this.#sql.claim, [
      request.workerId,
      Math.ceil(request.now + request.leaseMs),
      now,
      request.handlers,
      request.limit,
    ]);
    if (rows.length === 0) return { claimed: [], events: [] };
    const { claimed, drafts } = claimedSteps(rows, now);
    return { claimed, events: withSeqs(drafts, (rows[0]!.event_seqs ?? []) as unknown[]) };
  }

  async renewLeases(workerId: string, leases: readonly LeaseRef[], leaseUntil: number): Promise<LeaseRef[]> {
    if (leases.length === 0) return [];
    const { rows } = await this.#query(this.#sql.renewLeases, [
      workerId,
      Math.ceil(leaseUntil),
      leases.map((lease) => lease.stepId),
      leases.map((lease) => lease.attempt),
    ]);
    const held = new Set(rows.map((row) => `${String(row.id)}:${String(row.attempts)}`));
    return leases.filter((lease) => !held.has(`${lease.stepId}:${lease.attempt}`));
  }

  async findExpiredLeases(now: number, limit: number): Promise<LeaseRef[]> {
    // `lease_until < now` on whole milliseconds: the ceiling of a fractional now is exact.
    const { rows } = await this.#query(this.#sql.expiredLeases, [Math.ceil(now), limit]);
    return rows.map((row) => ({
      stepId: Number(row.id),
      taskId: String(row.task_id),
      attempt: Number(row.attempts),
    }));
  }

  async nextRunAt(handlers: readonly string[]): Promise<number | null> {
    if (handlers.length === 0) return null;
    const { rows } = await this.#query(this.#sql.nextRunAt, [handlers]);
    const runAt = rows[0]?.run_at;
    return runAt === null || runAt === undefined ? null : Number(runAt);
  }

  async updateTasks(taskIds: readonly string[], planner: TaskPlanner): Promise<EventRecord[]> {
    const ids = [...new Set(taskIds)];
    if (ids.length === 0) return [];
    let wake = false;
    const events = await this.#transaction(async (client) => {
      const states = await this.#lockStates(client, ids);
      const changes: TaskChange[] = [];
      // Planned in the caller's order (not lock order), so events come out as SQLite's do.
      for (const id of ids) {
        const state = states.get(id);
        const change = state ? planner(state) : null;
        if (change) changes.push(change);
      }
      wake = makesStepsRunnable(changes);
      return this.#applyChanges(client, changes);
    });
    // After the commit, so a woken worker finds the steps.
    if (wake) this.#wakeOthers();
    return events;
  }

  /** One NOTIFY per batch, never per step: NOTIFY serialises commits server-wide. */
  #wakeOthers(): void {
    if (this.#closed) return;
    this.#pool
      .query({ name: 'baton_wake', text: 'SELECT pg_notify($1, $2)', values: [this.#wake.channel, ''] })
      .catch((error: unknown) => this.#onError(error instanceof Error ? error : new Error(String(error))));
  }

  appendEvents(events: readonly EventDraft[]): Promise<EventRecord[]> {
    if (events.length === 0) return Promise.resolve([]);
    return this.#withClient((client) => this.#insertEvents(client, events));
  }

  async getTask(id: string): Promise<TaskState | undefined> {
    const { rows } = await this.#query(this.#sql.taskState, [id]);
    const row = rows[0];
    return row ? { task: pgRows.task(row), steps: jsonToSteps(row.steps) } : undefined;
  }

  async listTasks(query: TaskQuery): Promise<Page<TaskRow>> {
    const where: string[] = [];
    const values: SqlValue[] = [];
    const filters: [string, string | undefined][] = [
      ['status =', query.status],
      ['namespace =', query.namespace],
      ['name =', query.name],
      ['id <', query.cursor],
    ];
    for (const [condition, value] of filters) {
      if (value === undefined) continue;
      values.push(value);
      where.push(`${condition} $${values.length}`);
    }
    values.push(query.limit + 1);
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const text = `SELECT * FROM ${this.#quotedSchema}.tasks ${clause} ORDER BY id DESC LIMIT $${values.length}`;
    const { rows } = await this.#query({ name: UNNAMED, text }, values);
    return page(rows.map(pgRows.task), query.limit, (task) => task.id);
  }

  /**
   * Events ordered by seq. Seqs are taken at insert, not at commit, so a concurrent transaction
   * can still commit a seq lower than one already listed (see `0001_init.sql`).
   */
  async listEvents(query: EventQuery): Promise<EventRecord[]> {
    const after = query.afterSeq ?? 0;
    const { rows } =
      query.taskId === undefined
        ? await this.#query(this.#sql.eventsAfter, [after, query.limit])
        : await this.#query(this.#sql.taskEventsAfter, [query.taskId, after, query.limit]);
    return rows.map(pgRows.event);
  }

  async listDeadLetters(query: DeadLetterQuery): Promise<Page<DeadLetterRow>> {
    const where = [query.includeClosed ? 'true' : 'closed_at IS NULL'];
    const values: SqlValue[] = [];
    if (query.cursor !== undefined) {
      values.push(query.cursor);
      where.push(`id < $${values.length}`);
    }
    values.push(query.limit + 1);
    const text = `SELECT * FROM ${this.#quotedSchema}.dead_letters WHERE ${where.join(' AND ')}
      ORDER BY id DESC LIMIT $${values.length}`;
    const { rows } = await this.#query({ name: UNNAMED, text }, values);
    return page(rows.map(pgRows.deadLetter), query.limit, (entry) => entry.id);
  }

  async getDeadLetter(id: string): Promise<DeadLetterRow | undefined> {
    const { rows } = await this.#query(this.#sql.deadLetterById, [id]);
    return rows[0] ? pgRows.deadLetter(rows[0]) : undefined;
  }

  async stats(): Promise<StoreStats> {
    const { rows } = await this.#query(this.#sql.stats, []);
    const row = rows[0]!;
    const counts = (row.tasks ?? {}) as Record<string, number>;
    const tasks = Object.fromEntries(TASK_STATUSES.map((status) => [status, Number(counts[status] ?? 0)]));
    return {
      tasks: tasks as Record<TaskStatus, number>,
      readySteps: Number(row.ready),
      runningSteps: Number(row.running),
      openDeadLetters: Number(row.open_dead_letters),
    };
  }

  // ── internals ──────────────────────────────────────────────────────────────

  /**
   * The tasks that hold the idempotency keys of drafts that were not created. Read after the
   * insert committed: the winner of a race on a key had committed by then (ON CONFLICT waited).
   */
  async #existingTasks(drafts: readonly TaskDraft[]): Promise<Map<string, TaskState>> {
    const found = new Map<string, TaskState>();
    if (drafts.length === 0) return found;
    const { rows } = await this.#query(this.#sql.tasksByIdempotencyKey, [
      drafts.map((draft) => draft.task.namespace),
      drafts.map((draft) => draft.task.name),
      drafts.map((draft) => draft.task.idempotencyKey),
    ]);
    for (const row of rows) {
      const task = pgRows.task(row);
      found.set(keyOf(task), { task, steps: jsonToSteps(row.steps) });
    }
    for (const draft of drafts)
      if (!found.has(keyOf(draft.task)))
        throw new Error(`Internal error: task ${draft.task.id} was neither created nor found by its key`);
    return found;
  }

  /** Locks the tasks (by id) and then their steps, and returns each task's state. */
  async #lockStates(client: PoolClient, ids: readonly string[]): Promise<Map<string, TaskState>> {
    const states = new Map<string, TaskState>();
    const { rows } = await query(client, this.#sql.lockStates, [ids]);
    for (const row of rows) {
      const id = String(row.task_row_id);
      let state = states.get(id);
      if (!state) {
        state = { task: lockedTask(row), steps: [] };
        states.set(id, state);
      }
      if (row.id !== null) state.steps.push(pgRows.step(row));
    }
    for (const state of states.values()) state.steps.sort((a, b) => a.position - b.position);
    return states;
  }

  /** Writes every change in one statement (see `applyChanges` in statements.ts). */
  async #applyChanges(client: PoolClient, changes: readonly TaskChange[]): Promise<EventRecord[]> {
    const tasks = changes.flatMap((change) => (change.task ? [change.task] : []));
    const steps = changes.flatMap((change) => change.steps ?? []);
    const closes = changes.flatMap((change) =>
      change.closeDeadLetters && change.task ? [[change.task.id, change.task.updatedAt]] : [],
    );
    const deadLetters = changes.flatMap((change) => (change.deadLetter ? [change.deadLetter] : []));
    const events = changes.flatMap((change) => change.events ?? []);
    if (tasks.length + steps.length + closes.length + deadLetters.length + events.length === 0) return [];
    const { rows } = await query(client, this.#sql.applyChanges, [
      ...columns(tasks.map(taskUpdateValues), TASK_UPDATE_WIDTH),
      ...columns(steps.map(stepUpdateValues), STEP_UPDATE_WIDTH),
      ...columns(closes, 2),
      ...columns(deadLetters.map(deadLetterValues), DEAD_LETTER_WIDTH),
      ...columns(events.map(eventValues), EVENT_WIDTH),
    ]);
    return withSeqs(
      events,
      rows.map((row) => row.seq),
    );
  }

  async #insertEvents(client: PoolClient, drafts: readonly EventDraft[]): Promise<EventRecord[]> {
    if (drafts.length === 0) return [];
    const { rows } = await query(
      client,
      this.#sql.insertEvents,
      columns(drafts.map(eventValues), EVENT_WIDTH),
    );
    return withSeqs(
      drafts,
      rows.map((row) => row.seq),
    );
  }

  async #query(statement: Statement, values: unknown[]): Promise<pg.QueryResult<Row>> {
    return this.#withClient((client) => query(client, statement, values));
  }

  /**
   * Runs `work` in a transaction on one pooled connection: COMMIT on success, else ROLLBACK and
   * rethrow (a planner's error reaches the caller unchanged).
   */
  async #transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      try {
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        // A ROLLBACK that fails leaves the session in an unknown state: discard the connection.
        await client.query('ROLLBACK').catch((rollbackError: unknown) => {
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        });
        throw error;
      }
    } catch (error) {
      throw this.#explain(error);
    } finally {
      this.#release(client, broken);
    }
  }

  /**
   * Lends a pooled connection to `work` and always gives it back. pg-pool itself discards a
   * connection that broke while lent.
   */
  async #withClient<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#connect();
    try {
      return await work(client);
    } catch (error) {
      throw this.#explain(error);
    } finally {
      this.#release(client);
    }
  }

  async #connect(): Promise<PoolClient> {
    if (this.#closed) throw new BatonError('store_unavailable', 'the PostgreSQL store is closed');
    try {
      const client = await this.#pool.connect();
      // A connection that breaks while checked out (server restart, pg_terminate_backend) emits
      // 'error' on the client itself, and unhandled that would kill the process. The query in
      // flight fails on its own and the pool drops the dead client on release; idle clients are
      // the pool's 'error' listener's job, so this one lives only until `#release`.
      const onError = (error: Error): void => this.#onError(error);
      client.on('error', onError);
      checkedOut.set(client, onError);
      return client;
    } catch (error) {
      throw new BatonError('store_unavailable', `cannot connect to PostgreSQL: ${errorText(error)}`, {
        cause: error,
      });
    }
  }

  #release(client: PoolClient, broken?: Error): void {
    const onError = checkedOut.get(client);
    if (onError) client.off('error', onError);
    checkedOut.delete(client);
    client.release(broken);
  }

  /** Names the fix for a schema nobody has migrated; other errors pass through unchanged. */
  #explain(error: unknown): unknown {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code !== 'string' || !NOT_MIGRATED.has(code)) return error;
    return new BatonError(
      'store_unavailable',
      `the PostgreSQL schema "${this.schema}" is not migrated: call migrate() first`,
      { cause: error },
    );
  }
}

/**
 * Planner settings of the store's sessions, sent with the connection (no extra round trip).
 *
 * Bitmap scans off: every store statement is an index lookup or an ordered index walk with a
 * LIMIT. With stale statistics (a burst of new tasks since the last ANALYZE, or any fresh
 * table) the planner estimates a handful of ready steps and claims through a bitmap scan of the
 * whole `steps_runnable` index plus a sort: 20,000 pending tasks made every claim read 20,000
 * rows (14–23 ms instead of 0.6 ms), and it grows with the backlog.
 *
 * `PGOPTIONS` is kept (node-postgres would otherwise drop it for ours); an `options` parameter in
 * the URL replaces these settings altogether.
 */
function sessionOptions(): string {
  return [process.env.PGOPTIONS, '-c enable_bitmapscan=off'].filter(Boolean).join(' ');
}

/** Identifies an idempotent start: (template, key). */
function keyOf(task: TaskRow): string {
  return JSON.stringify([task.namespace, task.name, task.idempotencyKey]);
}

function query(client: PoolClient, statement: Statement, values: unknown[]): Promise<pg.QueryResult<Row>> {
  return client.query<Row & QueryResultRow>({ ...statement, values });
}

/** The task of a `lockStates` row (its columns prefixed with `task_`; the input is on the first row). */
function lockedTask(row: Row): TaskRow {
  return pgRows.task({
    id: row.task_row_id,
    namespace: row.task_namespace,
    name: row.task_name,
    version: row.task_version,
    status: row.task_status,
    input: row.task_input,
    error: row.task_error,
    idempotency_key: row.task_idempotency_key,
    created_at: row.task_created_at,
    started_at: row.task_started_at,
    finished_at: row.task_finished_at,
    updated_at: row.task_updated_at,
    traceparent: row.task_traceparent,
  });
}

/** Builds the claimed steps and their history from the claim statement's rows (in run_at order). */
function claimedSteps(rows: readonly Row[], now: number): { claimed: ClaimedStep[]; drafts: EventDraft[] } {
  const tasks = new Map<string, ClaimedStep['task']>();
  for (const row of rows) {
    if (row.first_of_task !== true) continue;
    const id = String(row.task_id);
    const task = {
      id,
      namespace: String(row.task_namespace),
      name: String(row.task_name),
      version: String(row.task_version),
      input: row.task_input ?? null,
      traceparent: typeof row.task_traceparent === 'string' ? row.task_traceparent : null,
    };
    tasks.set(id, task);
  }
  const drafts: EventDraft[] = [];
  const announced = new Set<string>();
  const claimed = rows.map((row) => {
    const step = pgRows.step(row);
    if (row.task_started === true && !announced.has(step.taskId)) {
      announced.add(step.taskId);
      drafts.push(taskStartedEvent(step.taskId, now));
    }
    drafts.push(stepStartedEvent(step, now));
    return { step, task: tasks.get(step.taskId)!, results: (row.results ?? {}) as Record<string, unknown> };
  });
  return { claimed, drafts };
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const { code } = error as NodeJS.ErrnoException;
    return error.message || code || error.name;
  }
  return String(error);
}

/** A change made a step runnable right away (a dependency finished, a replay, a resolve). */
function makesStepsRunnable(changes: readonly TaskChange[]): boolean {
  return changes.some((change) =>
    change.steps?.some((step) => step.status === 'ready' && step.attempts === 0),
  );
}
