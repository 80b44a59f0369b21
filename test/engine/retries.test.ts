import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PermanentError, RetryableError } from '../../src/engine/index.ts';
import { ValidationError } from '../../src/util/errors.ts';
import { DEFAULT_RETRY_POLICY, resolveRetryPolicy, retryDelayMs } from '../../src/engine/retry.ts';
import type { BatonEvent } from '../../src/engine/views.ts';
import { handlers, template, testEngine } from './harness.ts';

const policy = (overrides: Parameters<typeof resolveRetryPolicy>[0]) =>
  resolveRetryPolicy(overrides, DEFAULT_RETRY_POLICY);

test('exponential backoff: base × factor^(n-1), capped at max_ms', () => {
  const p = policy({ backoff: { base_ms: 100, factor: 3, max_ms: 1000, jitter: 0 } });
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => retryDelayMs(p, n, undefined)),
    [100, 300, 900, 1000],
  );
});

test('a schedule wins while it is long enough, then the formula applies', () => {
  const p = policy({ backoff: { schedule_ms: [7, 70], base_ms: 100, factor: 2, max_ms: 10_000, jitter: 0 } });
  assert.deepEqual(
    [1, 2, 3].map((n) => retryDelayMs(p, n, undefined)),
    [7, 70, 400],
  );
});

test('jitter spreads the delay by at most ±jitter × delay', () => {
  const p = policy({ backoff: { base_ms: 1000, factor: 2, max_ms: 10_000, jitter: 0.1 } });
  assert.equal(
    retryDelayMs(p, 1, undefined, () => 0),
    900,
  );
  assert.equal(
    retryDelayMs(p, 1, undefined, () => 1),
    1100,
  );
  assert.equal(
    retryDelayMs(p, 1, undefined, () => 0.5),
    1000,
  );
});

test('Retry-After wins over the computed delay, is capped, and is never jittered', () => {
  const p = policy({
    backoff: { base_ms: 10, factor: 2, max_ms: 100, jitter: 0.5 },
    max_retry_after_ms: 5000,
  });
  assert.equal(
    retryDelayMs(p, 1, 3000, () => 0),
    3000,
  );
  assert.equal(
    retryDelayMs(p, 1, 60_000, () => 1),
    5000,
  );
});

test('engine defaults match SPEC §2.4', () => {
  assert.deepEqual(DEFAULT_RETRY_POLICY, {
    max_attempts: 3,
    backoff: { base_ms: 1000, factor: 2, max_ms: 300_000, jitter: 0.1 },
    max_retry_after_ms: 300_000,
  });
});

function recordEvents(engine: Awaited<ReturnType<typeof testEngine>>) {
  const events: BatonEvent[] = [];
  engine.on('*', (event) => events.push(event));
  return events;
}

test('a flaky step succeeds after retries, with the delays of its backoff', async () => {
  const engine = await testEngine();
  let calls = 0;
  handlers(engine, {
    flaky: (ctx) => {
      calls += 1;
      if (ctx.attempt < 3) throw new Error(`transient ${ctx.attempt}`);
      return { attempt: ctx.attempt };
    },
  });
  template(engine, 'flaky', [
    { name: 'flaky', retry: { max_attempts: 4, backoff: { base_ms: 10, factor: 3, jitter: 0 } } },
  ]);
  const events = recordEvents(engine);
  engine.startWorkers();
  const { task } = await engine.startTask({ template: 'test.flaky' });
  const done = await engine.waitForTask(task.id, { timeoutMs: 5000 });
  assert.equal(done.status, 'completed');
  assert.equal(calls, 3);
  assert.equal(done.steps[0]!.attempts, 3);
  assert.deepEqual(done.steps[0]!.result, { attempt: 3 });
  const retries = events.filter((e) => e.type === 'step.retry_scheduled');
  assert.deepEqual(
    retries.map((e) => e.data!.delay_ms),
    [10, 30],
  );
  assert.deepEqual(
    retries.map((e) => e.error!.message),
    ['transient 1', 'transient 2'],
  );
  const history = done.history!.filter((h) => h.step === 'flaky').map((h) => `${h.from}->${h.to}`);
  assert.deepEqual(history, [
    'pending->ready',
    'ready->running',
    'running->ready',
    'ready->running',
    'running->ready',
    'ready->running',
    'running->completed',
  ]);
});

