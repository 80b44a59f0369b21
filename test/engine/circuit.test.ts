import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CircuitBreakers, type CircuitState } from '../../src/engine/circuit.ts';
import type { BatonEvent } from '../../src/engine/views.ts';
import { delay, handlers, template, testEngine } from './harness.ts';

test('circuit: opens after N consecutive failures, half-opens after the cool-down, closes on a successful probe', () => {
  let now = 0;
  const changes: string[] = [];
  const circuits = new CircuitBreakers(
    { failureThreshold: 3, cooldownMs: 100 },
    () => now,
    (h, from, to) => changes.push(`${h}:${from}->${to}`),
  );
  circuits.recordFailure('h');
  circuits.recordFailure('h');
  circuits.recordSuccess('h');
  circuits.recordFailure('h');
  circuits.recordFailure('h');
  assert.equal(circuits.state('h'), 'closed', 'a success resets the count');
  circuits.recordFailure('h');
  assert.equal(circuits.state('h'), 'open');
  assert.deepEqual([...circuits.blocked()], ['h']);
  assert.deepEqual(circuits.probeCandidates(), []);
  assert.equal(circuits.nextProbeAt(), 100);
  now = 100;
  assert.deepEqual(circuits.probeCandidates(), ['h']);
  assert.equal(circuits.state('h'), 'half_open');
  circuits.startProbe('h');
  assert.deepEqual(circuits.probeCandidates(), [], 'one probe at a time');
  circuits.recordFailure('h');
  assert.equal(circuits.state('h'), 'open', 'a failed probe reopens');
  now = 250;
  circuits.probeCandidates();
  circuits.recordSuccess('h');
  assert.equal(circuits.state('h'), 'closed');
  assert.deepEqual(changes, [
    'h:closed->open',
    'h:open->half_open',
    'h:half_open->open',
    'h:open->half_open',
    'h:half_open->closed',
  ]);
});

test("an open circuit defers the handler's steps without burning attempts, then a probe closes it", async () => {
  const engine = await testEngine({ circuit: { failureThreshold: 2, cooldownMs: 150 }, concurrency: 1 });
  let healthy = false;
  const calls: number[] = [];
  handlers(engine, {
    upstream: () => {
      calls.push(Date.now());
      if (!healthy) throw new Error('503 from upstream');
      return 'ok';
    },
  });
  template(engine, 'guarded', [
    { name: 'upstream', retry: { max_attempts: 10, backoff: { base_ms: 1, factor: 1, jitter: 0 } } },
  ]);
  const circuitEvents: BatonEvent[] = [];
  engine.on('*', (event) => {
    if (event.type.startsWith('circuit.')) circuitEvents.push(event);
  });
  engine.startWorkers();
  const { task } = await engine.startTask({ template: 'test.guarded' });
  await delay(80);
  assert.equal(engine.circuitState('test/upstream@1.0.0'), 'open' satisfies CircuitState);
  assert.equal(calls.length, 2, 'no attempts while the circuit is open');
  const whileOpen = await engine.getTask(task.id);
  assert.equal(whileOpen.steps[0]!.attempts, 2);
  assert.equal(whileOpen.steps[0]!.status, 'retrying');
  healthy = true;
  const done = await engine.waitForTask(task.id, { timeoutMs: 5000 });
  assert.equal(done.status, 'completed');
  assert.equal(calls.length, 3, 'exactly one probe');
  assert.ok(calls[2]! - calls[1]! >= 140, 'the probe waited for the cool-down');
  assert.equal(engine.circuitState('test/upstream@1.0.0'), 'closed');
  await delay(20);
  assert.deepEqual(
    circuitEvents.map((e) => e.type),
    ['circuit.opened', 'circuit.half_opened', 'circuit.closed'],
  );
  assert.equal(circuitEvents[0]!.data!.handler, 'test/upstream@1.0.0');
});
