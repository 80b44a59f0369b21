/**
 * graphile-worker peer adapter: drain throughput and serial enqueue→start latency, measured the
 * way graphile-worker's own `perfTest/` does, but in-process (see bench/README.md).
 *
 * Run directly for a quick check: `npx node bench/peers/graphile.ts [--write]`.
 */
import { EventEmitter } from 'node:events';
import { Pool, type PoolClient } from 'pg';
import {
  Logger,
  runMigrations,
  runTaskList,
  type Task,
  type WorkerEvents,
  type WorkerPool,
} from 'graphile-worker';
import {
  benchRuns,
  closedLoopLatency,
  createFreshDatabase,
  describeMachine,
  envInt,
  envIntList,
  formatBytes,
  formatMs,
  formatNumber,
  formatRatio,
  FinishCounter,
  flowDrainResult,
  formatTable,
  LAST_STEP,
  markdownTable,
  median,
  percentiles,
  perSecond,
  renderSection,
  repeat,
  sleep,
  startRssSampler,
  withTimeout,
  writeSection,
  Waiters,
  type Column,
  type FlowDrainResult,
  type FlowShape,
  type FreshDatabase,
  type Percentiles,
  type Repeated,
} from '../lib/index.ts';

/** A logger that drops everything (graphile-worker logs every job at `info` otherwise). */
export const silentLogger = new Logger(() => () => {});

export interface GraphileDrainOptions {
  /** Jobs to pre-insert and drain (default 20,000). */
  jobs?: number;
  /** `concurrentJobs` of the one in-process worker pool (default 24, as in graphile's perfTest). */
  concurrency?: number;
  /**
   * Batched mode: `localQueue: { size: localQueueSize }`, `completeJobBatchDelay: 0`,
   * `failJobBatchDelay: 0`. Unbatched: local queue off and both delays -1 (the defaults).
   */
  batched: boolean;
  /** Local queue size in batched mode (default 500, as in graphile's perfTest). */
  localQueueSize?: number;
  /** Abort with a BenchTimeoutError when the drain takes longer (default 120,000 ms). */
  timeoutMs?: number;
  /**
   * `synchronous_commit` for the fresh database (default: the server's, normally `on`). `off`
   * takes the WAL fsync out of every commit; label such figures.
   */
  synchronousCommit?: 'on' | 'off';
  /** Admin URL of the server to create the fresh database on (default `BENCH_PG_URL`). */
  pgUrl?: string;
}

export interface GraphileDrainResult {
  jobs: number;
  concurrency: number;
  batched: boolean;
  /** Local queue size used (-1 = off). */
  localQueueSize: number;
  /** Pool size used (`concurrency + 1`). */
  maxPoolSize: number;
  /** Worker start → the last job's completion is in the database (its row deleted). */
  ms: number;
  /** `jobs / ms`, per second. */
  jobsPerSecond: number;
  /** Worker start → the last task function returned (completions may still be in flight). */
  msExecuted: number;
  /** The one `add_jobs(...)` call that enqueued all jobs. */
  insertMs: number;
  insertJobsPerSecond: number;
  /** Peak RSS of this process during the drain (sampled; process-wide, so earlier runs count). */
  peakRssBytes: number;
  /** RSS when the drain started. */
  startRssBytes: number;
}

/** The job rows, for polling the queue empty. */
const JOBS_TABLE = 'graphile_worker._private_jobs';

function makePool(url: string, max: number): Pool {
  const pool = new Pool({ connectionString: url, max });
  // graphile-worker warns about pools without these handlers; idle-client errors must not crash us.
  pool.on('error', () => {});
  pool.on('connect', (client: PoolClient) => {
    client.on('error', () => {});
  });
  return pool;
}

/** Opens `n` connections up front so connection setup is not timed (perfTest subtracts start-up too). */
async function warmPool(pool: Pool, n: number): Promise<void> {
  const clients = await Promise.all(Array.from({ length: n }, () => pool.connect()));
  for (const c of clients) c.release();
}

