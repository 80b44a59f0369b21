import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { createEngine, type Engine } from '../../src/engine/index.ts';
import { createLogger, loggerFromConfig, redactSecretKeys } from '../../src/observability/index.ts';
import { createServer } from '../../src/server/index.ts';
import { runWithContext } from '../../src/util/context.ts';
import { envelope, post, rpc } from '../server/helpers.ts';

type Line = Record<string, unknown>;

/** A destination that keeps every line written, raw and parsed. */
function capture(): { stream: DestinationStream; raw: string[]; lines: Line[] } {
  const raw: string[] = [];
  const lines: Line[] = [];
  const stream = {
    write(text: string) {
      raw.push(text);
      lines.push(JSON.parse(text) as Line);
    },
  };
  return { stream, raw, lines };
}

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

function byMsg(lines: readonly Line[], msg: string): Line[] {
  return lines.filter((line) => line.msg === msg);
}

describe('createLogger: context ids from the ambient context', () => {
  it('adds trace_id, span_id, correlation_id, task_id, step and envelope_id when known', () => {
    const { stream, lines } = capture();
    const logger = createLogger({ destination: stream });
    runWithContext(
      {
        traceparent: TRACEPARENT,
        correlationId: 'corr-1',
        taskId: 'tsk_1',
        step: 'fetch',
        envelopeId: 'env-1',
      },
      () => logger.info({ extra: 1 }, 'inside'),
    );
    logger.info('outside');
    assert.equal(lines.length, 2);
    assert.deepEqual(
      {
        trace_id: lines[0]!.trace_id,
        span_id: lines[0]!.span_id,
        correlation_id: lines[0]!.correlation_id,
        task_id: lines[0]!.task_id,
        step: lines[0]!.step,
        envelope_id: lines[0]!.envelope_id,
        extra: lines[0]!.extra,
      },
      {
        trace_id: TRACE_ID,
        span_id: '00f067aa0ba902b7',
        correlation_id: 'corr-1',
        task_id: 'tsk_1',
        step: 'fetch',
        envelope_id: 'env-1',
        extra: 1,
      },
    );
    for (const key of ['trace_id', 'correlation_id', 'task_id', 'step', 'envelope_id']) {
      assert.equal(key in lines[1]!, false, key);
    }
  });

  it("lets a line's own fields win over the context's", () => {
    const { stream, lines } = capture();
    const logger = createLogger({ destination: stream });
    runWithContext({ taskId: 'tsk_ctx' }, () => logger.info({ task_id: 'tsk_own' }, 'x'));
    assert.equal(lines[0]!.task_id, 'tsk_own');
  });
});

describe('createLogger: redaction', () => {
  it('never writes a secret, by path or by key name at any depth', () => {
    const { stream, raw, lines } = capture();
    const logger = createLogger({ destination: stream });
    const logged = {
      headers: { authorization: 'Bearer sekrit-header', accept: 'json' },
      target: { url: 'https://api.example', auth: { password: 'sekrit-pass', user: 'ann' } },
      list: [{ apiKey: 'sekrit-key-1' }, { 'x-api-key': 'sekrit-key-2' }, { ok: 1 }],
      deep: { a: { b: { c: { client_secret: 'sekrit-secret', refreshToken: 'sekrit-token' } } } },
      Cookie: 'session=sekrit-cookie',
    };
    logger.info(logged, 'call');
    const text = raw.join('');
    assert.doesNotMatch(text, /sekrit/);
    const line = lines[0] as {
      headers: Record<string, string>;
      target: { auth: Record<string, string> };
      list: Record<string, unknown>[];
    };
    assert.equal(line.headers.accept, 'json');
    assert.equal(line.headers.authorization, '[redacted]');
    assert.equal(line.target.auth.user, 'ann');
    assert.equal(line.target.auth.password, '[redacted]');
    assert.deepEqual(line.list[2], { ok: 1 });
    // The caller's object is left as it was.
    assert.equal(logged.target.auth.password, 'sekrit-pass');
    assert.equal(logged.headers.authorization, 'Bearer sekrit-header');
  });

  it('redacts secret properties of a logged error and keeps it an error', () => {
    const { stream, raw, lines } = capture();
    const logger = createLogger({ destination: stream });
    const error = Object.assign(new Error('upstream said no'), {
      config: { headers: { Authorization: 'Basic sekrit' } },
    });
    logger.error({ err: error }, 'failed');
    assert.doesNotMatch(raw.join(''), /sekrit/);
    const err = lines[0]!.err as { type: string; message: string; stack: string };
    assert.equal(err.type, 'Error');
    assert.equal(err.message, 'upstream said no');
    assert.match(err.stack, /upstream said no/);
  });

  it('returns the very object when there is nothing to hide', () => {
    const value = { a: { b: [1, { c: 'd' }] }, status: 200 };
    assert.equal(redactSecretKeys(value), value);
  });
});

describe('loggerFromConfig: level and format', () => {
  it('writes JSON lines at the configured level and above', () => {
    const { stream, lines } = capture();
    const logger = loggerFromConfig({ logLevel: 'warn', logFormat: 'json' }, { destination: stream });
    logger.info('dropped');
    logger.warn('kept');
    assert.deepEqual(
      lines.map((line) => line.msg),
      ['kept'],
    );
    assert.equal(lines[0]!.level, 40);
  });

  it('writes human lines with `pretty`', async () => {
    let text = '';
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        text += chunk.toString();
        done();
      },
    });
    const logger = loggerFromConfig(
      { logLevel: 'debug', logFormat: 'pretty' },
      { destination: sink, colorize: false },
    );
    runWithContext({ taskId: 'tsk_pretty' }, () => logger.debug({ n: 1 }, 'engine.step.started'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.match(text, /DEBUG/);
    assert.match(text, /engine\.step\.started/);
    assert.match(text, /task_id: "tsk_pretty"/);
    assert.throws(() => JSON.parse(text));
  });
});

