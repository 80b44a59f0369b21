// Usage metering of served tasks: each task.request that ends within the request (unary or
// streamed) records one usage event of this agent for the requesting agent.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AGENT, CLIENT, envelope, post, resultOf, rpc, serverFixture, taskRequest } from './helpers.ts';

describe('metering of task.request', () => {
  const server = serverFixture({ listen: true });
  const usage = () =>
    server.engine.store.state.metering.query(AGENT, new Date(0), new Date(Date.now() + 60_000));

  test('a finished task records its duration and step attempts for the sender', async () => {
    const reply = resultOf(await post(server.app, rpc(taskRequest('test.pair', {}))));
    const events = await usage();
    const event = events.find((e) => e.task_id === reply.payload.task_id);
    assert.ok(event, 'one usage event for the task');
    assert.equal(event.consumer_id, CLIENT);
    assert.equal(event.metrics.api_calls, 2);
    assert.ok(event.metrics.duration_ms >= 0);
    assert.deepEqual([event.metrics.tokens_in, event.metrics.tokens_out], [0, 0]);
  });

  test('a streamed task is recorded once, when it ends', async () => {
    const request = envelope({
      sender: 'urn:asap:agent:streamer',
      payload: { conversation_id: 'c', skill_id: 'test.echo', input: { message: 'x' } },
    });
    const response = await fetch(`${server.url}/asap/stream`, {
      method: 'POST',
      body: JSON.stringify(rpc(request)),
    });
    await response.text();
    const streamed = (await usage()).filter((e) => e.consumer_id === 'urn:asap:agent:streamer');
    assert.equal(streamed.length, 1);
    assert.equal(streamed[0]?.metrics.api_calls, 1);
  });

  test('a task still working when the request answers is not recorded', async () => {
    const before = (await usage()).length;
    const reply = resultOf(
      await post(server.app, rpc(taskRequest('test.slow', { ms: 1500 }, { timeout_seconds: 1 }))),
    );
    assert.equal(reply.payload.status, 'working');
    assert.equal((await usage()).length, before);
  });

  test('the aggregate of the day sums what was recorded', async () => {
    const events = await usage();
    const total = await server.engine.store.state.metering.aggregate(AGENT, 'day');
    assert.equal(total.total_tasks, events.length);
    assert.equal(
      total.total_api_calls,
      events.reduce((sum, e) => sum + e.metrics.api_calls, 0),
    );
  });
});
