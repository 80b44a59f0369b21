import assert from 'node:assert/strict';
import { test } from 'node:test';
import { handlers, template, testEngine, timeline, type StepSketch } from './harness.ts';

/** Runs one task of the given shape and checks every step ran once, after all its dependencies. */
async function runShape(shape: StepSketch[]) {
  const engine = await testEngine();
  const line = timeline();
  handlers(
    engine,
    Object.fromEntries(
      shape.map((step) => [
        step.name,
        line.wrap(step.name, (ctx) => ({ step: step.name, saw: Object.keys(ctx.results).sort() })),
      ]),
    ),
  );
  template(engine, 'shape', shape);
  engine.startWorkers();
  const { task } = await engine.startTask({ template: 'test.shape', input: {} });
  const done = await engine.waitForTask(task.id, { timeoutMs: 5000 });
  assert.equal(done.status, 'completed');
  for (const step of shape) {
    assert.equal(line.count(step.name), 1, `${step.name} ran exactly once`);
    for (const dependency of step.depends_on ?? []) {
      assert.ok(
        line.position(dependency, 'end') < line.position(step.name, 'start'),
        `${step.name} started after ${dependency} finished`,
      );
    }
    const view = done.steps.find((s) => s.name === step.name)!;
    assert.deepEqual(view.result, { step: step.name, saw: [...(step.depends_on ?? [])].sort() });
    assert.equal(view.attempts, 1);
  }
  return done;
}

test('linear chain passes results down the line', async () => {
  const done = await runShape([
    { name: 'a' },
    { name: 'b', depends_on: ['a'] },
    { name: 'c', depends_on: ['b'] },
  ]);
  assert.deepEqual(done.result, { c: { step: 'c', saw: ['b'] } });
});

test('diamond: the join runs once, after both branches', async () => {
  const done = await runShape([
    { name: 'start' },
    { name: 'left', depends_on: ['start'] },
    { name: 'right', depends_on: ['start'] },
    { name: 'join', depends_on: ['left', 'right'] },
  ]);
  assert.deepEqual(Object.keys(done.result!), ['join']);
});

test('tree: one root, two branches of two leaves each, an aggregate', async () => {
  await runShape([
    { name: 'root' },
    { name: 'a', depends_on: ['root'] },
    { name: 'b', depends_on: ['root'] },
    { name: 'a1', depends_on: ['a'] },
    { name: 'a2', depends_on: ['a'] },
    { name: 'b1', depends_on: ['b'] },
    { name: 'b2', depends_on: ['b'] },
    { name: 'aggregate', depends_on: ['a1', 'a2', 'b1', 'b2'] },
  ]);
});

test('fan-out / fan-in over eight parallel steps', async () => {
  const middle = Array.from({ length: 8 }, (_, i) => ({ name: `part${i}`, depends_on: ['split'] }));
  await runShape([{ name: 'split' }, ...middle, { name: 'merge', depends_on: middle.map((m) => m.name) }]);
});

test('mixed DAG with two roots, a side branch and several leaves', async () => {
  const done = await runShape([
    { name: 'auth' },
    { name: 'config' },
    { name: 'permissions', depends_on: ['auth'] },
    { name: 'environment', depends_on: ['config'] },
    { name: 'process', depends_on: ['permissions', 'environment'] },
    { name: 'critical', depends_on: ['process'] },
    { name: 'optional', depends_on: ['process'] },
    { name: 'cleanup', depends_on: ['environment'] },
    { name: 'report', depends_on: ['critical', 'cleanup'] },
  ]);
  assert.deepEqual(Object.keys(done.result!).sort(), ['optional', 'report']);
});

test('steps declared before their dependencies still run in dependency order', async () => {
  await runShape([
    { name: 'last', depends_on: ['middle'] },
    { name: 'middle', depends_on: ['first'] },
    { name: 'first' },
  ]);
});

test('many diamonds at once: every join runs exactly once', async () => {
  const engine = await testEngine({ concurrency: 16 });
  const joins = new Map<string, number>();
  handlers(engine, {
    noop: () => null,
    join: (ctx) => {
      joins.set(ctx.task.id, (joins.get(ctx.task.id) ?? 0) + 1);
    },
  });
  template(engine, 'diamond', [
    { name: 'a', handler: 'noop' },
    { name: 'b', handler: 'noop', depends_on: ['a'] },
    { name: 'c', handler: 'noop', depends_on: ['a'] },
    { name: 'd', handler: 'join', depends_on: ['b', 'c'] },
  ]);
  engine.startWorkers();
  const ids = await Promise.all(
    Array.from({ length: 100 }, async () => (await engine.startTask({ template: 'test.diamond' })).task.id),
  );
  const finished = await Promise.all(ids.map((id) => engine.waitForTask(id, { timeoutMs: 10_000 })));
  assert.ok(finished.every((task) => task.status === 'completed'));
  assert.equal(joins.size, 100);
  assert.ok([...joins.values()].every((count) => count === 1));
});
