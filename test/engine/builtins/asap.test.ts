import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import type { AsapStepResult } from '../../../src/engine/builtins/asap.ts';
import { createEngine, PermanentError, type Engine, type TaskView } from '../../../src/engine/index.ts';
import type { JsonObject } from '../../../src/protocol/index.ts';
import { AGENT, serverFixture } from '../../server/helpers.ts';
import { rpcError, status, StubAgent, STUB_AGENT, taskReply } from '../../client/asap/stub.ts';

let engine: Engine;

// Suite-level hooks: they run before the leak check of test/support/setup.ts.
function callerEngine(): void {
  before(async () => {
    engine = await createEngine({
      store: 'sqlite::memory:',
      pollIntervalMs: 20,
      logger: pino({ level: 'silent' }),
      retry: { max_attempts: 3, backoff: { base_ms: 5, factor: 2, max_ms: 50, jitter: 0 } },
      http: { timeouts: { totalMs: 5000 } },
    });
    engine.startWorkers();
  });
  after(() => engine.close({ timeoutMs: 200 }));
}

let templates = 0;
function define(handler: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  const name = `t${++templates}`;
  engine.registerTemplate({
    namespace: 'caller',
    name,
    steps: [{ name: 'ask', handler: { type: 'asap', ...handler } }],
    ...extra,
  });
  return `caller.${name}`;
}

async function run(template: string, input: unknown = {}): Promise<TaskView> {
  const { task } = await engine.startTask({ template, input });
  return engine.waitForTask(task.id, { timeoutMs: 15_000 });
}

/** Replays the task's dead letter and waits for the replayed run to finish. */
async function replay(task: TaskView): Promise<TaskView> {
  const { dead_letters: entries } = await engine.listDeadLetters();
  const entry = entries.find((candidate) => candidate.task_id === task.id);
  assert.ok(entry, `a dead letter for ${task.id}`);
  await engine.replayDeadLetter(entry.id);
  return engine.waitForTask(task.id, { timeoutMs: 15_000 });
}

function askStep(task: TaskView) {
  const step = task.steps.find((entry) => entry.name === 'ask');
  assert.ok(step);
  return step;
}

