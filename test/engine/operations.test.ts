import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConflictError, NotFoundError } from '../../src/util/errors.ts';
import { delay, handlers, template, testEngine } from './harness.ts';

test('a failed task lands in the dead-letter queue; replay keeps completed results and re-runs the rest', async () => {
  const engine = await testEngine();
  let fixed = false;
  const calls = { fetch: 0, charge: 0, notify: 0 };
  const chargeRuns: [attempt: number, replays: number][] = [];
  handlers(engine, {
    fetch: () => {
      calls.fetch += 1;
      return { amount: 42 };
    },
    charge: (ctx) => {
      calls.charge += 1;
      chargeRuns.push([ctx.step.attempt, ctx.step.replays]);
      if (!fixed) throw new Error('card processor unavailable');
      return { charged: (ctx.results.fetch as { amount: number }).amount };
    },
    notify: () => {
      calls.notify += 1;
      return 'sent';
    },
  });
  template(engine, 'billing', [
    { name: 'fetch' },
    { name: 'charge', depends_on: ['fetch'], retry: { max_attempts: 2 } },
    { name: 'notify', depends_on: ['charge'] },
  ]);
  engine.startWorkers();
  const { task } = await engine.startTask({ template: 'test.billing' });
  const failed = await engine.waitForTask(task.id, { timeoutMs: 5000 });
  assert.equal(failed.status, 'failed');

  const { dead_letters } = await engine.listDeadLetters();
  const entry = dead_letters.find((d) => d.task_id === task.id)!;
  assert.equal(entry.step, 'charge');
  assert.equal(entry.attempts, 2);
  assert.equal(entry.error!.message, 'card processor unavailable');

  fixed = true;
  await engine.replayDeadLetter(entry.id);
  const done = await engine.waitForTask(task.id, { timeoutMs: 5000 });
  assert.equal(done.status, 'completed');
  assert.deepEqual(calls, { fetch: 1, charge: 3, notify: 1 });
  assert.deepEqual(
    chargeRuns,
    [
      [1, 0],
      [2, 0],
      [1, 1],
    ],
    'retries keep ctx.step.replays, a replay counts one more',
  );
  assert.deepEqual(done.steps.find((s) => s.name === 'charge')!.result, { charged: 42 });
  assert.equal(done.steps.find((s) => s.name === 'charge')!.attempts, 1, 'replay starts attempts afresh');
  assert.ok(
    done.history!.some(
      (h) => h.step === null && h.from === 'failed' && h.to === 'running' && h.reason === 'replay',
    ),
  );
  assert.ok(
    !(await engine.listDeadLetters()).dead_letters.some((d) => d.id === entry.id),
    'the entry is closed',
  );
  await assert.rejects(engine.replayTask(task.id), ConflictError);
});

test('cancel: pending steps are cancelled, the running step sees its signal aborted and its result is discarded', async () => {
  const engine = await testEngine();
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  let sawAbort = false;
  handlers(engine, {
    long: (ctx) =>
      new Promise((resolve) => {
        started();
        ctx.signal.addEventListener('abort', () => {
          sawAbort = true;
          setTimeout(() => resolve('late result'), 20);
        });
      }),
    after: () => 'never',
  });
  template(engine, 'cancellable', [{ name: 'long' }, { name: 'after', depends_on: ['long'] }]);
  engine.startWorkers();
  const { task } = await engine.startTask({ template: 'test.cancellable' });
  await running;
  const cancelled = await engine.cancelTask(task.id);
  assert.equal(cancelled.status, 'cancelled');
  assert.deepEqual(
    cancelled.steps.map((s) => s.status),
    ['cancelled', 'cancelled'],
  );
  await delay(60);
  assert.equal(sawAbort, true);
  const later = await engine.getTask(task.id);
  assert.equal(later.steps[0]!.result, null, 'late result discarded');
  assert.equal(later.status, 'cancelled');
  await assert.rejects(
    engine.cancelTask(task.id),
    (error: unknown) => error instanceof ConflictError && /already cancelled/.test(error.message),
  );
});

test('resolve a failed step with a result: its dependents proceed and the task completes', async () => {
  const engine = await testEngine();
  handlers(engine, {
    lookup: () => {
      throw new Error('registry offline');
    },
    use: (ctx) => ({ got: ctx.results.lookup }),
  });
  template(engine, 'resolvable', [
    { name: 'lookup', retry: { max_attempts: 1 } },
    { name: 'use', depends_on: ['lookup'] },
  ]);
  engine.startWorkers();
  const { task } = await engine.startTask({ template: 'test.resolvable' });
  assert.equal((await engine.waitForTask(task.id, { timeoutMs: 5000 })).status, 'failed');
  await assert.rejects(engine.resolveStep(task.id, 'use'), ConflictError);
  await assert.rejects(engine.resolveStep(task.id, 'nope'), NotFoundError);
  await engine.resolveStep(task.id, 'lookup', { result: { id: 'manual-7' } });
  const done = await engine.waitForTask(task.id, { timeoutMs: 5000 });
  assert.equal(done.status, 'completed');
  assert.deepEqual(
    done.steps.map((s) => s.status),
    ['resolved', 'completed'],
  );
  assert.deepEqual(done.steps[1]!.result, { got: { id: 'manual-7' } });
  assert.ok(done.history!.some((h) => h.step === 'lookup' && h.to === 'resolved'));
});

test('an idempotency key returns the existing task instead of starting another', async () => {
  const engine = await testEngine();
  handlers(engine, { noop: () => null });
  template(engine, 'once', [{ name: 'noop' }]);
  const first = await engine.startTask({
    template: 'test.once',
    input: { a: 1 },
    idempotencyKey: 'order-42',
  });
  const again = await engine.startTask({
    template: 'test.once',
    input: { a: 2 },
    idempotencyKey: 'order-42',
  });
  assert.equal(first.created, true);
  assert.equal(again.created, false);
  assert.equal(again.task.id, first.task.id);
  assert.deepEqual(again.task.input, { a: 1 });
  const other = await engine.startTask({ template: 'test.once', idempotencyKey: 'order-43' });
  assert.notEqual(other.task.id, first.task.id);
  assert.equal((await engine.listTasks({ template: 'test.once' })).tasks.length, 2);
});

test('tasks are listed newest first with filters and cursor pagination', async () => {
  const engine = await testEngine();
  handlers(engine, { noop: () => null });
  template(engine, 'listed', [{ name: 'noop' }]);
  template(engine, 'other', [{ name: 'noop' }]);
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await engine.startTask({ template: 'test.listed' })).task.id);
  await engine.startTask({ template: 'test.other' });
  const first = await engine.listTasks({ template: 'listed', limit: 3 });
  const second = await engine.listTasks({ template: 'listed', limit: 3, cursor: first.next_cursor! });
  assert.deepEqual(
    [...first.tasks, ...second.tasks].map((t) => t.id),
    [...ids].reverse(),
  );
  assert.equal(second.next_cursor, null);
  assert.equal((await engine.listTasks({ namespace: 'test', status: 'pending' })).tasks.length, 6);
  assert.equal((await engine.listTasks({ status: 'completed' })).tasks.length, 0);
});
