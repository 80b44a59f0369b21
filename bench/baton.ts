/** The Baton side of the benchmarks: the workflows measured, bulk loading, and a timed drain. */
import type { Engine, StepContext } from '../src/engine/index.ts';
import { withTimeout } from './lib/index.ts';

export type Shape = 'single' | 'chain' | 'diamond';

const STEPS_PER_TASK: Record<Shape, number> = { single: 1, chain: 3, diamond: 4 };

export interface DrainResult {
  tasks: number;
  steps: number;
  ms: number;
  tasksPerSecond: number;
  stepsPerSecond: number;
}

/**
 * `bench.single` (one no-op step), `bench.chain` (a → b → c) and `bench.diamond` (a → b, c → d),
 * all on the `bench/noop` handler. `onStep`, when given, is called by every step's handler just
 * before it returns (the end-to-end latency clock); without it the handler is a bare `() => null`.
 */
export function defineBenchWorkflows(engine: Engine, onStep?: (context: StepContext) => void): void {
  const handler = onStep
    ? (context: StepContext) => {
        onStep(context);
        return null;
      }
    : () => null;
  engine.registerHandler({ namespace: 'bench', name: 'noop', handler });
  engine.registerTemplate({
    namespace: 'bench',
    name: 'single',
    steps: [{ name: 'a', handler: 'bench/noop' }],
  });
  engine.registerTemplate({
    namespace: 'bench',
    name: 'chain',
    steps: [
      { name: 'a', handler: 'bench/noop' },
      { name: 'b', handler: 'bench/noop', depends_on: ['a'] },
      { name: 'c', handler: 'bench/noop', depends_on: ['b'] },
    ],
  });
  engine.registerTemplate({
    namespace: 'bench',
    name: 'diamond',
    steps: [
      { name: 'a', handler: 'bench/noop' },
      { name: 'b', handler: 'bench/noop', depends_on: ['a'] },
      { name: 'c', handler: 'bench/noop', depends_on: ['a'] },
      { name: 'd', handler: 'bench/noop', depends_on: ['b', 'c'] },
    ],
  });
}

/** Starts `count` tasks of a template in bulk, 1,000 per transaction. */
export async function enqueue(engine: Engine, template: string, count: number): Promise<void> {
  for (let start = 0; start < count; start += 1000) {
    const size = Math.min(1000, count - start);
    await engine.startTasks(Array.from({ length: size }, (_, i) => ({ template, input: { i: start + i } })));
  }
}

/** Pre-inserts `tasks` tasks of `shape`, then times the engine's workers draining them all. */
export async function timeDrain(
  engine: Engine,
  shape: Shape,
  tasks: number,
  timeoutMs: number,
): Promise<DrainResult> {
  await enqueue(engine, `bench.${shape}`, tasks);
  // Counted from the engine's own events, which are published after the completion commits (as
  // the graphile peer counts its job:success events): polling the store would compete with the drain.
  let completed = 0;
  const drained = Promise.withResolvers<void>();
  const unsubscribe = engine.on('task.completed', () => {
    if (++completed === tasks) drained.resolve();
  });
  const started = performance.now();
  engine.startWorkers();
  try {
    await withTimeout(
      drained.promise,
      timeoutMs,
      () => `Baton ${shape} drain (${engine.store.kind}) took too long`,
    );
  } finally {
    unsubscribe();
  }
  const ms = performance.now() - started;
  const stored = (await engine.store.stats()).tasks.completed;
  if (stored < tasks) throw new Error(`drain ended with ${stored} of ${tasks} tasks completed in the store`);
  const steps = tasks * STEPS_PER_TASK[shape];
  return { tasks, steps, ms, tasksPerSecond: (tasks / ms) * 1000, stepsPerSecond: (steps / ms) * 1000 };
}
