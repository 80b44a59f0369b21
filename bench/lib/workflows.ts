/**
 * The multi-step workloads every system runs in `bench:postgres`, and the two ways they are
 * timed: a drain of pre-inserted workflows (steps/s) and closed-loop end-to-end latency.
 *
 * - `chain`: a → b → c (3 steps);
 * - `diamond`: a → (b, c) → d (4 steps; d starts only after both b and c completed).
 *
 * End-to-end latency: `total` workflows, at most `inFlight` at a time (closed loop: a client
 * starts the next workflow when its previous one finished). A sample is the time from the start of
 * the enqueue call to the moment the workflow's last step's handler returns, in the same process,
 * on `performance.now()`. The completion write of that last step is not included, for any system.
 */
import { BenchTimeoutError, withTimeout } from './runner.ts';

export type FlowShape = 'chain' | 'diamond';

export const FLOW_SHAPES: readonly FlowShape[] = ['chain', 'diamond'];

/** Steps per workflow. */
export const FLOW_STEPS: Record<FlowShape, number> = { chain: 3, diamond: 4 };

/** The step that ends a workflow of the shape. */
export const LAST_STEP: Record<FlowShape, string> = { chain: 'c', diamond: 'd' };

/** What a workflow drain returns, for every system. */
export interface FlowDrainResult {
  shape: FlowShape;
  workflows: number;
  steps: number;
  /** Workers started → every step done and its completion persisted. */
  ms: number;
  stepsPerSecond: number;
  workflowsPerSecond: number;
}

export function flowDrainResult(shape: FlowShape, workflows: number, ms: number): FlowDrainResult {
  const steps = workflows * FLOW_STEPS[shape];
  return {
    shape,
    workflows,
    steps,
    ms,
    stepsPerSecond: (steps * 1000) / ms,
    workflowsPerSecond: (workflows * 1000) / ms,
  };
}

/**
 * Completion signals by workflow id: the latency driver waits on an id, a peer's last-step handler
 * calls `finish(id)`. `finish` of an id nobody waits for is ignored (warm-up or duplicates).
 */
export class Waiters {
  readonly #waiting = new Map<number, (t: number) => void>();

  /** Registers a waiter; resolves with `performance.now()` at `finish(id)`. */
  wait(id: number): Promise<number> {
    const { promise, resolve } = Promise.withResolvers<number>();
    this.#waiting.set(id, resolve);
    return promise;
  }

  finish(id: number): void {
    const resolve = this.#waiting.get(id);
    if (!resolve) return;
    this.#waiting.delete(id);
    resolve(performance.now());
  }

  get pending(): number {
    return this.#waiting.size;
  }
}

/**
 * Counts the workflows whose last step ran during a drain; `done` resolves when all `total` did.
 * A workflow finishing twice is a duplicate execution: `done` rejects, so no result is reported.
 */
export class FinishCounter {
  readonly total: number;
  readonly #seen = new Set<number>();
  readonly #done = Promise.withResolvers<void>();

  constructor(total: number) {
    this.total = total;
    if (total === 0) this.#done.resolve();
  }

  get done(): Promise<void> {
    return this.#done.promise;
  }

  get finished(): number {
    return this.#seen.size;
  }

  finish(w: number): void {
    if (this.#seen.has(w)) {
      this.#done.reject(new Error(`workflow ${w} finished twice (a step ran more than once)`));
      return;
    }
    this.#seen.add(w);
    if (this.#seen.size === this.total) this.#done.resolve();
  }

  fail(error: unknown): void {
    this.#done.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

export interface ClosedLoopOptions {
  /** Measured workflows. */
  total: number;
  /** Workflows in flight at once. */
  inFlight: number;
  /** Unmeasured workflows first (same concurrency), default `inFlight * 2`. */
  warmup?: number;
  /** Enqueues workflow `id` (ids are 0…total+warmup-1); its last step must call `waiters.finish(id)`. */
  enqueue: (id: number) => Promise<unknown>;
  waiters: Waiters;
  /** Aborts the whole measurement after this long. */
  timeoutMs: number;
  label: string;
}

/**
 * Closed-loop end-to-end latency: `inFlight` clients, each enqueues a workflow, waits for its last
 * step, and repeats, until `warmup + total` workflows ran. Returns the measured samples in ms.
 */
export async function closedLoopLatency(options: ClosedLoopOptions): Promise<number[]> {
  const warmup = options.warmup ?? options.inFlight * 2;
  const count = warmup + options.total;
  const samples: number[] = [];
  let next = 0;
  let done = 0;
  const client = async (): Promise<void> => {
    while (next < count) {
      const id = next++;
      const finished = options.waiters.wait(id);
      const t0 = performance.now();
      await options.enqueue(id);
      const t1 = await finished;
      done++;
      if (id >= warmup) samples.push(t1 - t0);
    }
  };
  const clients = Array.from({ length: Math.min(options.inFlight, count) }, () => client());
  try {
    await withTimeout(
      Promise.all(clients),
      options.timeoutMs,
      () =>
        `${options.label}: end-to-end latency took more than ${options.timeoutMs / 1000} s ` +
        `(${done}/${count} workflows done)`,
    );
  } catch (error) {
    if (error instanceof BenchTimeoutError) for (const c of clients) c.catch(() => {});
    throw error;
  }
  return samples;
}

/**
 * Serial enqueue→start latency (graphile's perfTest/latencyTest.js shape): `warmup + n` times,
 * enqueue one job and wait until its handler starts (`waiters.finish(id)` from the handler).
 */
export async function serialStartLatency(options: {
  n: number;
  warmup?: number;
  enqueue: (id: number) => Promise<unknown>;
  waiters: Waiters;
  timeoutMs: number;
  label: string;
}): Promise<number[]> {
  const warmup = options.warmup ?? 100;
  const samples: number[] = [];
  const deadline = performance.now() + options.timeoutMs;
  for (let id = 0; id < warmup + options.n; id++) {
    const started = options.waiters.wait(id);
    const t0 = performance.now();
    await options.enqueue(id);
    const t1 = await withTimeout(
      started,
      Math.max(1, deadline - performance.now()),
      () => `${options.label}: serial latency exceeded ${options.timeoutMs / 1000} s at sample ${id}`,
    );
    if (id >= warmup) samples.push(t1 - t0);
  }
  return samples;
}
