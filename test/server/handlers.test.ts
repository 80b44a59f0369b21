// Baton's payload handlers (SPEC §3) on a real engine: task.request, task.cancel, state_query, and
// task.request streamed over /asap/stream.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { JsonObject } from '../../src/protocol/index.ts';
import { envelope, errorOf, post, resultOf, rpc, serverFixture, taskRequest } from './helpers.ts';

describe('task.request', () => {
  const server = serverFixture();

  test('a task that finishes within the timeout is answered completed with its result', async () => {
    const answer = await post(server.app, rpc(taskRequest('test.pair', {})));
    const reply = resultOf(answer);
    assert.equal(reply.payload_type, 'task.response');
    const payload = reply.payload;
    assert.equal(payload.status, 'completed');
    assert.match(String(payload.task_id), /^task_[0-9A-Z]{26}$/);
    assert.deepEqual(payload.result, { second: { n: 2 } });
    assert.equal(payload.final_state, null);
    assert.equal(typeof (payload.metrics as JsonObject).duration_ms, 'number');
    const task = await server.engine.getTask(String(payload.task_id));
    assert.equal(task.template, 'test.pair');
  });

  test('a versioned skill id picks that template version', async () => {
    const reply = resultOf(await post(server.app, rpc(taskRequest('test.echo@1.0.0', { message: 'v' }))));
    assert.deepEqual(reply.payload.result, { echo: { echoed: { message: 'v' } } });
  });

  test('a task that fails is answered failed with the error', async () => {
    const payload = resultOf(await post(server.app, rpc(taskRequest('test.fail', {})))).payload;
    assert.equal(payload.status, 'failed');
    const error = (payload.result as { error: { message: string } }).error;
    assert.match(error.message, /always fails/);
  });

  test('a task still running at timeout_seconds is answered working with its task_id', async () => {
    const started = Date.now();
    const payload = resultOf(
      await post(server.app, rpc(taskRequest('test.slow', { ms: 1500 }, { timeout_seconds: 1 }))),
    ).payload;
    const waited = Date.now() - started;
    assert.equal(payload.status, 'working');
    assert.equal(payload.result, null);
    assert.ok(waited >= 950 && waited < 1450, `answered after ${waited} ms`);
    const done = await server.engine.waitForTask(String(payload.task_id), { timeoutMs: 5000 });
    assert.equal(done.status, 'completed');
  });

  test('config.idempotency_key starts one task for repeated requests', async () => {
    const config = { idempotency_key: 'order-42' };
    const first = resultOf(await post(server.app, rpc(taskRequest('test.echo', { message: 'a' }, config))));
    const again = resultOf(await post(server.app, rpc(taskRequest('test.echo', { message: 'a' }, config))));
    assert.equal(first.payload.task_id, again.payload.task_id);
    assert.notEqual(first.id, again.id);
    const { tasks } = await server.engine.listTasks({ template: 'test.echo' });
    assert.equal(tasks.filter((task) => task.idempotency_key === 'order-42').length, 1);
  });

  test('an unknown skill or an input the template refuses is -32602', async () => {
    for (const skill of ['test.nope', 'not a template id', 'test.echo@9.9.9']) {
      const error = errorOf(await post(server.app, rpc(taskRequest(skill, {}))));
      assert.equal(error.code, -32602, skill);
      assert.match(String(error.data?.error), /unknown skill/);
    }
    const invalid = errorOf(await post(server.app, rpc(taskRequest('test.slow', { ms: 'soon' }))));
    assert.equal(invalid.code, -32602);
    assert.match(String(invalid.data?.error), /input does not match the input_schema of test\.slow/);
    assert.ok(Array.isArray(invalid.data?.details));
  });
});

