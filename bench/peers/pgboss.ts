/**
 * pg-boss 12 peer adapter: drain throughput of pre-inserted no-op jobs, serial send→start latency,
 * and 3-step chains / 4-step diamonds, each on a fresh database (see bench/README.md).
 *
 * Settings, from pg-boss 12's own documentation (`work()` options, constructor, queue options):
 * - instance: `useListenNotify: true` (one LISTEN connection wakes workers on new jobs),
 *   `flowIntervalSeconds: 1` (the flow resolver's minimum), `schedule: false` (no cron here);
 * - queues: `notify: true` (a transactional NOTIFY per insert of runnable jobs);
 * - workers: `batchSize` and `localConcurrency` as given (defaults 500 and 2, the best of a small
 *   sweep on this box, see BENCHMARKS.md), `burstWhenBatchFull: true` (fetch again at once while
 *   batches come back full), `pollingIntervalSeconds` and `notifyPollingIntervalSeconds` at their
 *   minimum of 0.5 s.
 *
 * Chains and diamonds, two ways:
 * - `flow`: pg-boss 12's own DAGs, `boss.flow([{ ref, name, data, dependsOn }])`: one call inserts
 *   the whole workflow, children wait `blocked` and the background resolver (every
 *   `flowIntervalSeconds`, ≥ 1 s) unblocks them once their parents completed; workers then pick
 *   them up at their next poll (unblocking sends no NOTIFY).
 * - `send`: the enqueue-from-handler pattern: a `transactional: true` worker, whose handler writes
 *   the successors through the batch's transaction (`boss.insert(…, { db: tx })`), so they commit
 *   together with the completion of their parent. The diamond's join is a counter row per
 *   workflow (`bench_join`), incremented in the same transaction; d is inserted by whichever of b
 *   and c brings it to 2, so d runs once, after both.
 *
 * Run directly for a quick check: `npx node bench/peers/pgboss.ts`.
 */
import { PgBoss, type Db, type FlowJob, type Job, type JobInsert, type WorkOptions } from 'pg-boss';
import {
  closedLoopLatency,
  createFreshDatabase,
  envInt,
  FinishCounter,
  FLOW_SHAPES,
  flowDrainResult,
  formatMs,
  formatNumber,
  LAST_STEP,
  percentiles,
  perSecond,
  serialStartLatency,
  sleep,
  Waiters,
  withTimeout,
  type FlowDrainResult,
  type FlowShape,
  type FreshDatabase,
  type Percentiles,
} from '../lib/index.ts';

const SCHEMA = 'pgboss';
/** Every job of every queue (pg-boss 12 partitions it by queue; `name` is the queue). */
const JOB_TABLE = `${SCHEMA}.job`;
const QUEUE = 'bench';

export type PgBossFlowMode = 'flow' | 'send';

export interface PgBossWorkSettings {
  /** Jobs per fetch (and per handler call, and per completion statement). Default 100. */
  batchSize?: number;
  /** Fetch loops per `work()` call. Default 4. */
  localConcurrency?: number;
}

const DEFAULT_BATCH = 500;
const DEFAULT_LOCAL_CONCURRENCY = 2;

function workOptions(settings: PgBossWorkSettings): WorkOptions {
  return {
    batchSize: settings.batchSize ?? DEFAULT_BATCH,
    localConcurrency: settings.localConcurrency ?? DEFAULT_LOCAL_CONCURRENCY,
    burstWhenBatchFull: true,
    pollingIntervalSeconds: 0.5,
    notifyPollingIntervalSeconds: 0.5,
  };
}

/** A started PgBoss on its own fresh database, with the bench queue created. */
interface Instance {
  db: FreshDatabase;
  boss: PgBoss;
  errors: Error[];
  stop(): Promise<void>;
}

