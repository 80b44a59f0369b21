import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { createEngine } from '../../src/engine/index.ts';
import { planOutcomes } from '../../src/engine/transitions.ts';
import { SqliteStore } from '../../src/storage/index.ts';
import { ulid } from '../../src/util/ids.ts';
import { delay, handlers, template, testEngine } from './harness.ts';

test("an expired lease makes the step runnable again and counts an attempt; the old owner's late completion is ignored", async () => {
  const engine = await testEngine({ leaseMs: 100 });
  const runs: number[] = [];
  handlers(engine, {
    work: (ctx) => {
      runs.push(ctx.attempt);
      return ctx.attempt;
    },
  });
  template(engine, 'leased', [{ name: 'work' }]);
  const { task } = await engine.startTask({ template: 'test.leased' });

  // A worker that claims the step and then "crashes" (never heartbeats nor completes).
  const ghost = await engine.store.claimSteps({
    workerId: 'ghost',
    limit: 1,
    handlers: ['test/work@1.0.0'],
    now: Date.now(),
    leaseMs: 60,
  });
  assert.equal(ghost.claimed.length, 1);
  engine.startWorkers();
  const done = await engine.waitForTask(task.id, { timeoutMs: 5000 });
  assert.equal(done.status, 'completed');
  assert.deepEqual(runs, [2]);
  const expiry = done.history!.find((h) => h.reason === 'lease_expired')!;
  assert.equal(expiry.from, 'running');
  assert.equal(expiry.error!.message, 'the worker running this step (ghost) stopped renewing its lease');

  // The ghost wakes up and reports: the stale attempt changes nothing.
  const stale = await engine.store.updateTasks([task.id], (state) =>
    planOutcomes(
      state,
      [{ kind: 'completed', stepId: ghost.claimed[0]!.step.id, attempt: 1, result: 'stale' }],
      { now: Date.now(), newId: ulid },
    ),
  );
  assert.deepEqual(stale, []);
  assert.equal((await engine.getTask(task.id)).steps[0]!.result, 2);
});

test('heartbeats keep the lease of a step that runs longer than the lease', async () => {
  const engine = await testEngine({ leaseMs: 60 });
  let runs = 0;
  handlers(engine, {
    long: async () => {
      runs += 1;
      await delay(250);
      return 'done';
    },
  });
  template(engine, 'long', [{ name: 'long' }]);
  engine.startWorkers();
  const { task } = await engine.startTask({ template: 'test.long' });
  const done = await engine.waitForTask(task.id, { timeoutMs: 5000 });
  assert.equal(done.status, 'completed');
  assert.equal(runs, 1);
  assert.equal(done.steps[0]!.attempts, 1);
});

test('graceful shutdown releases unfinished steps without counting the attempt; another worker finishes them', async () => {
  const store = new SqliteStore({ path: ':memory:' });
  await store.migrate();
  const logger = pino({ level: 'silent' });
  const first = await createEngine({ store, logger, pollIntervalMs: 20 });
  const second = await createEngine({ store, logger, pollIntervalMs: 20 });
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  for (const engine of [first, second]) {
    handlers(engine, {
      slow: (ctx) =>
        engine === first
          ? new Promise((_, reject) => {
              started();
              ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error));
            })
          : `finished by the second worker on attempt ${ctx.attempt}`,
    });
    template(engine, 'slow', [{ name: 'slow' }]);
  }
  try {
    first.startWorkers();
    const { task } = await first.startTask({ template: 'test.slow' });
    await running;
    await first.stopWorkers({ timeoutMs: 30 });
    const released = await first.getTask(task.id);
    assert.equal(released.steps[0]!.status, 'ready');
    assert.equal(released.steps[0]!.attempts, 0);
    assert.match(released.history!.at(-1)!.reason!, /shutdown/);
    second.startWorkers();
    const done = await second.waitForTask(task.id, { timeoutMs: 5000 });
    assert.equal(done.steps[0]!.result, 'finished by the second worker on attempt 1');
  } finally {
    await first.close();
    await second.close();
    await store.close();
  }
});