describe('asap step: two Baton agents', () => {
  const remote = serverFixture({ listen: true });
  callerEngine();

  test('a completed remote task is the step result {status, result, task_id}', async () => {
    const template = define({
      agent_url: remote.url,
      skill_id: 'test.echo',
      input: { message: '{{input.text}}' },
    });
    const task = await run(template, { text: 'hello' });
    assert.equal(task.status, 'completed');
    const result = askStep(task).result as { status: string; result: JsonObject; task_id: string };
    assert.equal(result.status, 'completed');
    assert.deepEqual(result.result, { echo: { echoed: { message: 'hello' } } });
    const remoteTask = await remote.engine.getTask(result.task_id);
    assert.equal(remoteTask.status, 'completed');
    assert.deepEqual(remoteTask.input, { message: 'hello' });
  });

  test('the agent URL may come from the input, and agent_url is accepted for url', async () => {
    const template = define({
      agent_url: '{{input.agent}}',
      skill_id: 'test.echo',
      input: '{{input.payload}}',
    });
    const task = await run(template, { agent: remote.url, payload: { message: 'm' } });
    assert.equal(task.status, 'completed');
    assert.deepEqual((askStep(task).result as { result: JsonObject }).result, {
      echo: { echoed: { message: 'm' } },
    });
  });

  test('a failed remote task fails the step at once with the remote error', async () => {
    const task = await run(define({ agent_url: remote.url, skill_id: 'test.fail', recipient: AGENT }));
    assert.equal(task.status, 'failed');
    const step = askStep(task);
    assert.equal(step.attempts, 1);
    assert.match(step.error!.message, /remote task task_\w+ failed/);
    assert.match(step.error!.message, /this step always fails/);
  });

  test('an unknown skill is a permanent failure with a clear message', async () => {
    const task = await run(define({ agent_url: remote.url, skill_id: 'test.missing' }));
    assert.equal(task.status, 'failed');
    const step = askStep(task);
    assert.equal(step.attempts, 1);
    assert.match(step.error!.message, /asap test\.missing at http:\/\/127\.0\.0\.1:\d+: JSON-RPC -32602/);
    assert.match(step.error!.message, /unknown skill "test\.missing"/);
  });

  test('a slow remote task answers working, and the step follows it with state_query in one attempt', async () => {
    const template = define({
      agent_url: remote.url,
      skill_id: 'test.slow',
      input: { ms: 1400 },
      timeout_seconds: 1,
      poll_interval_ms: 50,
    });
    const started = Date.now();
    const task = await run(template);
    assert.equal(task.status, 'completed');
    assert.ok(Date.now() - started >= 1400);
    const step = askStep(task);
    assert.equal(step.attempts, 1);
    const { task_id: remoteId } = step.result as { task_id: string };
    assert.equal((await remote.engine.getTask(remoteId)).status, 'completed');
  });

  test('a replay after a remote failure starts a new remote task instead of re-attaching to the failed one', async () => {
    let fixed = false;
    remote.engine.registerHandler({
      namespace: 'test',
      name: 'flaky',
      version: '1.0.0',
      handler: () => {
        if (!fixed) throw new PermanentError('not configured yet');
        return { ok: true };
      },
    });
    remote.engine.registerTemplate({
      namespace: 'test',
      name: 'flaky',
      version: '1.0.0',
      steps: [{ name: 'flaky', handler: 'test/flaky' }],
    });
    const failed = await run(define({ agent_url: remote.url, skill_id: 'test.flaky' }));
    assert.equal(failed.status, 'failed');
    const firstRemote = /remote task (task_\w+) failed/.exec(askStep(failed).error!.message)?.[1];
    assert.ok(firstRemote, askStep(failed).error!.message);

    fixed = true;
    const done = await replay(failed);
    assert.equal(done.status, 'completed');
    const { task_id: secondRemote } = askStep(done).result as AsapStepResult;
    assert.notEqual(secondRemote, firstRemote, 'the replay started a new remote task');
    const [first, second] = await Promise.all([
      remote.engine.getTask(firstRemote),
      remote.engine.getTask(secondRemote),
    ]);
    assert.deepEqual([first.status, first.idempotency_key], ['failed', `${failed.id}/ask`]);
    assert.deepEqual([second.status, second.idempotency_key], ['completed', `${failed.id}/ask/r1`]);
  });

  test('a cancelled step stops following the remote task', async () => {
    const template = define({
      agent_url: remote.url,
      skill_id: 'test.slow',
      input: { ms: 3000 },
      timeout_seconds: 1,
      poll_interval_ms: 50,
    });
    const { task } = await engine.startTask({ template, input: {} });
    await new Promise((resolve) => setTimeout(resolve, 1300));
    await engine.cancelTask(task.id);
    const done = await engine.waitForTask(task.id, { timeoutMs: 5000 });
    assert.equal(done.status, 'cancelled');
  });
});