async function startInstance(max: number): Promise<Instance> {
  const db = await createFreshDatabase('pgboss');
  const errors: Error[] = [];
  const boss = new PgBoss({
    connectionString: db.url,
    schema: SCHEMA,
    max,
    useListenNotify: true,
    flowIntervalSeconds: 1,
    schedule: false,
  });
  boss.on('error', (error) => errors.push(error));
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    try {
      await withTimeout(
        boss.stop({ graceful: true, close: true, timeout: 10_000 }),
        20_000,
        () => 'pg-boss stop took more than 20 s',
      );
    } finally {
      await db.drop();
    }
  };
  try {
    await boss.start();
    await boss.createQueue(QUEUE, { notify: true });
    // Open the pool's connections before any clock starts.
    const sql = boss.getDb();
    await Promise.all(Array.from({ length: max - 1 }, () => sql.executeSql('select pg_sleep(0.01)')));
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
  return { db, boss, errors, stop };
}

function checkErrors(instance: Instance, label: string): void {
  const [first] = instance.errors;
  if (first)
    throw new Error(`${label}: pg-boss reported ${instance.errors.length} errors, first: ${first.message}`);
}

/** Polls until no job of the bench queue is left before `completed` (created, retry or active). */
async function waitAllCompleted(instance: Instance, deadline: number, label: string): Promise<void> {
  const sql = instance.boss.getDb();
  for (;;) {
    const { rows } = await sql.executeSql(
      `select exists(select 1 from ${JOB_TABLE} where name = $1 and state < 'completed') as left`,
      [QUEUE],
    );
    if (!(rows[0] as { left: boolean } | undefined)?.left) return;
    if (performance.now() > deadline) throw new Error(`${label}: completions still pending at the deadline`);
    await sleep(1);
  }
}

async function insertInChunks(boss: PgBoss, jobs: JobInsert[]): Promise<void> {
  for (let i = 0; i < jobs.length; i += 5000) await boss.insert(QUEUE, jobs.slice(i, i + 5000));
}

async function vacuum(instance: Instance): Promise<void> {
  const sql = instance.boss.getDb();
  await sql.executeSql(`vacuum analyze ${JOB_TABLE}`);
  await sql.executeSql('checkpoint');
}

// ── drain ────────────────────────────────────────────────────────────────────

export interface PgBossDrainOptions extends PgBossWorkSettings {
  /** Jobs pre-inserted and drained (default 20,000). */
  jobs?: number;
  timeoutMs?: number;
}

export interface PgBossDrainResult {
  jobs: number;
  batchSize: number;
  localConcurrency: number;
  /** `work()` called → every job completed in the database. */
  ms: number;
  jobsPerSecond: number;
  insertMs: number;
}

/**
 * Pre-inserts `jobs` no-op jobs (`boss.insert`, 5,000 per call), VACUUM ANALYZE + CHECKPOINT,
 * then times one `work()` call until every job is `completed` in the table.
 */
export async function drainPgBoss(options: PgBossDrainOptions = {}): Promise<PgBossDrainResult> {
  const jobs = options.jobs ?? 20_000;
  const work = workOptions(options);
  const timeoutMs = options.timeoutMs ?? 180_000;
  const instance = await startInstance((work.localConcurrency ?? 1) + 4);
  try {
    const { boss } = instance;
    const t0Insert = performance.now();
    await insertInChunks(
      boss,
      Array.from({ length: jobs }, (_, i) => ({ data: { id: i } })),
    );
    const insertMs = performance.now() - t0Insert;
    await vacuum(instance);
    let handled = 0;
    const allHandled = Promise.withResolvers<void>();
    const t0 = performance.now();
    await boss.work(QUEUE, work, async (batch: Job[]) => {
      handled += batch.length;
      if (handled >= jobs) allHandled.resolve();
      return Promise.resolve();
    });
    const label = `pg-boss drain (batchSize ${work.batchSize}, localConcurrency ${work.localConcurrency})`;
    await withTimeout(
      allHandled.promise,
      timeoutMs,
      () => `${label} took more than ${timeoutMs / 1000} s: ${handled}/${jobs} jobs handled`,
    );
    await waitAllCompleted(instance, t0 + timeoutMs, label);
    const ms = performance.now() - t0;
    checkErrors(instance, label);
    return {
      jobs,
      batchSize: work.batchSize ?? 1,
      localConcurrency: work.localConcurrency ?? 1,
      ms,
      jobsPerSecond: perSecond(jobs, ms),
      insertMs,
    };
  } finally {
    await instance.stop();
  }
}

