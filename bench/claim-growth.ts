/**
 * How Baton's claim time on PostgreSQL grows with the backlog: the median time of `claims`
 * claims of `batch` steps (`PostgresStore.claimSteps`, the statement and transaction the workers
 * use, history events included) on a database with `small` pending tasks and on one with `large`
 * pending tasks, the claims alternating between the two so that machine noise hits both alike.
 *
 * Each database gets `small` tasks through the engine (the store's `createTasks`). The rest of
 * the large backlog is copied in SQL from one of them (`INSERT … SELECT … FROM generate_series`), ten
 * times faster than the store's batched inserts: the task row, its step rows and its history
 * events, column for column, with only the id (a fresh ULID-shaped `task_…` id), the input
 * (`{"i": n}`, as the engine's bulk start writes it) and the times (moved to the copy's creation
 * time, offsets kept) changed. A check at the end reads one copy back through the store and
 * compares it, task, steps and events, with the task it was copied from.
 */
import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import { pino } from 'pino';
import { createEngine } from '../src/engine/index.ts';
import type { EventRecord, StepRow, TaskRow, TaskState } from '../src/storage/index.ts';
import { PostgresStore } from '../src/storage/index.ts';
import { ulid } from '../src/util/ids.ts';
import { defineBenchWorkflows, enqueue } from './baton.ts';
import { createFreshDatabase, median, withTimeout } from './lib/index.ts';