test('RetryableError with retryAfterMs sets the delay exactly', async () => {
  const engine = await testEngine();
  handlers(engine, {
    limited: (ctx) => {
      if (ctx.attempt === 1) throw new RetryableError('429 from upstream', { retryAfterMs: 40 });
      return 'ok';
    },
  });
  template(engine, 'limited', [{ name: 'limited', retry: { backoff: { base_ms: 1, jitter: 0.5 } } }]);
  const events = recordEvents(engine);
  engine.startWorkers();
  const { task } = await engine.startTask({ template: 'test.limited' });
  const done = await engine.waitForTask(task.id, { timeoutMs: 5000 });
  assert.equal(done.status, 'completed');
  const retry = events.find((e) => e.type === 'step.retry_scheduled')!;
  assert.equal(retry.data!.delay_ms, 40);
  assert.equal(retry.data!.retry_after_ms, 40);
  const started = done
    .history!.filter((h) => h.step !== null && h.to === 'running')
    .map((h) => Date.parse(h.at));
  assert.ok(started[1]! - started[0]! >= 40, 'the retry did not run before Retry-After allowed');
});

test('PermanentError fails the step at once, whatever attempts are left', async () => {
  const engine = await testEngine();
  let calls = 0;
  handlers(engine, {
    invalid: () => {
      calls += 1;
      throw new PermanentError('order 42 does not exist', { code: 'not_found' });
    },
  });
  template(engine, 'invalid', [{ name: 'invalid', retry: { max_attempts: 5 } }]);
  engine.startWorkers();
  const { task } = await engine.startTask({ template: 'test.invalid' });
  const done = await engine.waitForTask(task.id, { timeoutMs: 5000 });
  assert.equal(done.status, 'failed');
  assert.equal(calls, 1);
  assert.deepEqual(done.steps[0]!.error, {
    name: 'PermanentError',
    message: 'order 42 does not exist',
    code: 'not_found',
    retryable: false,
  });
  assert.match(done.history!.find((h) => h.to === 'failed' && h.step)!.reason!, /not retryable/);
});

test('a step marked retryable: false is not retried', async () => {
  const engine = await testEngine();
  let calls = 0;
  handlers(engine, {
    once: () => {
      calls += 1;
      throw new Error('nope');
    },
  });
  template(engine, 'once', [{ name: 'once', retryable: false }]);
  engine.startWorkers();
  const { task } = await engine.startTask({ template: 'test.once' });
  assert.equal((await engine.waitForTask(task.id, { timeoutMs: 5000 })).status, 'failed');
  assert.equal(calls, 1);
});

test('exhausted attempts fail the step: dependents are skipped, independent branches finish', async () => {
  const engine = await testEngine();
  const ran: string[] = [];
  handlers(engine, {
    ok: (ctx) => {
      ran.push(ctx.step.name);
    },
    broken: () => {
      throw new Error('downstream is down');
    },
  });
  template(engine, 'partial', [
    { name: 'root', handler: 'ok' },
    { name: 'bad', handler: 'broken', depends_on: ['root'], retry: { max_attempts: 2 } },
    { name: 'after_bad', handler: 'ok', depends_on: ['bad'] },
    { name: 'after_after', handler: 'ok', depends_on: ['after_bad'] },
    { name: 'side', handler: 'ok', depends_on: ['root'] },
    { name: 'side2', handler: 'ok', depends_on: ['side'] },
  ]);
  engine.startWorkers();
  const { task } = await engine.startTask({ template: 'test.partial' });
  const done = await engine.waitForTask(task.id, { timeoutMs: 5000 });
  const status = Object.fromEntries(done.steps.map((s) => [s.name, s.status]));
  assert.deepEqual(status, {
    root: 'completed',
    bad: 'failed',
    after_bad: 'skipped',
    after_after: 'skipped',
    side: 'completed',
    side2: 'completed',
  });
  assert.equal(done.status, 'failed');
  assert.equal(done.steps.find((s) => s.name === 'bad')!.attempts, 2);
  assert.deepEqual(ran.sort(), ['root', 'side', 'side2']);
  assert.match(done.error!.message, /step bad failed: downstream is down/);
  const skip = done.history!.find((h) => h.step === 'after_bad' && h.to === 'skipped')!;
  assert.equal(skip.reason, 'dependency bad failed');
});