// ── serial latency ───────────────────────────────────────────────────────────

/**
 * Serial `send()`→handler start latency: a worker with `batchSize` 1 and `localConcurrency` 1 on
 * a notify queue, then `n` times send one job and wait until the handler starts.
 */
export async function latencyPgBoss(
  options: { n?: number; warmup?: number; timeoutMs?: number } = {},
): Promise<Percentiles & { samples: number[] }> {
  const n = options.n ?? 1000;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const instance = await startInstance(6);
  try {
    const { boss } = instance;
    const waiters = new Waiters();
    await boss.work(
      QUEUE,
      { ...workOptions({ batchSize: 1, localConcurrency: 1 }), burstWhenBatchFull: false },
      async ([job]: Job<{ id: number }>[]) => {
        if (job) waiters.finish(job.data.id);
        return Promise.resolve();
      },
    );
    const samples = await serialStartLatency({
      n,
      warmup: options.warmup ?? 100,
      waiters,
      timeoutMs,
      label: 'pg-boss',
      enqueue: (id) => boss.send(QUEUE, { id }),
    });
    checkErrors(instance, 'pg-boss latency');
    return { ...percentiles(samples), samples };
  } finally {
    await instance.stop();
  }
}

// ── chains and diamonds ─────────────────────────────────────────────────────

interface StepData {
  w: number;
  s: string;
  k: FlowShape;
}

/** The whole workflow `w` as one pg-boss flow. */
function flowOf(w: number, k: FlowShape): FlowJob[] {
  const job = (s: string, dependsOn?: string[]): FlowJob => ({
    ref: `${s}${w}`,
    name: QUEUE,
    data: { w, s, k },
    ...(dependsOn ? { dependsOn: dependsOn.map((d) => `${d}${w}`) } : {}),
  });
  return k === 'chain'
    ? [job('a'), job('b', ['a']), job('c', ['b'])]
    : [job('a'), job('b', ['a']), job('c', ['a']), job('d', ['b', 'c'])];
}

const JOIN_TABLE = 'public.bench_join';

/**
 * Counts b/c completions of the given workflows (a workflow may appear twice in one batch) and
 * returns the workflows whose count just reached 2.
 */
const JOIN_SQL = `with c as (select w, count(*)::int as k from unnest($1::int[]) as u(w) group by w),
  up as (
    insert into ${JOIN_TABLE} (w, n) select w, k from c order by w
    on conflict (w) do update set n = ${JOIN_TABLE}.n + excluded.n
    returning w, n
  )
  select up.w from up join c using (w) where up.n >= 2 and up.n - c.k < 2`;

/**
 * The `send`-mode handler: runs the batch's no-ops, then writes every successor through the
 * batch's transaction (one insert, plus one join statement for diamonds).
 */
function sendModeHandler(
  boss: PgBoss,
  onLast: (w: number) => void,
): (batch: Job<StepData>[], tx: Db) => Promise<void> {
  return async (batch, tx) => {
    const next: JobInsert[] = [];
    const joins: number[] = [];
    const last: number[] = [];
    for (const { data } of batch) {
      const { w, s, k } = data;
      if (k === 'chain') {
        if (s === 'a') next.push({ data: { w, s: 'b', k } });
        else if (s === 'b') next.push({ data: { w, s: 'c', k } });
      } else if (s === 'a') {
        next.push({ data: { w, s: 'b', k } }, { data: { w, s: 'c', k } });
      } else if (s === 'b' || s === 'c') {
        joins.push(w);
      }
      if (s === LAST_STEP[k]) last.push(w);
    }
    if (joins.length > 0) {
      const { rows } = await tx.executeSql(JOIN_SQL, [joins]);
      for (const { w } of rows as { w: number }[]) next.push({ data: { w, s: 'd', k: 'diamond' } });
    }
    if (next.length > 0) await boss.insert(QUEUE, next, { db: tx });
    // The handler has returned for these steps; their completion commits right after.
    for (const w of last) onLast(w);
  };
}