/** Migrates graphile-worker's schema into `url` (silently). */
async function migrate(url: string): Promise<void> {
  await runMigrations({ connectionString: url, logger: silentLogger });
}

/**
 * Bulk-inserts `jobs` no-op jobs with one `graphile_worker.add_jobs(...)` call (the shape of
 * perfTest's bulk insert), then VACUUM ANALYZE + CHECKPOINT so the drain starts from a quiet
 * database. Returns the insert time in ms.
 */
async function bulkInsert(
  url: string,
  jobs: number,
  task: string,
  payload: (i: number) => object = (i) => ({ id: i }),
): Promise<number> {
  const pool = makePool(url, 1);
  try {
    const specs = JSON.stringify(
      Array.from({ length: jobs }, (_, i) => ({ identifier: task, payload: payload(i) })),
    );
    const t0 = performance.now();
    await pool.query(
      `select graphile_worker.add_jobs(array(
         select json_populate_recordset(null::graphile_worker.job_spec, $1::json)))`,
      [specs],
    );
    const insertMs = performance.now() - t0;
    await pool.query(`vacuum analyze ${JOBS_TABLE}`);
    await pool.query('checkpoint');
    return insertMs;
  } finally {
    await pool.end();
  }
}

/** Sets `synchronous_commit` for every later connection to the database. */
async function setSynchronousCommit(db: FreshDatabase, value: 'on' | 'off'): Promise<void> {
  const pool = makePool(db.url, 1);
  try {
    await pool.query(`alter database ${db.name} set synchronous_commit = ${value === 'off' ? 'off' : 'on'}`);
  } finally {
    await pool.end();
  }
}

function batchedPreset(batched: boolean, localQueueSize: number): GraphileConfig.Preset {
  return batched
    ? { worker: { localQueue: { size: localQueueSize }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } }
    : { worker: { localQueue: { size: -1 }, completeJobBatchDelay: -1, failJobBatchDelay: -1 } };
}

/**
 * Stops the worker pool, then waits until `pool` has no client checked out, so that
 * graphile-worker's fire-and-forget completions do not hit an ended pool. On failure the
 * shutdown is still graceful first (tasks are no-ops), forceful only if that takes over 10 s.
 */
async function stopPool(
  workerPool: WorkerPool | undefined,
  pool: Pool | undefined,
  failed: boolean,
): Promise<void> {
  if (workerPool) {
    const graceful = Promise.resolve(
      workerPool.gracefulShutdown(failed ? 'benchmark aborted' : 'benchmark done'),
    );
    try {
      await withTimeout(graceful, 10_000, () => 'graphile graceful shutdown took more than 10 s');
    } catch (err) {
      if (!failed) throw err;
      graceful.catch(() => {});
      await workerPool.forcefulShutdown('benchmark aborted');
    }
    await workerPool.promise.catch(() => {});
  }
  if (pool) {
    const deadline = performance.now() + 10_000;
    while ((pool.totalCount > pool.idleCount || pool.waitingCount > 0) && performance.now() < deadline) {
      await sleep(5);
    }
    await pool.end();
  }
}

/**
 * On a fresh database: migrate, bulk-insert `jobs` no-op jobs, start one in-process worker pool
 * (`runTaskList`, task list `{ noop }`) and time it until every job is executed and its
 * completion is persisted; then shut the pool down and drop the database.
 */
