import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEngine } from '../../src/engine/index.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../src/util/errors.ts';
import { handlers, template, testEngine } from './harness.ts';

const isCode = (code: string) => (error: unknown) => (error as { code?: string }).code === code;

test('startTask validates its arguments and the input against input_schema', async () => {
  const engine = await testEngine();
  handlers(engine, { noop: () => null });
  template(engine, 'typed', [{ name: 'noop' }], {
    input_schema: { type: 'object', required: ['order_id'], properties: { order_id: { type: 'string' } } },
  });
  await assert.rejects(engine.startTask(undefined as never), ValidationError);
  await assert.rejects(engine.startTask({ template: '' }), /template must be a string/);
  await assert.rejects(engine.startTask({ template: 'test.missing' }), NotFoundError);
  await assert.rejects(engine.startTask({ template: 'test.typed', idempotencyKey: '' }), /idempotencyKey/);
  await assert.rejects(engine.startTask({ template: 'test.typed', input: { big: 1n } }), /JSON-serialisable/);
  await assert.rejects(
    engine.startTask({ template: 'test.typed', input: { order_id: 5 } }),
    (error: unknown) =>
      error instanceof ValidationError &&
      error.code === 'validation_failed' &&
      error.details!.some((d) => d.path === 'input.order_id') &&
      /input does not match the input_schema of test.typed/.test(error.message),
  );
  assert.equal((await engine.listTasks()).tasks.length, 0, 'nothing was stored');
  const ok = await engine.startTask({ template: 'test.typed', input: { order_id: 'A-1' } });
  assert.equal(ok.task.status, 'pending');
  assert.equal(ok.task.steps[0]!.status, 'ready');
});

test('every public call rejects bad arguments with a typed error', async () => {
  const engine = await testEngine();
  await assert.rejects(engine.getTask(''), isCode('validation_failed'));
  await assert.rejects(engine.getTask(42 as never), isCode('validation_failed'));
  await assert.rejects(engine.getTask('task_unknown'), NotFoundError);
  await assert.rejects(engine.cancelTask('task_unknown'), isCode('not_found'));
  await assert.rejects(engine.replayTask('task_unknown'), isCode('not_found'));
  await assert.rejects(engine.resolveStep('task_unknown', 'a'), isCode('not_found'));
  await assert.rejects(engine.resolveStep('task_x', ''), isCode('validation_failed'));
  await assert.rejects(engine.listTasks({ limit: 0 }), /limit must be an integer from 1 to 500/);
  await assert.rejects(engine.listTasks({ status: 'done' as never }), /status must be one of/);
  await assert.rejects(engine.replayDeadLetter('nope'), NotFoundError);
  await assert.rejects(engine.waitForTask('task_unknown', { timeoutMs: 10 }), NotFoundError);
  assert.throws(() => engine.on('task.exploded' as never, () => {}), /unknown event type/);
  assert.throws(() => engine.on('*', 'x' as never), /listener must be a function/);
  await assert.rejects(createEngine({ store: 'mysql://localhost' }), /unsupported store/);
  await assert.rejects(
    createEngine({ store: 'sqlite::memory:', concurrency: -1 }),
    /concurrency must be an integer/,
  );
  await assert.rejects(createEngine(null as never), ValidationError);
});

test('conflicting operations answer with a conflict', async () => {
  const engine = await testEngine();
  handlers(engine, { noop: () => null });
  template(engine, 'conflicts', [{ name: 'noop' }]);
  engine.startWorkers();
  const { task } = await engine.startTask({ template: 'test.conflicts' });
  await engine.waitForTask(task.id, { timeoutMs: 5000 });
  await assert.rejects(engine.cancelTask(task.id), ConflictError);
  await assert.rejects(engine.replayTask(task.id), /only failed tasks can be replayed/);
  await assert.rejects(engine.resolveStep(task.id, 'noop'), /only failed steps can be resolved/);
});

test('waitForTask rejects with code timeout when the task does not finish in time', async () => {
  const engine = await testEngine();
  handlers(engine, { noop: () => null });
  template(engine, 'idle', [{ name: 'noop' }]);
  const { task } = await engine.startTask({ template: 'test.idle' });
  await assert.rejects(engine.waitForTask(task.id, { timeoutMs: 30 }), isCode('timeout'));
});

test('a closed engine refuses to start workers', async () => {
  const engine = await createEngine({ store: 'sqlite::memory:' });
  await engine.close();
  assert.throws(() => engine.startWorkers(), /closed/);
  await engine.close();
});

test('startTasks starts a batch in one transaction: all of it, or nothing when one request is bad', async () => {
  const engine = await testEngine();
  handlers(engine, { noop: () => null });
  template(engine, 'bulk', [{ name: 'noop' }], {
    input_schema: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } },
  });
  await assert.rejects(
    engine.startTasks([
      { template: 'test.bulk', input: { n: 1 } },
      { template: 'test.bulk', idempotencyKey: '' },
    ]),
    /requests\[1\]: idempotencyKey/,
  );
  await assert.rejects(
    engine.startTasks([
      { template: 'test.bulk', input: { n: 1 } },
      { template: 'test.bulk', input: { n: 'x' } },
    ]),
    isCode('validation_failed'),
  );
  assert.equal((await engine.listTasks()).tasks.length, 0);
  const started = await engine.startTasks([
    { template: 'test.bulk', input: { n: 1 }, idempotencyKey: 'k' },
    { template: 'test.bulk', input: { n: 2 }, idempotencyKey: 'k' },
    { template: 'test.bulk', input: { n: 3 } },
  ]);
  assert.deepEqual(
    started.map((s) => s.created),
    [true, false, true],
  );
  assert.deepEqual(
    started.map((s) => s.task.input),
    [{ n: 1 }, { n: 1 }, { n: 3 }],
  );
  await assert.rejects(engine.startTasks('nope' as never), /needs an array/);
  assert.deepEqual(await engine.startTasks([]), []);
});
