/**
 * BullMQ 6 peer adapter on the local Redis: drain throughput of pre-added no-op jobs, serial
 * add→start latency, and 3-step chains / 4-step diamonds as BullMQ flows (see bench/README.md).
 *
 * Every run uses its own key prefix (`bench-<random>`), so it never touches other keys of the
 * Redis it shares; at the end the queue is obliterated, any key left under the prefix is deleted,
 * and every connection (queue, worker, flow producer) is closed.
 *
 * Settings: jobs are added with `addBulk` (1,000 per call, as peers.md §2.4 measures), one `Worker`
 * with `concurrency` as given (default 200, the best of a small sweep here), and
 * `removeOnComplete: true` / `removeOnFail: true` on every job, as BullMQ's "going to production"
 * guide recommends (finished jobs are deleted, like graphile-worker's; Redis keeps no history).
 * A finished job counts when the worker's `completed` event fires, i.e. after the Lua script that
 * moved it to finished ran in Redis.
 *
 * Chains and diamonds: a flow's parent runs after all its children, so the chain a → b → c is one
 * nested flow `{ c, children: [{ b, children: [{ a }] }] }`. Flows are trees (a child has one
 * parent), so a diamond cannot be one flow: a is an ordinary job whose processor adds the flow
 * `{ d, children: [b, c] }` (with job ids `b-<w>`, `c-<w>`, `d-<w>`, so a retried a adds nothing
 * twice). The join is BullMQ's own: d waits in `waiting-children` until b and c completed.
 *
 * Run directly for a quick check: `npx node bench/peers/bullmq.ts`.
 */