export async function drainGraphile(options: GraphileDrainOptions): Promise<GraphileDrainResult> {
  const jobs = options.jobs ?? 20_000;
  const concurrency = options.concurrency ?? 24;
  const { batched } = options;
  const localQueueSize = batched ? (options.localQueueSize ?? 500) : -1;
  const maxPoolSize = concurrency + 1;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const db: FreshDatabase = await createFreshDatabase('graphile', options.pgUrl);
  let pool: Pool | undefined;
  let workerPool: WorkerPool | undefined;
  let failed = true;
  try {
    if (options.synchronousCommit) await setSynchronousCommit(db, options.synchronousCommit);
    await migrate(db.url);
    const insertMs = await bulkInsert(db.url, jobs, 'noop');
    pool = makePool(db.url, maxPoolSize);
    await warmPool(pool, maxPoolSize);

    const events = new EventEmitter() as WorkerEvents;
    let succeeded = 0;
    let errors = 0;
    let firstError: unknown;
    const executed = Promise.withResolvers<number>();
    events.on('job:success', () => {
      if (++succeeded === jobs) executed.resolve(performance.now());
    });
    events.on('job:error', ({ error }) => {
      errors++;
      firstError ??= error;
      executed.reject(new Error(`graphile job failed: ${String(error)}`));
    });
    const rss = startRssSampler();
    const t0 = performance.now();
    workerPool = runTaskList(
      {
        concurrency,
        logger: silentLogger,
        events,
        noHandleSignals: true,
        preset: batchedPreset(batched, localQueueSize),
      },
      { noop: async () => {} },
      pool,
    );
    const progress = (): string =>
      `graphile drain (${batched ? 'batched' : 'unbatched'}, concurrency ${concurrency}) took more than ` +
      `${timeoutMs / 1000} s: ${succeeded}/${jobs} jobs executed, ${errors} errors`;
    const tExecuted = await withTimeout(executed.promise, timeoutMs, progress);
    // Completions are fire-and-forget in graphile-worker 0.18 (batched or not): wait until the
    // last one has deleted its row, which is what "done" means for a durable queue.
    const poller = await pool.connect();
    try {
      const deadline = t0 + timeoutMs;
      for (;;) {
        const res = await poller.query<{ left: boolean }>(
          `select exists(select 1 from ${JOBS_TABLE}) as left`,
        );
        if (!res.rows[0]?.left) break;
        if (performance.now() > deadline) throw new Error(`${progress()} (completions still pending)`);
        await sleep(1);
      }
    } finally {
      poller.release();
    }
    const ms = performance.now() - t0;
    const peakRssBytes = rss.stop();
    if (errors > 0) throw new Error(`graphile drain had ${errors} job errors, first: ${String(firstError)}`);
    failed = false;
    return {
      jobs,
      concurrency,
      batched,
      localQueueSize,
      maxPoolSize,
      ms,
      jobsPerSecond: perSecond(jobs, ms),
      msExecuted: tExecuted - t0,
      insertMs,
      insertJobsPerSecond: perSecond(jobs, insertMs),
      peakRssBytes,
      startRssBytes: rss.startBytes,
    };
  } finally {
    try {
      await stopPool(workerPool, pool, failed);
    } finally {
      await db.drop();
    }
  }
}

export interface GraphileLatencyOptions {
  /** Measured samples (default 1,000). */
  n?: number;
  /** Unmeasured jobs first (default 100, as in perfTest/latencyTest.js). */
  warmup?: number;
  /** Worker concurrency (default 1, as in perfTest/latencyTest.js). */
  concurrency?: number;
  /** Use the batched settings (default false, as in perfTest/latencyTest.js). */
  batched?: boolean;
  /** Abort after this long in total (default 120,000 ms). */
  timeoutMs?: number;
  pgUrl?: string;
}

export interface GraphileLatencyResult extends Percentiles {
  /** Every sample, in ms, in order. */
  samples: number[];
  concurrency: number;
  batched: boolean;
}

/**
 * Serial enqueue→start latency (perfTest/latencyTest.js): `n` times, `add_job('latency', {id})`
 * on a dedicated connection, then wait until the task function starts; ms per sample.
 */
