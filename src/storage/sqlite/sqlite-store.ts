import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SqliteMeteringStore, SqliteSnapshotStore } from '../../state/sqlite.ts';
import type { StateStores } from '../../state/types.ts';
import { BatonError } from '../../util/errors.ts';
import type {
  DeadLetterRow,
  EventDraft,
  EventRecord,
  StepRow,
  TaskRow,
  TaskState,
  TaskStatus,
} from '../records.ts';
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
import { stepStartedEvent, taskStartedEvent } from '../claim-events.ts';
import {
  deadLetterValues,
  eventValues,
  page,
  rowReaders,
  stepInsertValues,
  stepUpdateValues,
  taskUpdateValues,
  taskValues,
  type Row,
} from '../rows.ts';
import { applySqliteMigrations } from './migrate.ts';
import { statements, type Statements } from './statements.ts';

export interface SqliteStoreOptions {
  /** A file path, or `:memory:`. */
  path: string;
  /** How long a writer waits for another process's lock, in ms. */
  busyTimeoutMs?: number;
  /** `normal` (default) survives process crashes; `full` also survives power loss. */
  synchronous?: 'normal' | 'full';
  /** The clock of `state.metering` periods, in epoch ms. Default `Date.now`. */
  now?: () => number;
}

/**
 * The embedded store on `node:sqlite`. SQLite has one writer at a time, so every write is a short
 * `BEGIN IMMEDIATE` transaction; several processes may share one file (WAL mode, busy timeout).
 * Its methods are synchronous underneath and return settled promises to fit the Store interface.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly path: string;
  readonly state: StateStores;
  readonly #db: DatabaseSync;
  #sql: Statements | undefined;
  #closed = false;

  constructor(options: SqliteStoreOptions) {
    this.path = options.path;
    this.#db = openDatabase(options);
    this.state = {
      snapshots: new SqliteSnapshotStore(this.#db),
      metering: new SqliteMeteringStore(this.#db, options.now ? { now: options.now } : {}),
    };
  }

  migrate(): Promise<{ applied: string[] }> {
    return this.#run(() => {
      const applied = applySqliteMigrations(this.#db);
      this.#sql = statements(this.#db);
      return { applied };
    });
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#db.close();
    }
    return Promise.resolve();
  }

  ping(): Promise<void> {
    return this.#run(() => {
      this.#db.prepare('SELECT 1').get();
    });
  }

  createTasks(drafts: readonly TaskDraft[]): Promise<CreateTaskResult[]> {
    if (drafts.length === 0) return Promise.resolve([]);
    return this.#write((sql) => drafts.map((draft) => this.#createTask(sql, draft)));
  }

  claimSteps(request: ClaimRequest): Promise<ClaimResult> {
    if (request.limit <= 0 || request.handlers.length === 0)
      return Promise.resolve({ claimed: [], events: [] });
    return this.#write((sql) => {
      const { now } = request;
      const rows = sql.claim.all(
        request.workerId,
        now + request.leaseMs,
        now,
        now,
        JSON.stringify(request.handlers),
        request.limit,
      );
      if (rows.length === 0) return { claimed: [], events: [] };
      const steps = rows.map(sqliteRows.step);
      const taskIds = JSON.stringify([...new Set(steps.map((step) => step.taskId))]);
      // Set-based: one statement starts every pending task of the batch, one reads them all.
      const drafts = sql.startTasks
        .all(now, now, taskIds)
        .map((row) => taskStartedEvent(String(row.id), now));
      const tasks = new Map(sql.tasksForClaim.all(taskIds).map((row) => [String(row.id), claimedTask(row)]));
      const claimed = steps.map((step) => {
        drafts.push(stepStartedEvent(step, now));
        return { step, task: tasks.get(step.taskId)!, results: this.#dependencyResults(sql, step) };
      });
      return { claimed, events: this.#insertEvents(sql, drafts) };
    });
  }

  renewLeases(workerId: string, leases: readonly LeaseRef[], leaseUntil: number): Promise<LeaseRef[]> {
    if (leases.length === 0) return Promise.resolve([]);
    return this.#write((sql) =>
      leases.filter((lease) => {
        const changed = sql.renewLease.run(leaseUntil, lease.stepId, lease.attempt, workerId).changes;
        return Number(changed) === 0;
      }),
    );
  }

  findExpiredLeases(now: number, limit: number): Promise<LeaseRef[]> {
    return this.#read((sql) =>
      sql.expiredLeases.all(now, limit).map((row) => ({
        stepId: Number(row.id),
        taskId: String(row.task_id),
        attempt: Number(row.attempts),
      })),
    );
  }

  nextRunAt(handlers: readonly string[]): Promise<number | null> {
    if (handlers.length === 0) return Promise.resolve(null);
    return this.#read((sql) => {
      const row = sql.nextRunAt.get(JSON.stringify(handlers));
      return row && row.run_at !== null ? Number(row.run_at) : null;
    });
  }

  updateTasks(taskIds: readonly string[], planner: TaskPlanner): Promise<EventRecord[]> {
    return this.#write((sql) => {
      const changes: TaskChange[] = [];
      for (const state of this.#loadStates(sql, taskIds)) {
        const change = planner(state);
        if (change) changes.push(change);
      }
      return this.#applyChanges(sql, changes);
    });
  }

  appendEvents(events: readonly EventDraft[]): Promise<EventRecord[]> {
    return this.#write((sql) => this.#insertEvents(sql, events));
  }

  getTask(id: string): Promise<TaskState | undefined> {
    return this.#read((sql) => this.#loadState(sql, id));
  }

  listTasks(query: TaskQuery): Promise<Page<TaskRow>> {
    return this.#read(() => {
      const where: string[] = [];
      const params: (string | number)[] = [];
      const filters: [string, string | undefined][] = [
        ['status', query.status],
        ['namespace', query.namespace],
        ['name', query.name],
        ['id <', query.cursor],
      ];
      for (const [column, value] of filters) {
        if (value === undefined) continue;
        where.push(column.includes(' ') ? `${column} ?` : `${column} = ?`);
        params.push(value);
      }
      const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
      const rows = this.#db
        .prepare(`SELECT * FROM tasks ${clause} ORDER BY id DESC LIMIT ?`)
        .all(...params, query.limit + 1) as Row[];
      return page(rows.map(sqliteRows.task), query.limit, (task) => task.id);
    });
  }

  listEvents(query: EventQuery): Promise<EventRecord[]> {
    return this.#read((sql) => {
      const after = query.afterSeq ?? 0;
      const rows =
        query.taskId === undefined
          ? sql.eventsAfter.all(after, query.limit)
          : sql.taskEventsAfter.all(query.taskId, after, query.limit);
      return rows.map(sqliteRows.event);
    });
  }

  listDeadLetters(query: DeadLetterQuery): Promise<Page<DeadLetterRow>> {
    return this.#read(() => {
      const where = [query.includeClosed ? '1 = 1' : 'closed_at IS NULL'];
      const params: (string | number)[] = [];
      if (query.cursor !== undefined) {
        where.push('id < ?');
        params.push(query.cursor);
      }
      const rows = this.#db
        .prepare(`SELECT * FROM dead_letters WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`)
        .all(...params, query.limit + 1) as Row[];
      return page(rows.map(sqliteRows.deadLetter), query.limit, (entry) => entry.id);
    });
  }

  getDeadLetter(id: string): Promise<DeadLetterRow | undefined> {
    return this.#read((sql) => {
      const row = sql.deadLetterById.get(id);
      return row ? sqliteRows.deadLetter(row) : undefined;
    });
  }

  stats(): Promise<StoreStats> {
    return this.#read((sql) => {
      const tasks = Object.fromEntries(TASK_STATUSES.map((status) => [status, 0])) as Record<
        TaskStatus,
        number
      >;
      for (const row of sql.taskCounts.all()) tasks[row.status as TaskStatus] = Number(row.count);
      const steps = sql.stepCounts.get()!;
      return {
        tasks,
        readySteps: Number(steps.ready),
        runningSteps: Number(steps.running),
        openDeadLetters: Number(sql.openDeadLetters.get()!.count),
      };
    });
  }

  // ── internals ──────────────────────────────────────────────────────────────

  #createTask(sql: Statements, draft: TaskDraft): CreateTaskResult {
    const { task } = draft;
    if (task.idempotencyKey !== null) {
      const existing = sql.taskByIdempotencyKey.get(task.namespace, task.name, task.idempotencyKey);
      if (existing) return { state: this.#loadState(sql, String(existing.id))!, created: false, events: [] };
    }
    sql.insertTask.run(...taskValues(task));
    for (const step of draft.steps) sql.insertStep.run(...stepInsertValues(step));
    const events = this.#insertEvents(sql, draft.events);
    return { state: this.#loadState(sql, task.id)!, created: true, events };
  }

  #dependencyResults(sql: Statements, step: StepRow): Record<string, unknown> {
    const results: Record<string, unknown> = {};
    if (step.spec.depends_on.length === 0) return results;
    const wanted = new Set(step.spec.depends_on);
    for (const row of sql.taskStepResults.all(step.taskId)) {
      const name = String(row.name);
      if (wanted.has(name)) results[name] = parseJsonText(row.result);
    }
    return results;
  }

  #loadState(sql: Statements, taskId: string): TaskState | undefined {
    const taskRow = sql.taskById.get(taskId);
    if (!taskRow) return undefined;
    return { task: sqliteRows.task(taskRow), steps: sql.stepsOfTask.all(taskId).map(sqliteRows.step) };
  }

  /** Loads several tasks with their steps in two statements, in the order of `taskIds`. */
  #loadStates(sql: Statements, taskIds: readonly string[]): TaskState[] {
    const ids = JSON.stringify([...new Set(taskIds)]);
    const steps = new Map<string, StepRow[]>();
    for (const row of sql.stepsOfTasks.all(ids)) {
      const step = sqliteRows.step(row);
      const list = steps.get(step.taskId);
      if (list) list.push(step);
      else steps.set(step.taskId, [step]);
    }
    return sql.tasksByIds.all(ids).map((row) => {
      const task = sqliteRows.task(row);
      return { task, steps: steps.get(task.id) ?? [] };
    });
  }

  /** Writes planned changes, inside the caller's transaction. */
  #applyChanges(sql: Statements, changes: readonly TaskChange[]): EventRecord[] {
    for (const change of changes) {
      if (change.task) sql.updateTask.run(...taskUpdateValues(change.task));
      for (const step of change.steps ?? []) sql.updateStep.run(...stepUpdateValues(step));
      if (change.closeDeadLetters && change.task)
        sql.closeDeadLetters.run(change.task.updatedAt, change.task.id);
      if (change.deadLetter) sql.insertDeadLetter.run(...deadLetterValues(change.deadLetter));
    }
    return this.#insertEvents(
      sql,
      changes.flatMap((change) => change.events ?? []),
    );
  }

  /**
   * Appends events. Sequence numbers are assigned here, inside the write transaction, so they are
   * dense and in commit order.
   */
  #insertEvents(sql: Statements, drafts: readonly EventDraft[]): EventRecord[] {
    if (drafts.length === 0) return [];
    let seq = Number(sql.lastSeq.get()?.seq ?? 0);
    return drafts.map((draft) => {
      const event = { ...draft, seq: ++seq };
      sql.insertEvent.run(event.seq, ...eventValues(event));
      return event;
    });
  }

  #statements(): Statements {
    if (this.#closed) throw new BatonError('store_unavailable', 'the SQLite store is closed');
    if (!this.#sql)
      throw new BatonError('store_unavailable', 'the SQLite store is not migrated: call migrate() first');
    return this.#sql;
  }

  #read<T>(work: (sql: Statements) => T): Promise<T> {
    return this.#run(() => work(this.#statements()));
  }

  #write<T>(work: (sql: Statements) => T): Promise<T> {
    return this.#run(() => {
      const sql = this.#statements();
      this.#db.exec('BEGIN IMMEDIATE');
      try {
        const result = work(sql);
        this.#db.exec('COMMIT');
        return result;
      } catch (error) {
        this.#db.exec('ROLLBACK');
        throw error;
      }
    });
  }

  /** Runs synchronous work as a promise, so callers see one async interface for every store. */
  #run<T>(work: () => T): Promise<T> {
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