describe('asap step: transport failures and the engine retries', () => {
  const stub = new StubAgent();
  before(() => stub.start());
  callerEngine();
  after(() => stub.stop());

  const template = () =>
    define({ agent_url: stub.url, skill_id: 'remote.job', recipient: STUB_AGENT, input: { n: 1 } });

  test('503 and 429 are retried by the engine, one task.request per attempt, same idempotency key', async () => {
    stub.script(status(503), status(429, { 'retry-after': '0' }), taskReply('completed', { done: true }));
    const task = await run(template());
    assert.equal(task.status, 'completed');
    assert.equal(askStep(task).attempts, 3);
    assert.equal(stub.received.length, 3, 'the client does not retry inside a step attempt');
    const keys = stub.received.map((request) => request.headers['x-idempotency-key']);
    assert.equal(keys[0], `${task.id}/ask`);
    assert.deepEqual(new Set(keys).size, 1);
    const configs = stub.received.map((request) => request.rpc!.params.envelope.payload.config);
    assert.ok(configs.every((config) => (config as JsonObject).idempotency_key === `${task.id}/ask`));
    assert.deepEqual((askStep(task).result as { result: JsonObject }).result, { done: true });
  });

  test('a replay sends a new idempotency key, which its own retries then share', async () => {
    stub.script(
      taskReply('failed', { error: 'remote broke' }),
      status(503),
      taskReply('completed', { done: true }),
    );
    const failed = await run(template());
    assert.equal(failed.status, 'failed');
    const done = await replay(failed);
    assert.equal(done.status, 'completed');
    assert.equal(askStep(done).attempts, 2);
    const keys = stub.received.map((request) => request.headers['x-idempotency-key']);
    const replayed = `${failed.id}/ask/r1`;
    assert.deepEqual(keys, [`${failed.id}/ask`, replayed, replayed]);
    const configs = stub.received.map(
      (request) => (request.rpc!.params.envelope.payload.config as JsonObject).idempotency_key,
    );
    assert.deepEqual(configs, keys);
  });

  test('a reply with the wrong correlation_id fails the step (no retry)', async () => {
    stub.script(taskReply('completed', {}, '01JWRONGWRONGWRONGWRONGWRO'));
    const task = await run(template());
    assert.equal(task.status, 'failed');
    assert.equal(askStep(task).attempts, 1);
    assert.match(askStep(task).error!.message, /correlation_id does not match/);
  });

  test('a recoverable JSON-RPC error is retried after its retry_after_ms', async () => {
    stub.script(rpcError(-32002, 'too old', { recoverable: true, retry_after_ms: 10 }), taskReply());
    const task = await run(template());
    assert.equal(task.status, 'completed');
    assert.equal(askStep(task).attempts, 2);
  });

  test('a 4xx fails the step at once', async () => {
    stub.script(
      status(415, { 'content-type': 'application/json' }, '{"detail":"Unsupported Content-Encoding"}'),
    );
    const task = await run(template());
    assert.equal(task.status, 'failed');
    assert.equal(askStep(task).attempts, 1);
  });
});

describe('asap step: configuration checks', () => {
  callerEngine();

  test('registration rejects a bad configuration, naming every problem', () => {
    assert.throws(
      () =>
        engine.registerTemplate({
          namespace: 'bad',
          name: 'asap',
          steps: [
            {
              name: 'ask',
              handler: {
                type: 'asap',
                agent_url: 'ftp://agent',
                input: ['not', 'an', 'object'],
                timeout_seconds: 0,
                recipient: 'Agent_X',
                extra: true,
              },
            },
            {
              name: 'later',
              handler: {
                type: 'asap',
                agent_url: 'http://a.test',
                skill_id: 's',
                input: { x: '{{results.nope.v}}' },
              },
            },
          ],
        }),
      (error: Error & { details?: { path?: string; message: string }[] }) => {
        const text = JSON.stringify(error.details ?? error.message);
        for (const expected of [
          'extra',
          'absolute http',
          'skill_id',
          'must be an object',
          'timeout_seconds',
          'agent URN',
          "step 'nope'",
        ]) {
          assert.ok(text.includes(expected), `${expected} in ${text}`);
        }
        return true;
      },
    );
    assert.throws(
      () => define({ skill_id: 's' }),
      (error: Error & { details?: { path?: string; message: string }[] }) =>
        JSON.stringify(error.details).includes('url'),
    );
  });

  test('starting a task checks that the {{input…}} references exist', async () => {
    const template = define({ agent_url: '{{input.agent}}', skill_id: 'x', input: { v: '{{input.value}}' } });
    await assert.rejects(
      engine.startTask({ template, input: { agent: 'http://a.test' } }),
      (error: Error & { details?: unknown }) => JSON.stringify(error.details).includes('{{input.value}}'),
    );
  });
});