/** The `flow`-mode handler: no-ops; pg-boss unblocks the successors itself. */
function flowModeHandler(onLast: (w: number) => void): (batch: Job<StepData>[]) => Promise<void> {
  return (batch) => {
    for (const { data } of batch) if (data.s === LAST_STEP[data.k]) onLast(data.w);
    return Promise.resolve();
  };
}

async function startFlowWorkers(
  instance: Instance,
  mode: PgBossFlowMode,
  settings: PgBossWorkSettings,
  onLast: (w: number) => void,
): Promise<void> {
  const { boss } = instance;
  const work = workOptions(settings);
  if (mode === 'flow') {
    await boss.work(QUEUE, work, flowModeHandler(onLast));
  } else {
    await boss.work(QUEUE, { ...work, transactional: true }, sendModeHandler(boss, onLast));
  }
}

async function prepareFlows(instance: Instance, mode: PgBossFlowMode): Promise<void> {
  if (mode === 'send')
    await instance.boss.getDb().executeSql(`create table ${JOIN_TABLE} (w int primary key, n int not null)`);
}

/** Enqueues one workflow: its whole flow (`flow`), or its first step (`send`). */
function enqueueOne(instance: Instance, mode: PgBossFlowMode, shape: FlowShape, w: number): Promise<unknown> {
  return mode === 'flow'
    ? instance.boss.flow(flowOf(w, shape))
    : instance.boss.send(QUEUE, { w, s: 'a', k: shape });
}

function poolSize(mode: PgBossFlowMode, settings: PgBossWorkSettings, extra: number): number {
  const local = settings.localConcurrency ?? DEFAULT_LOCAL_CONCURRENCY;
  // A transactional worker holds its connection while the handler runs; fetches and the
  // completion need more.
  return (mode === 'send' ? 2 * local : local) + 4 + extra;
}

export interface PgBossFlowOptions extends PgBossWorkSettings {
  shape: FlowShape;
  mode: PgBossFlowMode;
  /** Workflows pre-inserted and drained (default 5,000). */
  workflows?: number;
  timeoutMs?: number;
}

/**
 * Pre-inserts `workflows` workflows (`flow`: `boss.flow` with 100 workflows per call; `send`:
 * `boss.insert` of the first steps), then times the workers until every last step ran and no job
 * of the queue is left unfinished.
 */
export async function drainPgBossFlows(options: PgBossFlowOptions): Promise<FlowDrainResult> {
  const { shape, mode } = options;
  const workflows = options.workflows ?? 5000;
  const timeoutMs = options.timeoutMs ?? 300_000;
  const instance = await startInstance(poolSize(mode, options, 0));
  try {
    await prepareFlows(instance, mode);
    if (mode === 'flow') {
      for (let w = 0; w < workflows; w += 100) {
        const ids = Array.from({ length: Math.min(100, workflows - w) }, (_, i) => w + i);
        await instance.boss.flow(ids.flatMap((id) => flowOf(id, shape)));
      }
    } else {
      await insertInChunks(
        instance.boss,
        Array.from({ length: workflows }, (_, w) => ({ data: { w, s: 'a', k: shape } })),
      );
    }
    await vacuum(instance);
    const finished = new FinishCounter(workflows);
    const t0 = performance.now();
    await startFlowWorkers(instance, mode, options, (w) => finished.finish(w));
    const label = `pg-boss ${shape} drain (${mode})`;
    await withTimeout(
      finished.done,
      timeoutMs,
      () =>
        `${label} took more than ${timeoutMs / 1000} s: ${finished.finished}/${workflows} workflows finished`,
    );
    await waitAllCompleted(instance, t0 + timeoutMs, label);
    const ms = performance.now() - t0;
    checkErrors(instance, label);
    const result = flowDrainResult(shape, workflows, ms);
    // Exactly one job per step: none lost, none enqueued twice.
    const { rows } = await instance.boss
      .getDb()
      .executeSql(`select count(*)::int as n from ${JOB_TABLE} where name = $1 and state = 'completed'`, [
        QUEUE,
      ]);
    const jobs = (rows[0] as { n: number } | undefined)?.n;
    if (jobs !== result.steps) throw new Error(`${label}: ${jobs} completed jobs for ${result.steps} steps`);
    return result;
  } finally {
    await instance.stop();
  }
}