import { randomBytes } from 'node:crypto';
import { FlowProducer, Queue, Worker, type FlowJob, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import {
  closedLoopLatency,
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
  Waiters,
  withTimeout,
  type FlowDrainResult,
  type FlowShape,
  type Percentiles,
} from '../lib/index.ts';

const QUEUE = 'bench';
const DEFAULT_CONCURRENCY = 200;

/** `BENCH_REDIS_URL`, default `redis://127.0.0.1:6379`. */
export function benchRedisUrl(): string {
  const url = process.env.BENCH_REDIS_URL;
  return url !== undefined && url.trim() !== '' ? url : 'redis://127.0.0.1:6379';
}

function connectionOptions(): { host: string; port: number; db: number; maxRetriesPerRequest: null } {
  const url = new URL(benchRedisUrl());
  return {
    host: url.hostname || '127.0.0.1',
    port: Number(url.port || 6379),
    db: Number(url.pathname.slice(1) || 0),
    // Workers must not give up on a command (BullMQ requires null for its blocking connection).
    maxRetriesPerRequest: null,
  };
}

const JOB_OPTIONS = { removeOnComplete: true, removeOnFail: true } as const;

/** A queue with its own prefix; `close()` stops everything and deletes every key of the prefix. */
interface Setup {
  prefix: string;
  queue: Queue;
  flows: FlowProducer;
  workers: Worker[];
  errors: Error[];
  close(): Promise<void>;
}

async function setUp(): Promise<Setup> {
  const prefix = `bench-${randomBytes(4).toString('hex')}`;
  const connection = connectionOptions();
  const queue = new Queue(QUEUE, { connection, prefix, defaultJobOptions: JOB_OPTIONS });
  const flows = new FlowProducer({ connection, prefix });
  const workers: Worker[] = [];
  const errors: Error[] = [];
  queue.on('error', (error) => errors.push(error));
  flows.on('error', (error) => errors.push(error));
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    try {
      await Promise.all(workers.map((worker) => worker.close(true)));
      await queue.obliterate({ force: true }).catch(() => {});
    } finally {
      await Promise.allSettled([queue.close(), flows.close()]);
      // Anything obliterate missed (e.g. after a failure): delete the prefix's keys, then disconnect.
      const redis = new Redis({ ...connection, lazyConnect: true });
      try {
        await redis.connect();
        for (;;) {
          const keys = await redis.keys(`${prefix}:*`);
          if (keys.length === 0) break;
          for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
        }
      } finally {
        redis.disconnect();
      }
    }
  };
  try {
    await queue.waitUntilReady();
    await flows.waitUntilReady();
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
  return { prefix, queue, flows, workers, errors, close };
}

/** Creates a worker (not yet running) on the setup's queue. */
async function addWorker(
  setup: Setup,
  concurrency: number,
  processor: (job: Job) => Promise<unknown>,
): Promise<Worker> {
  const worker = new Worker(QUEUE, processor, {
    connection: connectionOptions(),
    prefix: setup.prefix,
    concurrency,
    autorun: false,
  });
  worker.on('error', (error) => setup.errors.push(error));
  worker.on('failed', (_job, error) => setup.errors.push(error));
  setup.workers.push(worker);
  await worker.waitUntilReady();
  return worker;
}

function checkErrors(setup: Setup, label: string): void {
  const [first] = setup.errors;
  if (first)
    throw new Error(`${label}: BullMQ reported ${setup.errors.length} errors, first: ${first.message}`);
}

async function addInBulk(queue: Queue, jobs: { name: string; data: object }[]): Promise<void> {
  for (let i = 0; i < jobs.length; i += 1000)
    await queue.addBulk(jobs.slice(i, i + 1000).map((job) => ({ ...job, opts: JOB_OPTIONS })));
}

// ── drain ────────────────────────────────────────────────────────────────────

export interface BullDrainResult {
  jobs: number;
  concurrency: number;
  /** `worker.run()` → the last `completed` event. */
  ms: number;
  jobsPerSecond: number;
  insertMs: number;
}

/** Adds `jobs` no-op jobs (`addBulk`, 1,000 per call), then times one worker draining them. */
export async function drainBullMQ(
  options: { jobs?: number; concurrency?: number; timeoutMs?: number } = {},
): Promise<BullDrainResult> {
  const jobs = options.jobs ?? 20_000;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const timeoutMs = options.timeoutMs ?? 180_000;
  const setup = await setUp();
  try {
    const t0Insert = performance.now();
    await addInBulk(
      setup.queue,
      Array.from({ length: jobs }, (_, i) => ({ name: 'noop', data: { id: i } })),
    );
    const insertMs = performance.now() - t0Insert;
    const worker = await addWorker(setup, concurrency, () => Promise.resolve());
    let completed = 0;
    const allCompleted = Promise.withResolvers<void>();
    worker.on('completed', () => {
      if (++completed === jobs) allCompleted.resolve();
    });
    const t0 = performance.now();
    void worker.run().catch((error: unknown) => allCompleted.reject(error));
    const label = `BullMQ drain (concurrency ${concurrency})`;
    await withTimeout(
      allCompleted.promise,
      timeoutMs,
      () => `${label} took more than ${timeoutMs / 1000} s: ${completed}/${jobs} jobs completed`,
    );
    const ms = performance.now() - t0;
    checkErrors(setup, label);
    return { jobs, concurrency, ms, jobsPerSecond: perSecond(jobs, ms), insertMs };
  } finally {
    await setup.close();
  }
}

// ── serial latency ───────────────────────────────────────────────────────────

/** Serial `queue.add()`→processor start latency with a worker of concurrency 1. */
export async function latencyBullMQ(
  options: { n?: number; warmup?: number; timeoutMs?: number } = {},
): Promise<Percentiles & { samples: number[] }> {
  const setup = await setUp();
  try {
    const waiters = new Waiters();
    const worker = await addWorker(setup, 1, (job) => {
      waiters.finish((job.data as { id: number }).id);
      return Promise.resolve();
    });
    void worker.run().catch((error: unknown) => setup.errors.push(error as Error));
    const samples = await serialStartLatency({
      n: options.n ?? 1000,
      warmup: options.warmup ?? 100,
      waiters,
      timeoutMs: options.timeoutMs ?? 120_000,
      label: 'BullMQ',
      enqueue: (id) => setup.queue.add('latency', { id }, JOB_OPTIONS),
    });
    checkErrors(setup, 'BullMQ latency');
    return { ...percentiles(samples), samples };
  } finally {
    await setup.close();
  }
}

// ── chains and diamonds ─────────────────────────────────────────────────────

interface StepData {
  w: number;
  s: string;
  k: FlowShape;
}

function step(w: number, s: string, k: FlowShape, children?: FlowJob[]): FlowJob {
  const data: StepData = { w, s, k };
  return {
    name: s,
    queueName: QUEUE,
    data,
    opts: { ...JOB_OPTIONS, jobId: `${s}-${w}` },
    ...(children ? { children } : {}),
  };
}

/** The chain a → b → c as one nested flow (children run first). */
function chainFlow(w: number): FlowJob {
  return step(w, 'c', 'chain', [step(w, 'b', 'chain', [step(w, 'a', 'chain')])]);
}

/** The rest of a diamond once a is done: d waits for its children b and c. */
function diamondTail(w: number): FlowJob {
  return step(w, 'd', 'diamond', [step(w, 'b', 'diamond'), step(w, 'c', 'diamond')]);
}

/** The processor of every step: the no-op, then (diamond a) the tail flow, then `onLast`. */
function stepProcessor(setup: Setup, onLast: (w: number) => void): (job: Job) => Promise<unknown> {
  return async (job) => {
    const { w, s, k } = job.data as StepData;
    if (k === 'diamond' && s === 'a') await setup.flows.add(diamondTail(w));
    if (s === LAST_STEP[k]) onLast(w);
  };
}

/** Enqueues one workflow: the chain's flow, or the diamond's first job. */
function enqueueOne(setup: Setup, shape: FlowShape, w: number): Promise<unknown> {
  return shape === 'chain'
    ? setup.flows.add(chainFlow(w))
    : setup.queue.add('a', { w, s: 'a', k: 'diamond' }, { ...JOB_OPTIONS, jobId: `a-${w}` });
}

export interface BullFlowOptions {
  shape: FlowShape;
  /** Workflows pre-added and drained (default 5,000). */
  workflows?: number;
  concurrency?: number;
  timeoutMs?: number;
}

/**
 * Pre-adds `workflows` workflows (chains: `FlowProducer.addBulk`, 500 flows per call; diamonds:
 * `addBulk` of the a jobs), then times one worker until every step completed.
 */
export async function drainBullMQFlows(options: BullFlowOptions): Promise<FlowDrainResult> {
  const { shape } = options;
  const workflows = options.workflows ?? 5000;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const timeoutMs = options.timeoutMs ?? 300_000;
  const steps = workflows * (shape === 'chain' ? 3 : 4);
  const setup = await setUp();
  try {
    if (shape === 'chain') {
      for (let w = 0; w < workflows; w += 500) {
        const ids = Array.from({ length: Math.min(500, workflows - w) }, (_, i) => w + i);
        await setup.flows.addBulk(ids.map(chainFlow));
      }
    } else {
      await addInBulk(
        setup.queue,
        Array.from({ length: workflows }, (_, w) => ({ name: 'a', data: { w, s: 'a', k: shape } })),
      );
    }
    const finished = new FinishCounter(workflows);
    const worker = await addWorker(
      setup,
      concurrency,
      stepProcessor(setup, (w) => finished.finish(w)),
    );
    let completed = 0;
    const allCompleted = Promise.withResolvers<void>();
    worker.on('completed', () => {
      if (++completed === steps) allCompleted.resolve();
    });
    const t0 = performance.now();
    void worker.run().catch((error: unknown) => allCompleted.reject(error));
    finished.done.catch((error: unknown) => allCompleted.reject(error));
    const label = `BullMQ ${shape} drain`;
    await withTimeout(
      allCompleted.promise,
      timeoutMs,
      () =>
        `${label} took more than ${timeoutMs / 1000} s: ${completed}/${steps} steps completed, ` +
        `${finished.finished}/${workflows} workflows finished`,
    );
    const ms = performance.now() - t0;
    checkErrors(setup, label);
    if (finished.finished !== workflows)
      throw new Error(`${label}: ${finished.finished} last steps ran for ${workflows} workflows`);
    return flowDrainResult(shape, workflows, ms);
  } finally {
    await setup.close();
  }
}

/** Closed-loop end-to-end latency of chains or diamonds (see `closedLoopLatency`). */
export async function latencyBullMQFlows(options: {
  shape: FlowShape;
  n?: number;
  inFlight?: number;
  concurrency?: number;
  timeoutMs?: number;
}): Promise<Percentiles & { samples: number[] }> {
  const { shape } = options;
  const setup = await setUp();
  try {
    const waiters = new Waiters();
    const worker = await addWorker(
      setup,
      options.concurrency ?? DEFAULT_CONCURRENCY,
      stepProcessor(setup, (w) => waiters.finish(w)),
    );
    void worker.run().catch((error: unknown) => setup.errors.push(error as Error));
    const label = `BullMQ ${shape}`;
    const samples = await closedLoopLatency({
      total: options.n ?? 200,
      inFlight: options.inFlight ?? 8,
      waiters,
      timeoutMs: options.timeoutMs ?? 120_000,
      label,
      enqueue: (w) => enqueueOne(setup, shape, w),
    });
    checkErrors(setup, label);
    return { ...percentiles(samples), samples };
  } finally {
    await setup.close();
  }
}

// ── standalone entry: `npx node bench/peers/bullmq.ts` ───────────────────────

async function main(): Promise<void> {
  const jobs = envInt('BENCH_TASKS', 20_000);
  const workflows = envInt('BENCH_DIAMONDS', 2_000);
  const latencyN = envInt('BENCH_LATENCY_N', 200);
  const concurrency = envInt('BENCH_BULLMQ_CONCURRENCY', DEFAULT_CONCURRENCY);
  const drain = await drainBullMQ({ jobs, concurrency });
  console.log(
    `drain: ${formatNumber(drain.jobsPerSecond)} jobs/s (${jobs} jobs, concurrency ${concurrency}, ${formatMs(drain.ms)})`,
  );
  const latency = await latencyBullMQ({ n: latencyN });
  console.log(`latency add→start: p50 ${formatMs(latency.p50)}, p95 ${formatMs(latency.p95)}`);
  for (const shape of FLOW_SHAPES) {
    const r = await drainBullMQFlows({ shape, workflows, concurrency });
    const e2e = await latencyBullMQFlows({ shape, n: Math.min(latencyN, 100), concurrency });
    console.log(
      `${shape}: ${formatNumber(r.stepsPerSecond)} steps/s; e2e p50 ${formatMs(e2e.p50)}, p95 ${formatMs(e2e.p95)}`,
    );
  }
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
