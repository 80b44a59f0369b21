// The engine's metrics (SPEC §7) at a server's /metrics: counters that follow real tasks, the
// store's counts read at scrape time, circuit states, the engine HTTP client's metrics, process
// metrics, and series that stay bounded whatever clients send.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { envelope, rpc } from '../server/helpers.ts';
import { expectSamples, metricFamilies, metricsFixture, sample, seriesLines } from './helpers.ts';

describe('engine metrics on tasks that complete, retry and fail', () => {
  const fixture = metricsFixture();

  test('count tasks, step outcomes, retries and attempt durations by template and handler', async () => {
    const { engine } = fixture;
    const flow = await engine.startTask({ template: 'm.flow' });
    const doomed = await engine.startTask({ template: 'm.doomed' });
    assert.equal((await engine.waitForTask(flow.task.id, { timeoutMs: 5000 })).status, 'completed');
    assert.equal((await engine.waitForTask(doomed.task.id, { timeoutMs: 5000 })).status, 'failed');

    await expectSamples(() => fixture.scrape(), {
      'baton_tasks_total{template="m.flow",status="completed"}': 1,
      'baton_tasks_total{template="m.doomed",status="failed"}': 1,
      'baton_steps_total{handler="m/ok@1.0.0",status="completed"}': 1,
      'baton_steps_total{handler="m/flaky@1.0.0",status="retry_scheduled"}': 1,
      'baton_steps_total{handler="m/flaky@1.0.0",status="completed"}': 1,
      'baton_steps_total{handler="m/broken@1.0.0",status="failed"}': 1,
      'baton_step_retries_total{handler="m/flaky@1.0.0"}': 1,
      'baton_step_duration_seconds_count{handler="m/ok@1.0.0"}': 1,
      'baton_step_duration_seconds_count{handler="m/flaky@1.0.0"}': 2,
      'baton_step_duration_seconds_count{handler="m/broken@1.0.0"}': 1,
      'baton_step_duration_seconds_bucket{le="+Inf",handler="m/flaky@1.0.0"}': 2,
      baton_dlq_size: 1,
      baton_queue_depth: 0,
      baton_steps_running: 0,
      'baton_tasks_by_status{status="completed"}': 1,
      'baton_tasks_by_status{status="failed"}': 1,
      'baton_circuit_state{handler="m/ok@1.0.0"}': 0,
      'baton_circuit_state{handler="http"}': 0,
    });
  });

  test('a cancelled task counts as cancelled; resolving its dead letter empties the DLQ', async () => {
    const { engine } = fixture;
    const { dead_letters } = await engine.listDeadLetters();
    assert.equal(dead_letters.length, 1);
    await engine.resolveStep(dead_letters[0]!.task_id, 'broken', { result: { fixed: true } });
    await engine.waitForTask(dead_letters[0]!.task_id, { timeoutMs: 5000 });
    await expectSamples(() => fixture.scrape(), {
      baton_dlq_size: 0,
      'baton_tasks_total{template="m.doomed",status="completed"}': 1,
    });

    await engine.stopWorkers();
    const pending = await engine.startTask({ template: 'm.flow' });
    await engine.cancelTask(pending.task.id);
    await expectSamples(() => fixture.scrape(), {
      'baton_tasks_total{template="m.flow",status="cancelled"}': 1,
      // Cancelling steps that never ran is no attempt outcome.
      'baton_steps_total{handler="m/ok@1.0.0",status="cancelled"}': undefined,
    });
    engine.startWorkers();
  });

  test('the engine HTTP client records into the served metrics', async () => {
    const response = await fixture.engine.http.get(`${fixture.url}/health`);
    assert.equal(response.status, 200);
    await expectSamples(() => fixture.scrape(), {
      [`baton_http_client_requests_total{target="${fixture.url}",status="200"}`]: 1,
      [`baton_http_client_request_duration_seconds_count{target="${fixture.url}"}`]: 1,
      [`baton_http_client_retries_total{target="${fixture.url}"}`]: 0,
    });
  });

  test('process metrics are collected once, on the server registry', async () => {
    const text = await fixture.scrape();
    const families = metricFamilies(text);
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
    ]) {
      assert.ok(families.has(name), `${name} is served`);
    }
    assert.equal(text.match(/^# TYPE process_cpu_seconds_total /gm)?.length, 1);
  });

  test('10,000 distinct unknown payload types leave the number of series small', async () => {
    const first = await fixture.scrape();
    const before = seriesLines(first).length;
    const rejected = 'asap_requests_total{payload_type="other",status="error"}';
    // JSON-RPC batches of 50, the most the server takes in one request.
    const batch = (start: number) =>
      Array.from({ length: 50 }, (_, i) =>
        rpc(envelope({ payload_type: `unknown.type.${start + i}` }), start + i),
      );
    for (let start = 0; start < 10_000; start += 50) {
      const response = await fixture.app.inject({ method: 'POST', url: '/asap', payload: batch(start) });
      assert.equal(response.statusCode, 200);
    }
    const text = await fixture.scrape();
    assert.doesNotMatch(text, /unknown\.type/);
    assert.equal((sample(text, rejected) ?? 0) - (sample(first, rejected) ?? 0), 10_000);
    const after = seriesLines(text).length;
    // Only the `other` series of the error metrics are new (and process metrics may add a few).
    assert.ok(after - before < 60, `${before} series before, ${after} after`);
  });
});

describe('engine metrics read from the store at scrape time', () => {
  // No workers: started tasks wait in the queue.
  const fixture = metricsFixture({ workers: false });

  test('queue depth and tasks by status count waiting work; the counts are reused for a second', async () => {
    await fixture.engine.startTasks([
      { template: 'm.flow' },
      { template: 'm.flow' },
      { template: 'm.doomed' },
    ]);
    const text = await expectSamples(() => fixture.scrape(), {
      baton_queue_depth: 3,
      baton_steps_running: 0,
      'baton_tasks_by_status{status="pending"}': 3,
      baton_dlq_size: 0,
    });
    assert.equal(sample(text, 'baton_tasks_by_status{status="running"}'), 0);

    // Within the TTL a scrape reuses the last counts: a flood of scrapes costs one store query.
    await fixture.engine.startTask({ template: 'm.doomed' });
    const cached = await fixture.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(sample(cached.body, 'baton_queue_depth'), 3);
    assert.equal(sample(await fixture.scrape(), 'baton_queue_depth'), 4);
  });
});

describe('circuit state', () => {
  const fixture = metricsFixture({
    engine: { circuit: { failureThreshold: 1, cooldownMs: 60_000 }, retry: { max_attempts: 1 } },
  });

  test('is 2 for a handler whose circuit opened, 0 for the others', async () => {
    // `m/flaky` fails its only attempt retryably: one such failure opens its circuit.
    const flow = await fixture.engine.startTask({ template: 'm.flow' });
    assert.equal((await fixture.engine.waitForTask(flow.task.id, { timeoutMs: 5000 })).status, 'failed');
    assert.equal(fixture.engine.circuitState('m/flaky@1.0.0'), 'open');
    await expectSamples(() => fixture.scrape(), {
      'baton_circuit_state{handler="m/flaky@1.0.0"}': 2,
      'baton_circuit_state{handler="m/ok@1.0.0"}': 0,
      'baton_circuit_state{handler="m/broken@1.0.0"}': 0,
      'baton_circuit_state{handler="asap"}': 0,
    });
  });
});