test('timeout_ms aborts ctx.signal and counts as a retryable failure', async () => {
  const engine = await testEngine();
  const reasons: string[] = [];
  handlers(engine, {
    slow: (ctx) =>
      new Promise((resolve, reject) => {
        if (ctx.attempt === 2) return resolve('fast enough');
        ctx.signal.addEventListener('abort', () => {
          reasons.push((ctx.signal.reason as Error).name);
          reject(ctx.signal.reason as Error);
        });
      }),
  });
  template(engine, 'slow', [{ name: 'slow', timeout_ms: 30 }]);
  engine.startWorkers();
  const { task } = await engine.startTask({ template: 'test.slow' });
  const done = await engine.waitForTask(task.id, { timeoutMs: 5000 });
  assert.equal(done.status, 'completed');
  assert.deepEqual(reasons, ['TimeoutError']);
  const retry = done.history!.find((h) => h.to === 'ready' && h.from === 'running')!;
  assert.equal(retry.reason, 'timeout');
  assert.match(retry.error!.message, /timed out after 30 ms/);
});

test('a handler that ignores its signal still times out; its late result is discarded', async () => {
  const engine = await testEngine();
  handlers(engine, { stubborn: () => new Promise((resolve) => setTimeout(() => resolve('too late'), 80)) });
  template(engine, 'stubborn', [{ name: 'stubborn', timeout_ms: 20, retry: { max_attempts: 1 } }]);
  engine.startWorkers();
  const { task } = await engine.startTask({ template: 'test.stubborn' });
  const done = await engine.waitForTask(task.id, { timeoutMs: 5000 });
  assert.equal(done.status, 'failed');
  assert.equal(done.steps[0]!.result, null);
  assert.equal(done.steps[0]!.error!.name, 'TimeoutError');
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal((await engine.getTask(task.id)).steps[0]!.result, null);
});

test('a result that is not JSON fails the step permanently with a clear error', async () => {
  const engine = await testEngine();
  handlers(engine, { big: () => ({ value: 10n }) });
  template(engine, 'big', [{ name: 'big' }]);
  engine.startWorkers();
  const { task } = await engine.startTask({ template: 'test.big' });
  const done = await engine.waitForTask(task.id, { timeoutMs: 5000 });
  assert.equal(done.status, 'failed');
  assert.equal(done.steps[0]!.attempts, 1);
  assert.match(done.steps[0]!.error!.message, /not JSON-serialisable/);
});

test('a validation error thrown by a handler is not retried (SPEC §2.4)', async () => {
  const engine = await testEngine();
  let calls = 0;
  handlers(engine, {
    validate: () => {
      calls += 1;
      throw new ValidationError('amount must be positive');
    },
  });
  template(engine, 'validating', [{ name: 'validate', retry: { max_attempts: 5 } }]);
  engine.startWorkers();
  const { task } = await engine.startTask({ template: 'test.validating' });
  const done = await engine.waitForTask(task.id, { timeoutMs: 5000 });
  assert.equal(done.status, 'failed');
  assert.equal(calls, 1);
  assert.equal(done.steps[0]!.error!.retryable, false);
});