export interface ClaimGrowthOptions {
  /** Pending tasks for the first measurement (default 1,000). */
  small?: number;
  /** Pending tasks for the second measurement (default 1,000,000). */
  large?: number;
  /** Steps per claim (default 16, the engine's default concurrency). */
  batch?: number;
  /** Measured claims per backlog size (default 20), after `warmup` unmeasured ones (default 5). */
  claims?: number;
  warmup?: number;
  /** Rows copied per SQL statement (default 100,000). */
  chunk?: number;
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface ClaimGrowthResult {
  small: number;
  large: number;
  batch: number;
  claims: number;
  claimMsSmall: number;
  claimMsLarge: number;
  /** `claimMsLarge / claimMsSmall`. */
  growth: number;
  /** Every measured claim, ms. */
  samplesSmall: number[];
  samplesLarge: number[];
  /** Time to copy the large backlog in by SQL. */
  fillMs: number;
}

const SCHEMA = 'baton';

/** `g` (< 2^30) as six Crockford base-32 digits, in SQL. */
const ENCODE_G = Array.from(
  { length: 6 },
  (_, i) => `substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', ((g >> ${25 - 5 * i}) & 31) + 1, 1)`,
).join(' || ');

/** Copies task `$1` as tasks `$2 || enc(g)` for g in [$4, $5), created at `$3`. */
const COPY_SQL = [
  `INSERT INTO ${SCHEMA}.tasks (id, namespace, name, version, status, input, error, idempotency_key,
     created_at, started_at, finished_at, updated_at)
   SELECT $2 || ${ENCODE_G}, t.namespace, t.name, t.version, t.status, jsonb_build_object('i', g), t.error,
     t.idempotency_key, $3::bigint, t.started_at, t.finished_at, t.updated_at - t.created_at + $3::bigint
   FROM ${SCHEMA}.tasks t, generate_series($4::int, $5::int - 1) AS g
   WHERE t.id = $1 ORDER BY g`,
  `INSERT INTO ${SCHEMA}.steps (task_id, position, name, handler, spec, status, attempts, run_at, lease_owner,
     lease_until, started_at, finished_at, result, error)
   SELECT $2 || ${ENCODE_G}, s.position, s.name, s.handler, s.spec, s.status, s.attempts,
     s.run_at - t.created_at + $3::bigint, s.lease_owner, s.lease_until, s.started_at, s.finished_at,
     s.result, s.error
   FROM ${SCHEMA}.steps s JOIN ${SCHEMA}.tasks t ON t.id = s.task_id, generate_series($4::int, $5::int - 1) AS g
   WHERE s.task_id = $1 ORDER BY g, s.position`,
  `INSERT INTO ${SCHEMA}.events (task_id, step, type, from_status, to_status, reason, attempt, error, data, at)
   SELECT $2 || ${ENCODE_G}, e.step, e.type, e.from_status, e.to_status, e.reason, e.attempt, e.error, e.data,
     e.at - t.created_at + $3::bigint
   FROM ${SCHEMA}.events e JOIN ${SCHEMA}.tasks t ON t.id = e.task_id, generate_series($4::int, $5::int - 1) AS g
   WHERE e.task_id = $1 ORDER BY g, e.seq`,
];

/** One claim of `batch` steps, timed in ms. */
async function timeClaim(backlog: Backlog, batch: number): Promise<number> {
  const t0 = performance.now();
  const { claimed } = await backlog.store.claimSteps({
    workerId: 'bench-claims',
    limit: batch,
    handlers: backlog.handlers,
    now: Date.now(),
    leaseMs: 600_000,
  });
  const ms = performance.now() - t0;
  if (claimed.length !== batch) throw new Error(`a claim got ${claimed.length} steps, expected ${batch}`);
  return ms;
}

/** A fresh database with Baton's schema, its store, an engine (no workers) and a plain client. */
interface Backlog {
  store: PostgresStore;
  sql: pg.Client;
  handlers: string[];
  enqueue(count: number): Promise<void>;
  close(): Promise<void>;
}

async function openBacklog(): Promise<Backlog> {
  const db = await createFreshDatabase('claims');
  const store = new PostgresStore({ connectionString: db.url, schema: SCHEMA });
  const sql = new pg.Client({ connectionString: db.url });
  const close = async (): Promise<void> => {
    await sql.end().catch(() => {});
    await store.close();
    await db.drop();
  };
  try {
    await sql.connect();
    const engine = await createEngine({ store, logger: pino({ level: 'silent' }) });
    defineBenchWorkflows(engine);
    return {
      store,
      sql,
      handlers: engine.handlers.keys(),
      enqueue: (count) => enqueue(engine, 'bench.single', count),
      close: async () => {
        await engine.close();
        await close();
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}

async function settle(backlog: Backlog): Promise<void> {
  await backlog.sql.query(`VACUUM ANALYZE ${SCHEMA}.tasks, ${SCHEMA}.steps, ${SCHEMA}.events`);
  await backlog.sql.query('CHECKPOINT');
}

/**
 * Fills `backlog` up to `large` pending tasks by copying its newest pending task in SQL; returns
 * the original's id and the first copy's.
 */
async function fill(
  backlog: Backlog,
  large: number,
  chunk: number,
  log: (line: string) => void,
): Promise<{ original: string; copy: string | null }> {
  const { sql } = backlog;
  const template = await sql.query<{ id: string }>(
    `SELECT id FROM ${SCHEMA}.tasks WHERE status = 'pending' ORDER BY id DESC LIMIT 1`,
  );
  const original = template.rows[0]?.id;
  if (!original) throw new Error('claim growth: no pending task to copy');
  const pending = (await backlog.store.stats()).readySteps;
  const copies = Math.max(0, large - pending);
  const now = Date.now();
  const prefix = `task_${ulid(now).slice(0, 20)}`;
  await sql.query('SET synchronous_commit = off'); // this session only: the copy, not the claims
  for (let from = 0; from < copies; from += chunk) {
    const to = Math.min(copies, from + chunk);
    await sql.query('BEGIN');
    for (const text of COPY_SQL) await sql.query(text, [original, prefix, now, from, to]);
    await sql.query('COMMIT');
    log(`    claim growth: ${(pending + to).toLocaleString('en')} pending`);
  }
  await sql.query('SET synchronous_commit = on');
  return { original, copy: copies > 0 ? `${prefix}000000` : null };
}

/** A task's state and history with everything a copy may change blanked out. */
function normalized(state: TaskState, events: EventRecord[]): unknown {
  const { task } = state;
  const base = task.createdAt;
  const t: TaskRow = { ...task, id: '', input: null, createdAt: 0, updatedAt: task.updatedAt - base };
  const steps = state.steps.map((s): StepRow => ({
    ...s,
    id: 0,
    taskId: '',
    runAt: s.runAt === null ? null : s.runAt - base,
  }));
  const history = events.map((e) => ({ ...e, seq: 0, taskId: '', at: e.at - base }));
  return { task: t, steps, history };
}

async function checkCopy(store: PostgresStore, original: string, copy: string): Promise<void> {
  const [a, b] = await Promise.all([store.getTask(original), store.getTask(copy)]);
  if (!a || !b) throw new Error(`claim growth: task ${a ? copy : original} not found`);
  const [ea, eb] = await Promise.all([
    store.listEvents({ taskId: original, limit: 100 }),
    store.listEvents({ taskId: copy, limit: 100 }),
  ]);
  if (!isDeepStrictEqual(normalized(a, ea), normalized(b, eb)))
    throw new Error(`claim growth: the SQL copy ${copy} differs from ${original} beyond id, input and times`);
  if (!isDeepStrictEqual(b.task.input, { i: 0 }))
    throw new Error(`claim growth: unexpected copied input ${JSON.stringify(b.task.input)}`);
}

/**
 * Measures claim time at `small` and at `large` pending tasks, on two fresh databases side by
 * side: claims alternate between them (the order swapped every round), so load from anything
 * else on the machine hits both sizes alike.
 */
export async function claimGrowthPostgres(options: ClaimGrowthOptions = {}): Promise<ClaimGrowthResult> {
  const small = options.small ?? 1000;
  const large = options.large ?? 1_000_000;
  const batch = options.batch ?? 16;
  const claims = options.claims ?? 20;
  const warmup = options.warmup ?? 5;
  const chunk = options.chunk ?? 100_000;
  const timeoutMs = options.timeoutMs ?? 600_000;
  const log = options.log ?? (() => {});
  if ((claims + warmup) * batch > small / 2)
    throw new Error(
      `claim growth: ${claims + warmup} claims of ${batch} would use up more than half of ${small} tasks`,
    );
  const backlogs: Backlog[] = [];
  const run = async (): Promise<ClaimGrowthResult> => {
    const smallBacklog = await openBacklog();
    backlogs.push(smallBacklog);
    const largeBacklog = await openBacklog();
    backlogs.push(largeBacklog);
    await smallBacklog.enqueue(small);
    await largeBacklog.enqueue(small);
    const t0 = performance.now();
    const { original, copy } = await fill(largeBacklog, large, chunk, log);
    await settle(largeBacklog);
    const fillMs = performance.now() - t0;
    await settle(smallBacklog);
    const smallNow = (await smallBacklog.store.stats()).readySteps;
    const largeNow = (await largeBacklog.store.stats()).readySteps;
    const samplesSmall: number[] = [];
    const samplesLarge: number[] = [];
    for (let i = 0; i < warmup + claims; i++) {
      const order = i % 2 === 0 ? [smallBacklog, largeBacklog] : [largeBacklog, smallBacklog];
      for (const backlog of order) {
        const ms = await timeClaim(backlog, batch);
        if (i >= warmup) (backlog === smallBacklog ? samplesSmall : samplesLarge).push(ms);
      }
    }
    if (copy) await checkCopy(largeBacklog.store, original, copy);
    const claimMsSmall = median(samplesSmall);
    const claimMsLarge = median(samplesLarge);
    return {
      small: smallNow,
      large: largeNow,
      batch,
      claims,
      claimMsSmall,
      claimMsLarge,
      growth: claimMsLarge / claimMsSmall,
      samplesSmall,
      samplesLarge,
      fillMs,
    };
  };
  try {
    return await withTimeout(run(), timeoutMs, () => `claim growth took more than ${timeoutMs / 1000} s`);
  } finally {
    for (const backlog of backlogs) await backlog.close().catch(() => {});
  }
}
