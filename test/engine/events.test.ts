import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { BatonEvent } from '../../src/engine/views.ts';
import { handlers, template, testEngine } from './harness.ts';

test('events arrive in order, durably recorded, and match the history', async () => {
  const engine = await testEngine();
  handlers(engine, { a: () => 1, b: () => 2 });
  template(engine, 'evented', [{ name: 'a' }, { name: 'b', depends_on: ['a'] }]);
  const seen: BatonEvent[] = [];
  engine.on('*', (event) => seen.push(event));
  const completed: string[] = [];
  engine.on('step.completed', (event) => completed.push(event.step!));
  engine.startWorkers();
  const { task } = await engine.startTask({ template: 'test.evented' });
  await engine.waitForTask(task.id, { timeoutMs: 5000 });
  const mine = seen.filter((e) => e.task_id === task.id);
  assert.deepEqual(
    mine.map((e) => `${e.type}${e.step ? `:${e.step}` : ''}`),
    [
      'task.created',
      'step.ready:a',
      'task.started',
      'step.started:a',
      'step.completed:a',
      'step.ready:b',
      'step.started:b',
      'step.completed:b',
      'task.completed',
    ],
  );
  assert.deepEqual(completed, ['a', 'b']);
  const seqs = mine.map((e) => e.seq);
  assert.deepEqual(
    seqs,
    [...seqs].sort((x, y) => x - y),
  );
  const durable = await engine.listEvents({ taskId: task.id });
  assert.deepEqual(durable, mine);
  const resumed = await engine.listEvents({ afterSeq: mine[4]!.seq, taskId: task.id });
  assert.deepEqual(
    resumed.map((e) => e.seq),
    seqs.slice(5),
  );
});

test('a throwing subscriber is logged and never breaks the engine or other subscribers', async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString());
      callback();
    },
  });
  const engine = await testEngine({ logger: pino({ level: 'error' }, sink) });
  handlers(engine, { a: () => 'ok' });
  template(engine, 'robust', [{ name: 'a' }]);
  engine.on('step.started', () => {
    throw new Error('subscriber bug');
  });
  let others = 0;
  engine.on('*', () => (others += 1));
  engine.startWorkers();
  const { task } = await engine.startTask({ template: 'test.robust' });
  assert.equal((await engine.waitForTask(task.id, { timeoutMs: 5000 })).status, 'completed');
  assert.ok(others >= 5);
  assert.ok(
    lines.some((line) => line.includes('engine.event.listener_failed') && line.includes('subscriber bug')),
  );
});

test('unsubscribing stops delivery', async () => {
  const engine = await testEngine();
  handlers(engine, { a: () => 'ok' });
  template(engine, 'quiet', [{ name: 'a' }]);
  let count = 0;
  const unsubscribe = engine.on('task.created', () => (count += 1));
  await engine.startTask({ template: 'test.quiet' });
  unsubscribe();
  await engine.startTask({ template: 'test.quiet' });
  assert.equal(count, 1);
});