// ── row mapping (SQLite specifics; the shared part is ../rows.ts) ─────────────

function parseJsonText(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : null;
}

// Every step of a template shares one spec text: parse each text once, not once per row read.
const parsedSpecs = new Map<string, StepRow['spec']>();
const MAX_CACHED_SPECS = 10_000;

function parseSpec(text: unknown): StepRow['spec'] {
  const key = String(text);
  let spec = parsedSpecs.get(key);
  if (!spec) {
    if (parsedSpecs.size >= MAX_CACHED_SPECS) parsedSpecs.clear();
    spec = Object.freeze(JSON.parse(key) as StepRow['spec']);
    parsedSpecs.set(key, spec);
  }
  return spec;
}

const sqliteRows = rowReaders(parseJsonText, parseSpec);

function claimedTask(row: Row): ClaimedStep['task'] {
  return {
    id: String(row.id),
    namespace: String(row.namespace),
    name: String(row.name),
    version: String(row.version),
    input: parseJsonText(row.input),
    traceparent: typeof row.traceparent === 'string' ? row.traceparent : null,
  };
}

/**
 * Opens and tunes the database file, or fails with `store_unavailable` naming the file and why
 * (a folder that cannot be created, a file that is not SQLite, no permission).
 */
function openDatabase(options: SqliteStoreOptions): DatabaseSync {
  let db: DatabaseSync | undefined;
  try {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    db = new DatabaseSync(options.path);
    db.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
    if (options.path !== ':memory:') db.exec('PRAGMA journal_mode = WAL');
    db.exec(`PRAGMA synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    db.exec('PRAGMA cache_size = -65536');
    db.exec('PRAGMA wal_autocheckpoint = 16384');
    return db;
  } catch (error) {
    db?.close();
    throw new BatonError(
      'store_unavailable',
      `cannot open the SQLite store ${options.path}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
