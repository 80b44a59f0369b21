import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { createHttpClient, runWithContext } from '../../src/client/index.ts';
import { createEngine, PermanentError, type Engine } from '../../src/engine/index.ts';
import { createServer } from '../../src/server/index.ts';
import { registerTestTemplates } from '../server/helpers.ts';

interface Agent {
  engine: Engine;
  app: FastifyInstance;
  url: string;
  exporter: InMemorySpanExporter;
  provider: TracerProvider | undefined;
}

const dirs: string[] = [];

/** An engine on an SQLite temp file and a server on 127.0.0.1:0, with spans in memory (or none). */
async function startAgent(agentId: string, traced: boolean): Promise<Agent> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-tracing-'));
  dirs.push(dir);
  const exporter = new InMemorySpanExporter();
  const provider = traced
    ? new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] })
    : undefined;
  const engine = await createEngine({
    store: `sqlite:${join(dir, 'baton.db')}`,
    pollIntervalMs: 20,
    logger: pino({ level: 'silent' }),
    retry: { max_attempts: 1 },
    ...(provider === undefined ? {} : { tracerProvider: provider }),
  });
  registerTestTemplates(engine);
  engine.startWorkers();
  const app = createServer({
    engine,
    logger: pino({ level: 'silent' }),
    config: { agentId },
    batonHandlers: { pollMs: 20 },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return { engine, app, url, exporter, provider };
}

async function stopAgent(agent: Agent | undefined): Promise<void> {
  if (agent === undefined) return;
  await agent.app.close();
  await agent.engine.close({ timeoutMs: 200 });
  await agent.provider?.shutdown();
}

function removeDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

function one(spans: readonly ReadableSpan[], name: string): ReadableSpan {
  const found = spans.filter((span) => span.name === name);
  assert.equal(found.length, 1, `one span ${name}; spans: ${spans.map((span) => span.name).join(', ')}`);
  return found[0]!;
}

function isChildOf(child: ReadableSpan, parent: ReadableSpan): void {
  assert.equal(child.spanContext().traceId, parent.spanContext().traceId, `${child.name} in the trace`);
  assert.equal(
    child.parentSpanContext?.spanId,
    parent.spanContext().spanId,
    `${child.name} is a child of ${parent.name}`,
  );
}

/** Waits until `check` passes (spans end a moment after the task is seen finished). */
async function eventually(check: () => void): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      check();
      return;
    } catch (error) {
      if (attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

describe('one trace across two Baton agents (asap step → task.request)', () => {
  let a: Agent;
  let b: Agent;
  before(async () => {
    a = await startAgent('urn:asap:agent:a', true);
    b = await startAgent('urn:asap:agent:b', true);
  });
  after(async () => {
    await stopAgent(a);
    await stopAgent(b);
    removeDirs();
  });

  test("A's step, A's client span, B's server, dispatch, task and step spans share one trace", async () => {
    a.engine.registerTemplate({
      namespace: 'caller',
      name: 'ask',
      steps: [{ name: 'ask', handler: { type: 'asap', agent_url: b.url, skill_id: 'test.pair' } }],
    });
    const { task } = await a.engine.startTask({ template: 'caller.ask' });
    const done = await a.engine.waitForTask(task.id, { timeoutMs: 10_000 });
    assert.equal(done.status, 'completed');

    await eventually(() => {
      one(a.exporter.getFinishedSpans(), 'baton.step ask');
      one(b.exporter.getFinishedSpans(), 'baton.step second');
      one(b.exporter.getFinishedSpans(), 'POST /asap');
    });
    const spansA = a.exporter.getFinishedSpans();
    const spansB = b.exporter.getFinishedSpans();

    const taskA = one(spansA, 'baton.task caller.ask');
    const stepA = one(spansA, 'baton.step ask');
    const clientA = spansA.find(
      (span) => span.kind === SpanKind.CLIENT && span.attributes['url.full'] === `${b.url}/asap`,
    );
    assert.ok(clientA, 'a client span for POST /asap');
    assert.equal(clientA.name, 'POST');
    assert.equal(clientA.attributes['http.response.status_code'], 200);

    const serverB = one(spansB, 'POST /asap');
    const dispatchB = one(spansB, 'asap.dispatch task.request');
    const taskB = one(spansB, 'baton.task test.pair');
    const firstB = one(spansB, 'baton.step first');
    const secondB = one(spansB, 'baton.step second');

    const traceId = taskA.spanContext().traceId;
    assert.equal(taskA.parentSpanContext, undefined, "A's task span is the root");
    isChildOf(stepA, taskA);
    isChildOf(clientA, stepA);
    isChildOf(serverB, clientA);
    isChildOf(dispatchB, serverB);
    isChildOf(taskB, dispatchB);
    isChildOf(firstB, taskB);
    isChildOf(secondB, taskB);
    for (const span of [stepA, clientA, serverB, dispatchB, taskB, firstB, secondB]) {
      assert.equal(span.spanContext().traceId, traceId, span.name);
    }

    assert.equal(serverB.kind, SpanKind.SERVER);
    assert.equal(serverB.attributes['http.route'], '/asap');
    assert.equal(serverB.attributes['http.response.status_code'], 200);
    assert.equal(dispatchB.attributes['asap.payload_type'], 'task.request');
    assert.equal(typeof dispatchB.attributes['asap.envelope.id'], 'string');
    assert.deepEqual(
      {
        task: stepA.attributes['baton.task.id'],
        step: stepA.attributes['baton.step.name'],
        attempt: stepA.attributes['baton.step.attempt'],
        handler: stepA.attributes['baton.step.handler'],
      },
      { task: task.id, step: 'ask', attempt: 1, handler: 'builtin:asap' },
    );
    assert.equal(stepA.status.code, SpanStatusCode.OK);

    // B's task remembers the trace, so steps run later or elsewhere still join it.
    const remoteTaskId = (done.steps[0]!.result as { task_id: string }).task_id;
    const stored = await b.engine.store.getTask(remoteTaskId);
    assert.equal(stored!.task.traceparent, `00-${traceId}-${taskB.spanContext().spanId}-01`);
  });

  test('an envelope trace without an HTTP traceparent is continued by the dispatch span, and the reply names it', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const spanId = '00f067aa0ba902b7';
    const http = createHttpClient({ retry: { maxAttempts: 1 } });
    try {
      const response = await http.post(`${b.url}/asap`, {
        json: {
          jsonrpc: '2.0',
          method: 'asap.send',
          id: 'r1',
          params: {
            envelope: {
              asap_version: '0.1',
              sender: 'urn:asap:agent:client',
              recipient: 'urn:asap:agent:b',
              payload_type: 'state_query',
              payload: { task_id: 'task_missing', version: null },
              trace_id: traceId,
              extensions: { span_id: spanId },
            },
          },
        },
      });
      const body = JSON.parse(response.body.toString('utf8')) as {
        result?: { envelope: { extensions: Record<string, unknown> } };
        error?: unknown;
      };
      await eventually(() => one(b.exporter.getFinishedSpans(), 'asap.dispatch state_query'));
      const dispatch = one(b.exporter.getFinishedSpans(), 'asap.dispatch state_query');
      assert.equal(dispatch.spanContext().traceId, traceId);
      assert.equal(dispatch.parentSpanContext?.spanId, spanId);
      assert.equal(dispatch.links.length, 1, 'the HTTP server span of another trace is linked');
      if (body.result !== undefined) {
        assert.equal(body.result.envelope.extensions.trace_id, traceId);
        assert.equal(body.result.envelope.extensions.span_id, dispatch.spanContext().spanId);
      } else {
        assert.equal(dispatch.status.code, SpanStatusCode.ERROR);
      }
    } finally {
      await http.close();
    }
  });
});

describe('a failing step', () => {
  let agent: Agent;
  before(async () => {
    agent = await startAgent('urn:asap:agent:f', true);
  });
  after(async () => {
    await stopAgent(agent);
    removeDirs();
  });

  test('its span has error status, the exception and error.type', async () => {
    agent.engine.registerHandler({
      namespace: 'test',
      name: 'broken',
      version: '1.0.0',
      handler: () => {
        throw new PermanentError('the order is invalid', { code: 'order_invalid' });
      },
    });
    agent.engine.registerTemplate({
      namespace: 'test',
      name: 'broken',
      steps: [{ name: 'check', handler: 'test/broken' }],
    });
    const { task } = await agent.engine.startTask({ template: 'test.broken' });
    assert.equal((await agent.engine.waitForTask(task.id, { timeoutMs: 10_000 })).status, 'failed');
    await eventually(() => one(agent.exporter.getFinishedSpans(), 'baton.step check'));
    const span = one(agent.exporter.getFinishedSpans(), 'baton.step check');
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.status.message, 'the order is invalid');
    assert.equal(span.attributes['error.type'], 'order_invalid');
    assert.equal(span.attributes['baton.step.retryable'], false);
    assert.equal(span.events[0]?.name, 'exception');
  });
});