describe('task.cancel and state_query', () => {
  const server = serverFixture();
  const send = (payloadType: string, payload: JsonObject) =>
    post(server.app, rpc(envelope({ payload_type: payloadType, payload })));

  test('task.cancel cancels a running task and answers its new status', async () => {
    const { task } = await server.engine.startTask({ template: 'test.slow', input: { ms: 10_000 } });
    const reply = resultOf(await send('task.cancel', { task_id: task.id, reason: 'changed my mind' }));
    assert.equal(reply.payload_type, 'task.response');
    assert.deepEqual([reply.payload.task_id, reply.payload.status], [task.id, 'cancelled']);
    assert.equal((await server.engine.getTask(task.id)).status, 'cancelled');

    const again = errorOf(await send('task.cancel', { task_id: task.id }));
    assert.equal(again.code, -32030);
    assert.deepEqual(again.data?.details, { task_id: task.id, current_status: 'cancelled' });
  });

  test('state_query answers a snapshot of the task: status, step states, results', async () => {
    const { task } = await server.engine.startTask({ template: 'test.pair', input: {} });
    await server.engine.waitForTask(task.id, { timeoutMs: 5000 });
    const reply = resultOf(await send('state_query', { task_id: task.id }));
    assert.equal(reply.payload_type, 'state_snapshot');
    const snapshot = reply.payload;
    assert.deepEqual(Object.keys(snapshot), ['id', 'task_id', 'version', 'data', 'checkpoint', 'created_at']);
    assert.match(String(snapshot.id), /^snap_/);
    assert.equal(snapshot.task_id, task.id);
    assert.equal(snapshot.checkpoint, false);
    const data = snapshot.data as { status: string; progress: number; task: JsonObject };
    assert.equal(data.status, 'completed');
    assert.equal(data.progress, 1);
    const steps = data.task.steps as { name: string; status: string; result: unknown }[];
    assert.deepEqual(
      steps.map((step) => [step.name, step.status, step.result]),
      [
        ['first', 'completed', { n: 1 }],
        ['second', 'completed', { n: 2 }],
      ],
    );
    assert.deepEqual(data.task.result, { second: { n: 2 } });

    const same = resultOf(await send('state_query', { task_id: task.id, version: snapshot.version }));
    assert.equal(same.payload.version, snapshot.version);
  });
});

interface Sse {
  status: number;
  type: string | null;
  headers: Headers;
  text: string;
}

describe('task.request on /asap/stream', () => {
  const server = serverFixture({ listen: true });
  const stream = async (body: unknown): Promise<Sse> => {
    const response = await fetch(`${server.url}/asap/stream`, {
      method: 'POST',
      headers: { accept: 'text/event-stream' },
      body: JSON.stringify(body),
    });
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      headers: response.headers,
      text: await response.text(),
    };
  };

  test('streams one TaskStream chunk per step event, then a final chunk', async () => {
    const request = taskRequest('test.pair', {});
    const answer = await stream(rpc(request));
    assert.equal(answer.status, 200);
    assert.equal(answer.type, 'text/event-stream');
    assert.equal(answer.headers.get('cache-control'), 'no-cache');
    assert.equal(answer.headers.get('asap-version'), '2.2');
    // Framing: `data: <one-line JSON>\n\n` and nothing else.
    assert.match(answer.text, /^(data: [^\n]+\n\n)+$/);
    const events = answer.text
      .split('\n\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line.slice('data: '.length)) as JsonObject);
    const payloads = events.map(
      (event) => event.payload as { chunk: string; progress: number; final: boolean; status: string },
    );
    for (const event of events) {
      assert.equal(event.payload_type, 'TaskStream');
      assert.equal(event.sender, 'urn:asap:agent:baton-test');
    }
    assert.equal(new Set(events.map((event) => event.correlation_id)).size, 1);
    assert.deepEqual(
      payloads.map((payload) => payload.final),
      [...Array<boolean>(payloads.length - 1).fill(false), true],
    );
    const steps = payloads
      .slice(0, -1)
      .map((payload) => JSON.parse(payload.chunk) as { event: string; step: string });
    assert.deepEqual(
      steps.filter((step) => step.event === 'step.completed').map((step) => step.step),
      ['first', 'second'],
    );
    const progress = payloads.map((payload) => payload.progress);
    assert.deepEqual(
      progress,
      [...progress].sort((a, b) => a - b),
      'progress never goes back',
    );
    assert.ok(progress.includes(0.5));
    const last = payloads.at(-1)!;
    assert.deepEqual([last.status, last.progress], ['completed', 1]);
    assert.deepEqual(JSON.parse(last.chunk), {
      task_id: (JSON.parse(payloads[0]!.chunk) as { task_id: string }).task_id,
      status: 'completed',
      result: { second: { n: 2 } },
      error: null,
    });
  });

  test('a stream still running at timeout_seconds ends with a final working chunk', async () => {
    const answer = await stream(rpc(taskRequest('test.slow', { ms: 1500 }, { timeout_seconds: 1 })));
    const events = answer.text.split('\n\n').filter(Boolean);
    const last = (JSON.parse(events.at(-1)!.slice(6)) as { payload: { final: boolean; status: string } })
      .payload;
    assert.deepEqual([last.final, last.status], [true, 'working']);
  });
});

describe('closing the server', () => {
  const server = serverFixture();

  test('a task.request still waiting is answered working at once', async () => {
    const pending = post(server.app, rpc(taskRequest('test.slow', { ms: 5000 }, { timeout_seconds: 30 })));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await server.app.close();
    const payload = resultOf(await pending).payload;
    assert.equal(payload.status, 'working');
    assert.ok(Date.now() - started < 1000);
  });
});