export interface PgBossFlowLatencyOptions extends PgBossWorkSettings {
  shape: FlowShape;
  mode: PgBossFlowMode;
  /** Measured workflows (default 200). */
  n?: number;
  /** Workflows in flight at once (default 8). */
  inFlight?: number;
  timeoutMs?: number;
}

/** Closed-loop end-to-end latency of chains or diamonds (see `closedLoopLatency`). */
export async function latencyPgBossFlows(
  options: PgBossFlowLatencyOptions,
): Promise<Percentiles & { samples: number[] }> {
  const { shape, mode } = options;
  const inFlight = options.inFlight ?? 8;
  const instance = await startInstance(poolSize(mode, options, inFlight));
  try {
    await prepareFlows(instance, mode);
    const waiters = new Waiters();
    await startFlowWorkers(instance, mode, options, (w) => waiters.finish(w));
    const label = `pg-boss ${shape} (${mode})`;
    const samples = await closedLoopLatency({
      total: options.n ?? 200,
      inFlight,
      waiters,
      timeoutMs: options.timeoutMs ?? 300_000,
      label,
      enqueue: (w) => enqueueOne(instance, mode, shape, w),
    });
    checkErrors(instance, label);
    return { ...percentiles(samples), samples };
  } finally {
    await instance.stop();
  }
}

// ── standalone entry: `npx node bench/peers/pgboss.ts` ───────────────────────

async function main(): Promise<void> {
  const jobs = envInt('BENCH_TASKS', 20_000);
  const workflows = envInt('BENCH_DIAMONDS', 2_000);
  const latencyN = envInt('BENCH_LATENCY_N', 200);
  const settings: PgBossWorkSettings = {
    batchSize: envInt('BENCH_PGBOSS_BATCH', DEFAULT_BATCH),
    localConcurrency: envInt('BENCH_PGBOSS_LOCAL_CONCURRENCY', DEFAULT_LOCAL_CONCURRENCY),
  };
  const drain = await drainPgBoss({ jobs, ...settings });
  console.log(
    `drain: ${formatNumber(drain.jobsPerSecond)} jobs/s (${jobs} jobs, batchSize ${drain.batchSize}, ` +
      `localConcurrency ${drain.localConcurrency}, ${formatMs(drain.ms)})`,
  );
  const latency = await latencyPgBoss({ n: latencyN });
  console.log(`latency send→start: p50 ${formatMs(latency.p50)}, p95 ${formatMs(latency.p95)}`);
  for (const mode of ['send', 'flow'] as const) {
    for (const shape of FLOW_SHAPES) {
      const r = await drainPgBossFlows({ shape, mode, workflows, ...settings });
      const e2e = await latencyPgBossFlows({ shape, mode, n: Math.min(latencyN, 100), ...settings });
      console.log(
        `${mode} ${shape}: ${formatNumber(r.stepsPerSecond)} steps/s; e2e p50 ${formatMs(e2e.p50)}, p95 ${formatMs(e2e.p95)}`,
      );
    }
  }
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