describe('tracing not configured', () => {
  let agent: Agent;
  let captured: Server;
  let capturedUrl = '';
  const seen: IncomingHttpHeaders[] = [];
  before(async () => {
    agent = await startAgent('urn:asap:agent:plain', false);
    captured = createHttpServer((request, response) => {
      seen.push(request.headers);
      response.end('{}');
    });
    await new Promise<void>((resolve) => captured.listen(0, '127.0.0.1', resolve));
    capturedUrl = `http://127.0.0.1:${(captured.address() as AddressInfo).port}`;
  });
  after(async () => {
    await stopAgent(agent);
    await new Promise((resolve) => captured.close(resolve));
    removeDirs();
  });

  test('no tracer, no spans, and no trace stored with tasks', async () => {
    assert.equal(agent.engine.tracer, undefined);
    assert.equal(agent.engine.tracerProvider, undefined);
    const { task } = await agent.engine.startTask({ template: 'test.echo', input: { x: 1 } });
    assert.equal((await agent.engine.waitForTask(task.id, { timeoutMs: 10_000 })).status, 'completed');
    assert.equal((await agent.engine.store.getTask(task.id))!.task.traceparent, null);
    assert.deepEqual(agent.exporter.getFinishedSpans(), []);
  });

  test('outbound calls keep the ambient trace id with a new span id per attempt, as before', async () => {
    const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    seen.length = 0;
    await runWithContext({ traceparent: parent }, () => agent.engine.http.get(capturedUrl));
    const sent = String(seen[0]?.traceparent);
    assert.match(sent, /^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    assert.notEqual(sent, parent);
    await agent.engine.http.get(capturedUrl);
    assert.match(String(seen[1]?.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.doesNotMatch(String(seen[1]?.traceparent), /0af7651916cd43dd8448eb211c80319c/);
  });
});