describe('request and envelope dispatch lines', () => {
  const { stream, lines } = capture();
  let engine: Engine | undefined;
  let app: FastifyInstance | undefined;
  before(async () => {
    const logger = createLogger({ level: 'debug', destination: stream });
    engine = await createEngine({ store: 'sqlite::memory:', logger, pollIntervalMs: 20 });
    app = createServer({ engine, batonHandlers: false, config: { agentId: 'urn:asap:agent:baton-test' } });
    app.asap.register('test.ping', async (_received, context) => {
      await Promise.resolve();
      context.logger.info({ token: 'sekrit-in-handler' }, 'test.handler.ping');
      return context.reply('test.pong', {});
    });
    app.asap.register('test.boom', () => {
      throw new Error('boom');
    });
    await app.ready();
  });
  after(async () => {
    await app?.close();
    await engine?.close();
  });

  it('carries envelope_id, correlation_id and trace_id on every line of the dispatch', async () => {
    const body = rpc(envelope({ id: 'env-ping-1', payload_type: 'test.ping', payload: {} }));
    await runWithContext({ traceparent: TRACEPARENT }, () =>
      post(app!, body, { 'x-correlation-id': 'corr-ping', traceparent: TRACEPARENT }),
    );
    const ours = lines.filter((line) => line.envelope_id === 'env-ping-1');
    const names = ours.map((line) => line.msg);
    for (const name of ['asap.request.received', 'test.handler.ping', 'asap.request.processed']) {
      assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
    }
    for (const line of ours) {
      assert.equal(line.correlation_id, 'corr-ping', String(line.msg));
      assert.equal(line.trace_id, TRACE_ID, String(line.msg));
    }
    const processed = byMsg(ours, 'asap.request.processed')[0]!;
    assert.equal(typeof processed.duration_ms, 'number');
    assert.equal(processed.status, 'ok');
    assert.equal(processed.payload_type, 'test.ping');
    assert.equal(byMsg(ours, 'test.handler.ping')[0]!.token, '[redacted]');
  });

  it('falls back to the envelope id as correlation id, and logs asap.handler.error', async () => {
    await post(app!, rpc(envelope({ id: 'env-boom-1', payload_type: 'test.boom', payload: {} })));
    const failed = byMsg(lines, 'asap.handler.error').find((line) => line.envelope_id === 'env-boom-1');
    assert.ok(failed, 'asap.handler.error line');
    assert.equal(failed.correlation_id, 'env-boom-1');
    assert.equal(failed.level, 50);
  });

  it('gives REST requests a correlation id', async () => {
    const before = lines.length;
    const response = await app!.inject({
      method: 'GET',
      url: '/api/v1/tasks/tsk_missing',
      headers: { 'x-correlation-id': 'corr-rest' },
    });
    assert.equal(response.statusCode, 404);
    // A 404 is not logged; what matters is that nothing logged meanwhile lacks the id.
    for (const line of lines.slice(before)) assert.equal(line.correlation_id, 'corr-rest');
  });
});

describe('task and step lines', () => {
  const { stream, lines } = capture();
  let engine: Engine | undefined;
  before(async () => {
    engine = await createEngine({
      store: 'sqlite::memory:',
      logger: createLogger({ level: 'debug', destination: stream }),
      pollIntervalMs: 20,
      retry: { max_attempts: 2, backoff: { base_ms: 5, factor: 2, max_ms: 20, jitter: 0 } },
    });
    let calls = 0;
    engine.registerHandler({
      namespace: 'test',
      name: 'flaky',
      handler: async (context) => {
        await Promise.resolve();
        context.log.info({ password: 'sekrit-step' }, 'test.handler.step');
        if (++calls === 1) throw new Error('first attempt fails');
        return { ok: true };
      },
    });
    engine.registerTemplate({
      namespace: 'test',
      name: 'flaky',
      steps: [{ name: 'only', handler: 'test/flaky' }],
    });
    engine.startWorkers();
  });
  after(async () => {
    await engine?.close({ timeoutMs: 100 });
  });

  it('carries task_id, step and correlation_id; names the lifecycle events', async () => {
    const { task } = await engine!.startTask({ template: 'test.flaky', input: {} });
    await engine!.waitForTask(task.id, { timeoutMs: 5000 });
    const ours = lines.filter((line) => line.task_id === task.id);
    const names = ours.map((line) => line.msg);
    for (const name of [
      'engine.step.started',
      'test.handler.step',
      'engine.step.retry_scheduled',
      'engine.step.completed',
      'engine.task.completed',
    ]) {
      assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
    }
    for (const line of ours) {
      assert.equal(line.correlation_id, task.id, String(line.msg));
      if (String(line.msg).startsWith('engine.step') || line.msg === 'test.handler.step') {
        assert.equal(line.step, 'only', String(line.msg));
      }
    }
    const handlerLines = byMsg(ours, 'test.handler.step');
    assert.deepEqual(
      handlerLines.map((line) => line.attempt),
      [1, 2],
    );
    assert.equal(handlerLines[0]!.password, '[redacted]');
    const retry = byMsg(ours, 'engine.step.retry_scheduled')[0]!;
    assert.equal(retry.attempt, 1);
    assert.equal(typeof retry.delay_ms, 'number');
  });
});