export async function latencyGraphile(options: GraphileLatencyOptions = {}): Promise<GraphileLatencyResult> {
  const n = options.n ?? 1000;
  const warmup = options.warmup ?? 100;
  const concurrency = options.concurrency ?? 1;
  const batched = options.batched ?? false;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const db = await createFreshDatabase('graphile', options.pgUrl);
  let pool: Pool | undefined;
  let workerPool: WorkerPool | undefined;
  let failed = true;
  try {
    await migrate(db.url);
    pool = makePool(db.url, concurrency + 2);
    const started = new Map<number, (t: number) => void>();
    const tasks = {
      latency: (payload: unknown): void => {
        const t = performance.now();
        const { id } = payload as { id: number };
        started.get(id)?.(t);
      },
    };
    workerPool = runTaskList(
      {
        concurrency,
        logger: silentLogger,
        noHandleSignals: true,
        preset: batchedPreset(batched, concurrency + 1),
      },
      tasks,
      pool,
    );
    const client = await pool.connect();
    const samples: number[] = [];
    const deadline = performance.now() + timeoutMs;
    try {
      for (let id = -warmup; id < n; id++) {
        const { promise, resolve } = Promise.withResolvers<number>();
        started.set(id, resolve);
        const t0 = performance.now();
        await client.query(`select graphile_worker.add_job('latency', json_build_object('id', $1::int))`, [
          id,
        ]);
        const t1 = await withTimeout(
          promise,
          Math.max(1, deadline - performance.now()),
          () => `graphile latency test exceeded ${timeoutMs / 1000} s at sample ${id}/${n}`,
        );
        started.delete(id);
        if (id >= 0) samples.push(t1 - t0);
        else if (id === -1) await sleep(200); // let the warm-up settle, like perfTest's pause
      }
    } finally {
      client.release();
    }
    failed = false;
    return { ...percentiles(samples), samples, concurrency, batched };
  } finally {
    try {
      await stopPool(workerPool, pool, failed);
    } finally {
      await db.drop();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Chains and diamonds: graphile-worker has no DAGs (graphile/worker#458), so each step is a job
// of one task `step` whose function enqueues its successors; the diamond's join is a counter row.

/** Payload of a `step` job: workflow id, step name, shape. */
interface StepPayload {
  w: number;
  s: string;
  k: FlowShape;
}

/** The join counter of the diamonds (one row per workflow that reached b or c). */
const JOIN_TABLE = 'public.bench_join';

/**
 * b or c of a diamond finished: count it, and when it is the second one add d. One statement, so
 * counting and enqueueing commit together; a retried b or c counts 3 and adds nothing.
 */
const JOIN_SQL = `with j as (
    insert into ${JOIN_TABLE} (w, n) values ($1, 1)
    on conflict (w) do update set n = ${JOIN_TABLE}.n + 1
    returning n
  )
  select graphile_worker.add_job('step', json_build_object('w', $1::int, 's', 'd', 'k', 'diamond'))
  from j where n = 2`;

/** The `step` task: runs the no-op, enqueues the successors, calls `onLast` after a last step. */
function stepTask(onLast: (w: number) => void): Task {
  return async (payload, helpers) => {
    const { w, s, k } = payload as StepPayload;
    if (k === 'chain') {
      if (s === 'a') await helpers.addJob('step', { w, s: 'b', k });
      else if (s === 'b') await helpers.addJob('step', { w, s: 'c', k });
    } else if (s === 'a') {
      await helpers.addJobs([
        { identifier: 'step', payload: { w, s: 'b', k } },
        { identifier: 'step', payload: { w, s: 'c', k } },
      ]);
    } else if (s === 'b' || s === 'c') {
      await helpers.query(JOIN_SQL, [w]);
    }
    if (s === LAST_STEP[k]) onLast(w);
  };
}

async function createJoinTable(pool: Pool): Promise<void> {
  await pool.query(`create table ${JOIN_TABLE} (w int primary key, n int not null)`);
}

export interface GraphileFlowOptions {
  shape: FlowShape;
  /** Workflows pre-inserted and drained (default 5,000). */
  workflows?: number;
  /** Worker concurrency (default 24). */
  concurrency?: number;
  batched: boolean;
  localQueueSize?: number;
  timeoutMs?: number;
  pgUrl?: string;
}

/**
 * On a fresh database: pre-insert `workflows` first steps (one `add_jobs` call), start one worker
 * pool and time it until every last step ran and the jobs table is empty (all completions
 * persisted, the successors enqueued by the steps included).
 */
export async function drainGraphileFlows(options: GraphileFlowOptions): Promise<FlowDrainResult> {
  const { shape, batched } = options;
  const workflows = options.workflows ?? 5000;
  const concurrency = options.concurrency ?? 24;
  const localQueueSize = batched ? (options.localQueueSize ?? 500) : -1;
  const timeoutMs = options.timeoutMs ?? 180_000;
  const db = await createFreshDatabase('graphile', options.pgUrl);
  let pool: Pool | undefined;
  let workerPool: WorkerPool | undefined;
  let failed = true;
  try {
    await migrate(db.url);
    pool = makePool(db.url, concurrency + 1);
    await createJoinTable(pool);
    await bulkInsert(db.url, workflows, 'step', (w) => ({ w, s: 'a', k: shape }));
    await warmPool(pool, concurrency + 1);
    const finished = new FinishCounter(workflows);
    const events = new EventEmitter() as WorkerEvents;
    events.on('job:error', ({ error }) => finished.fail(new Error(`graphile step failed: ${String(error)}`)));
    const t0 = performance.now();
    workerPool = runTaskList(
      {
        concurrency,
        logger: silentLogger,
        events,
        noHandleSignals: true,
        preset: batchedPreset(batched, localQueueSize),
      },
      {
        step: stepTask((w) => finished.finish(w)),
      },
      pool,
    );
    const label = `graphile ${shape} drain (${batched ? 'batched' : 'unbatched'})`;
    await withTimeout(
      finished.done,
      timeoutMs,
      () =>
        `${label} took more than ${timeoutMs / 1000} s: ${finished.finished}/${workflows} workflows finished`,
    );
    const deadline = t0 + timeoutMs;
    for (;;) {
      const res = await pool.query<{ left: boolean }>(`select exists(select 1 from ${JOBS_TABLE}) as left`);
      if (!res.rows[0]?.left) break;
      if (performance.now() > deadline)
        throw new Error(`${label}: completions still pending at the deadline`);
      await sleep(1);
    }
    const ms = performance.now() - t0;
    failed = false;
    return flowDrainResult(shape, workflows, ms);
  } finally {
    try {
      await stopPool(workerPool, pool, failed);
    } finally {
      await db.drop();
    }
  }
}

export interface GraphileFlowLatencyOptions {
  shape: FlowShape;
  /** Measured workflows (default 200). */
  n?: number;
  /** Workflows in flight at once (default 8). */
  inFlight?: number;
  concurrency?: number;
  batched: boolean;
  localQueueSize?: number;
  timeoutMs?: number;
  pgUrl?: string;
}

/** Closed-loop end-to-end latency of chains or diamonds (see `closedLoopLatency`). */
export async function latencyGraphileFlows(
  options: GraphileFlowLatencyOptions,
): Promise<Percentiles & { samples: number[] }> {
  const { shape, batched } = options;
  const n = options.n ?? 200;
  const inFlight = options.inFlight ?? 8;
  const concurrency = options.concurrency ?? 24;
  const localQueueSize = batched ? (options.localQueueSize ?? 500) : -1;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const db = await createFreshDatabase('graphile', options.pgUrl);
  let pool: Pool | undefined;
  let workerPool: WorkerPool | undefined;
  let failed = true;
  try {
    await migrate(db.url);
    pool = makePool(db.url, concurrency + inFlight + 1);
    await createJoinTable(pool);
    await warmPool(pool, concurrency + inFlight + 1);
    const waiters = new Waiters();
    workerPool = runTaskList(
      {
        concurrency,
        logger: silentLogger,
        noHandleSignals: true,
        preset: batchedPreset(batched, localQueueSize),
      },
      { step: stepTask((w) => waiters.finish(w)) },
      pool,
    );
    const client = pool;
    const samples = await closedLoopLatency({
      total: n,
      inFlight,
      waiters,
      timeoutMs,
      label: `graphile ${shape} (${batched ? 'batched' : 'unbatched'})`,
      enqueue: (w) =>
        client.query(
          `select graphile_worker.add_job('step', json_build_object('w', $1::int, 's', 'a', 'k', $2::text))`,
          [w, shape],
        ),
    });
    failed = false;
    return { ...percentiles(samples), samples };
  } finally {
    try {
      await stopPool(workerPool, pool, failed);
    } finally {
      await db.drop();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Standalone entry: `npx node bench/peers/graphile.ts [--write]`

interface Row {
  mode: string;
  concurrency: number;
  localQueue: string;
  result: Repeated<GraphileDrainResult>;
  vsUnbatched: number | null;
}

function parseModes(raw: string | undefined): boolean[] {
  const names = (raw ?? 'batched,unbatched').split(',').map((s) => s.trim());
  return names.map((m) => {
    if (m === 'batched') return true;
    if (m === 'unbatched') return false;
    throw new Error(`BENCH_MODES entries must be 'batched' or 'unbatched', got ${JSON.stringify(m)}`);
  });
}

async function main(): Promise<void> {
  const jobs = envInt('BENCH_JOBS', 20_000);
  const concurrencies = envIntList('BENCH_CONCURRENCY', [8, 16, 24, 32]);
  const modes = parseModes(process.env.BENCH_MODES);
  const localQueueEnv = process.env.BENCH_LOCAL_QUEUE; // a size, or `c+1` for concurrency + 1
  const latencyN = process.env.BENCH_LATENCY_N === '0' ? 0 : envInt('BENCH_LATENCY_N', 1000);
  const syncEnv = process.env.BENCH_SYNC_COMMIT;
  if (syncEnv !== undefined && syncEnv !== 'on' && syncEnv !== 'off') {
    throw new Error(`BENCH_SYNC_COMMIT must be 'on' or 'off', got ${JSON.stringify(syncEnv)}`);
  }
  const synchronousCommit = syncEnv;
  const runs = benchRuns();
  const write = process.argv.includes('--write');
  const queueSize = (c: number): number =>
    localQueueEnv === 'c+1' ? c + 1 : localQueueEnv ? envInt('BENCH_LOCAL_QUEUE', 500) : 500;

  const machine = await describeMachine({ postgres: true, packages: ['graphile-worker', 'pg'] });
  console.log(
    `graphile-worker drain: ${jobs} jobs, ${runs} runs each, concurrency ${concurrencies.join('/')}`,
  );
  // Unmeasured warm-up drain: JIT, pg and graphile code paths.
  await drainGraphile({ jobs: 2000, concurrency: concurrencies[0] ?? 8, batched: true });

  const rows: Row[] = [];
  for (const batched of modes) {
    for (const concurrency of concurrencies) {
      const localQueueSize = queueSize(concurrency);
      const label = `${batched ? 'batched' : 'unbatched'} c=${concurrency}`;
      const result = await repeat(
        () => drainGraphile({ jobs, concurrency, batched, localQueueSize, synchronousCommit }),
        {
          runs,
          metric: (r) => r.jobsPerSecond,
          onRun: (i, v) => console.log(`  ${label} run ${i + 1}/${runs}: ${formatNumber(v)} jobs/s`),
        },
      );
      rows.push({
        mode: batched ? 'batched' : 'unbatched',
        concurrency,
        localQueue: batched ? String(localQueueSize) : 'off',
        result,
        vsUnbatched: null,
      });
    }
  }
  for (const row of rows) {
    const base = rows.find((r) => r.mode === 'unbatched' && r.concurrency === row.concurrency);
    if (row.mode === 'batched' && base) row.vsUnbatched = row.result.median / base.result.median;
  }
  const columns: Column<Row>[] = [
    { title: 'mode', value: (r) => r.mode },
    { title: 'concurrency', value: (r) => r.concurrency },
    { title: 'localQueue', value: (r) => r.localQueue, align: 'right' },
    { title: 'jobs/s (median)', value: (r) => r.result.median },
    { title: 'runs (jobs/s)', value: (r) => r.result.values.map((v) => formatNumber(v)).join(' / ') },
    { title: 'drain (median run)', value: (r) => formatMs(r.result.medianRun.ms), align: 'right' },
    { title: 'add_jobs jobs/s', value: (r) => median(r.result.runs.map((x) => x.insertJobsPerSecond)) },
    { title: 'peak RSS', value: (r) => formatBytes(r.result.medianRun.peakRssBytes), align: 'right' },
    {
      title: 'vs unbatched',
      value: (r) => (r.vsUnbatched === null ? null : formatRatio(r.vsUnbatched)),
      align: 'right',
    },
  ];
  console.log(`\n${formatTable(columns, rows)}`);

  let latency: GraphileLatencyResult | undefined;
  if (latencyN > 0) {
    latency = await latencyGraphile({ n: latencyN });
    console.log(
      `\nlatency add_job→start (n=${latency.n}, concurrency 1, unbatched): p50 ${formatMs(latency.p50)}, ` +
        `p95 ${formatMs(latency.p95)}, p99 ${formatMs(latency.p99)}, max ${formatMs(latency.max)}`,
    );
  }

  if (write) {
    const best = rows.reduce((a, b) => (b.result.median > a.result.median ? b : a));
    const notes = [
      'One in-process worker pool (`runTaskList`), `maxPoolSize` = concurrency + 1, task `noop: async () => {}`; ' +
        'jobs pre-inserted by one `graphile_worker.add_jobs(...)` call, then VACUUM ANALYZE + CHECKPOINT; ' +
        'each run on a fresh database.',
      'Time = worker start → the last job row deleted (graphile-worker 0.18 completes jobs fire-and-forget, ' +
        'so the last `job:success` comes a little earlier). Connections are opened before the clock starts.',
      'batched = `localQueue.size` as shown, `completeJobBatchDelay: 0`, `failJobBatchDelay: 0`; ' +
        'unbatched = local queue off, both delays -1.',
      `Best here: ${best.mode}, concurrency ${best.concurrency}: ${formatNumber(best.result.median)} jobs/s.`,
    ];
    if (latency) {
      notes.push(
        `Serial add_job→task start latency (n=${latency.n}, concurrency 1, unbatched, perfTest/latencyTest.js shape): ` +
          `p50 ${formatMs(latency.p50)}, p95 ${formatMs(latency.p95)}, p99 ${formatMs(latency.p99)}, max ${formatMs(latency.max)}.`,
      );
    }
    const section = synchronousCommit === 'off' ? 'peer-graphile-sync-off' : 'peer-graphile';
    const file = writeSection(
      section,
      renderSection({
        title: `Peer: graphile-worker drain throughput${synchronousCommit === 'off' ? ' (synchronous_commit=off)' : ''}`,
        summary: `Drain ${formatNumber(jobs)} pre-inserted no-op jobs on PostgreSQL; median of ${runs} runs.`,
        command: 'npx node bench/peers/graphile.ts --write',
        machine,
        settings: {
          jobs,
          runs,
          concurrency: concurrencies.join('/'),
          localQueue: localQueueEnv ?? 500,
          synchronous_commit: synchronousCommit ?? 'server default (on)',
        },
        table: markdownTable(columns, rows),
        notes,
      }),
    );
    console.log(`\nwrote section ${section} of ${file}`);
  }
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
