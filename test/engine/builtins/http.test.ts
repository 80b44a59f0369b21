import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { createEngine, type Engine, type TaskView } from '../../../src/engine/index.ts';
import { handlers } from '../harness.ts';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A real upstream: each path answers from a script of responses, the last one repeating. */
class Upstream {
  readonly received: Received[] = [];
  readonly #scripts = new Map<string, ((res: ServerResponse) => void)[]>();
  readonly #server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      this.received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const path = (req.url ?? '').split('?')[0] ?? '';
      const script = this.#scripts.get(path);
      const answer = script && (script.length > 1 ? script.shift() : script[0]);
      if (answer) answer(res);
      else res.writeHead(404).end();
    });
  });
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  on(path: string, ...answers: ((res: ServerResponse) => void)[]): void {
    this.#scripts.set(path, answers);
  }

  at(path: string): Received[] {
    return this.received.filter((request) => request.url.split('?')[0] === path);
  }
}

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  (res: ServerResponse) =>
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
const text =
  (status: number, body: string, headers: Record<string, string> = {}) =>
  (res: ServerResponse) =>
    res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(body);

const upstream = new Upstream();
let engine: Engine;

// Suite-level hooks: they run before the leak check of test/support/setup.ts, which must find the
// upstream and the engine's connection pools closed.
function suite(name: string, body: () => void): void {
  describe(name, () => {
    before(async () => {
      await upstream.start();
      engine = await createEngine({
        store: 'sqlite::memory:',
        pollIntervalMs: 20,
        logger: pino({ level: 'silent' }),
        retry: { max_attempts: 3, backoff: { base_ms: 5, factor: 2, max_ms: 100, jitter: 0 } },
        http: { timeouts: { totalMs: 5000 } },
      });
      engine.startWorkers();
    });
    after(async () => {
      await engine.close({ timeoutMs: 100 });
      await upstream.stop();
    });
    body();
  });
}

let templates = 0;
/** Registers a one-off template of `steps` and returns its reference. */
function define(steps: Record<string, unknown>[], extra: Record<string, unknown> = {}): string {
  const name = `t${++templates}`;
  engine.registerTemplate({ namespace: 'http', name, steps, ...extra });
  return `http.${name}`;
}

async function run(template: string, input: unknown = {}): Promise<TaskView> {
  const { task } = await engine.startTask({ template, input });
  return engine.waitForTask(task.id, { timeoutMs: 10_000 });
}

function step(task: TaskView, name: string) {
  const found = task.steps.find((entry) => entry.name === name);
  assert.ok(found, `step ${name}`);
  return found;
}

suite('http step: requests and results', () => {
  test('substitutes input into url and headers; the result is status, headers and parsed body', async () => {
    upstream.on('/orders/A%2F1', json(200, { id: 'A/1', total: 12.5 }, { 'x-trace': 't1' }));
    const template = define([
      {
        name: 'fetch',
        handler: {
          type: 'http',
          url: `${upstream.url}/orders/{{input.order.id}}`,
          headers: { 'X-Tenant': '{{input.tenant}}' },
        },
      },
    ]);
    const task = await run(template, { order: { id: 'A/1' }, tenant: 'acme' });
    assert.equal(task.status, 'completed');
    const result = step(task, 'fetch').result as {
      status: number;
      headers: Record<string, string>;
      body: unknown;
    };
    assert.equal(result.status, 200);
    assert.deepEqual(result.body, { id: 'A/1', total: 12.5 });
    assert.equal(result.headers['x-trace'], 't1');
    const [received] = upstream.at('/orders/A%2F1');
    assert.equal(received?.method, 'GET');
    assert.equal(received?.headers['x-tenant'], 'acme');
    assert.match(String(received?.headers['x-correlation-id']), /\S/);
    assert.match(String(received?.headers.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
  });

  test('a POST body takes values from earlier results with their JSON types; text responses stay text', async () => {
    upstream.on('/quote', json(200, { price: 42, tags: ['a', 'b'] }));
    upstream.on('/buy', text(201, 'bought'));
    const template = define([
      { name: 'quote', handler: { type: 'http', url: `${upstream.url}/quote` } },
      {
        name: 'buy',
        depends_on: ['quote'],
        handler: {
          type: 'http',
          method: 'post',
          url: `${upstream.url}/buy`,
          body: {
            price: '{{results.quote.body.price}}',
            first: '{{results.quote.body.tags.0}}',
            note: 'p={{results.quote.body.price}}',
          },
        },
      },
    ]);
    const task = await run(template);
    assert.equal(task.status, 'completed');
    assert.deepEqual(step(task, 'buy').result, {
      status: 201,
      headers: step(task, 'buy').result && (step(task, 'buy').result as { headers: object }).headers,
      body: 'bought',
    });
    const [received] = upstream.at('/buy');
    assert.equal(received?.method, 'POST');
    assert.deepEqual(JSON.parse(received?.body ?? ''), { price: 42, first: 'a', note: 'p=42' });
    assert.equal(received?.headers['content-type'], 'application/json');
    assert.equal(received?.headers['idempotency-key'], `${task.id}/buy`);
  });

  test('expect.status lists the statuses that mean success', async () => {
    upstream.on('/maybe', json(404, { error: 'none' }));
    const template = define([
      {
        name: 'look',
        handler: { type: 'http', url: `${upstream.url}/maybe`, expect: { status: [200, 404] } },
      },
    ]);
    const task = await run(template);
    assert.equal(task.status, 'completed');
    assert.equal((step(task, 'look').result as { status: number }).status, 404);
  });

  test('ctx.http is the same client for code handlers', async () => {
    upstream.on('/ping', text(200, 'pong'));
    handlers(engine, {
      ping: async (context) =>
        (await context.http.get(`${upstream.url}/ping`, { signal: context.signal })).text(),
    });
    engine.registerTemplate({
      namespace: 'http',
      name: 'code',
      steps: [{ name: 'ping', handler: 'test/ping' }],
    });
    const task = await run('http.code');
    assert.equal(step(task, 'ping').result, 'pong');
  });
});

suite('http step: failures and retries', () => {
  test('503 with Retry-After becomes a retry after that delay (capped by max_retry_after_ms)', async () => {
    upstream.on('/busy', text(503, 'later', { 'retry-after': '3600' }), json(200, { ok: true }));
    const template = define([
      {
        name: 'call',
        handler: { type: 'http', url: `${upstream.url}/busy` },
        retry: { max_attempts: 3, max_retry_after_ms: 40 },
      },
    ]);
    const started = Date.now();
    const task = await run(template);
    assert.equal(task.status, 'completed');
    assert.equal(step(task, 'call').attempts, 2);
    assert.ok(Date.now() - started >= 40, 'waited for the capped Retry-After');
    const events = await engine.listEvents({ taskId: task.id });
    const scheduled = events.find((event) => event.type === 'step.retry_scheduled');
    assert.deepEqual(
      [scheduled?.data?.retry_after_ms, scheduled?.data?.delay_ms],
      [3_600_000, 40],
      'the upstream asked for an hour; the step cap allowed 40 ms',
    );
    assert.equal(scheduled?.error?.code, 'http_status');
    assert.equal(
      upstream.at('/busy').length,
      2,
      'one request per attempt: the client does not retry on its own',
    );
  });

  test('429 is retried; Retry-After as an HTTP date is honoured', async () => {
    const soon = new Date(Date.now() + 1000).toUTCString();
    upstream.on('/limited', text(429, 'slow down', { 'retry-after': soon }), json(200, { ok: 1 }));
    const template = define([
      {
        name: 'call',
        handler: { type: 'http', url: `${upstream.url}/limited` },
        retry: { max_retry_after_ms: 30 },
      },
    ]);
    const task = await run(template);
    assert.equal(task.status, 'completed');
    const events = await engine.listEvents({ taskId: task.id });
    const scheduled = events.find((event) => event.type === 'step.retry_scheduled');
    assert.ok(Number(scheduled?.data?.retry_after_ms) > 0, 'the date was read');
    assert.equal(scheduled?.data?.delay_ms, 30);
  });

  test('4xx other than 408/425/429 fails the step at once, into the dead-letter queue', async () => {
    upstream.on('/gone', json(410, { error: 'gone' }));
    const template = define([{ name: 'call', handler: { type: 'http', url: `${upstream.url}/gone` } }]);
    const task = await run(template);
    assert.equal(task.status, 'failed');
    assert.equal(step(task, 'call').attempts, 1);
    assert.equal(step(task, 'call').error?.code, 'http_status');
    assert.match(step(task, 'call').error?.message ?? '', /HTTP 410/);
    const letters = await engine.listDeadLetters();
    assert.ok(letters.dead_letters.some((letter) => letter.task_id === task.id));
  });

  test('a POST keeps its Idempotency-Key across retries and gets a new one when the task is replayed', async () => {
    upstream.on(
      '/charge',
      text(503, 'later', { 'retry-after': '0' }),
      json(422, { error: 'card declined' }),
      json(201, { charged: true }),
    );
    const template = define([
      { name: 'charge', handler: { type: 'http', method: 'POST', url: `${upstream.url}/charge`, body: {} } },
    ]);
    const failed = await run(template);
    assert.equal(failed.status, 'failed');
    const entry = (await engine.listDeadLetters()).dead_letters.find(
      (letter) => letter.task_id === failed.id,
    );
    assert.ok(entry);
    await engine.replayDeadLetter(entry.id);
    const done = await engine.waitForTask(failed.id, { timeoutMs: 10_000 });
    assert.equal(done.status, 'completed');
    assert.deepEqual(
      upstream.at('/charge').map((request) => request.headers['idempotency-key']),
      [`${failed.id}/charge`, `${failed.id}/charge`, `${failed.id}/charge/r1`],
    );
  });

  test('timeout_ms bounds each attempt; a timed-out attempt is retried', async () => {
    upstream.on('/slow', (res) => setTimeout(() => res.end('late'), 1000).unref(), text(200, 'quick'));
    const template = define([
      { name: 'call', handler: { type: 'http', url: `${upstream.url}/slow`, timeout_ms: 100 } },
    ]);
    const task = await run(template);
    assert.equal(task.status, 'completed');
    assert.equal(step(task, 'call').attempts, 2);
    const events = await engine.listEvents({ taskId: task.id });
    const scheduled = events.find((event) => event.type === 'step.retry_scheduled');
    assert.equal(scheduled?.error?.code, 'timeout');
  });

  test('credentials in headers and URLs never reach the stored error', async () => {
    upstream.on('/secret', text(500, 'boom'));
    const template = define([
      {
        name: 'call',
        retry: { max_attempts: 1 },
        handler: {
          type: 'http',
          url: `${upstream.url}/secret?api_key={{input.key}}&page=2`,
          headers: { Authorization: 'Bearer {{input.token}}', Cookie: 'sid={{input.token}}' },
        },
      },
    ]);
    const task = await run(template, { key: 'k-SECRET-1', token: 't-SECRET-2' });
    assert.equal(task.status, 'failed');
    const stored = JSON.stringify([task.steps, task.history, await engine.listEvents({ taskId: task.id })]);
    assert.doesNotMatch(stored, /SECRET/);
    assert.match(step(task, 'call').error?.message ?? '', /page=2/);
    const [received] = upstream.at('/secret');
    assert.equal(received?.headers.authorization, 'Bearer t-SECRET-2', 'the real request carried the secret');
  });
});

suite('http step: configuration checked up front', () => {
  function rejection(work: () => unknown): {
    message: string;
    details: { path?: string; message: string }[];
  } {
    try {
      work();
    } catch (error) {
      const { code, details, message } = error as { code?: string; details?: []; message: string };
      assert.equal(code, 'validation_failed');
      return { message, details: details ?? [] };
    }
    assert.fail('expected a validation error');
  }

  test('bad fields, references to steps that do not run first, and malformed references', () => {
    const { details } = rejection(() =>
      engine.registerTemplate({
        namespace: 'http',
        name: 'bad',
        steps: [
          {
            name: 'a',
            handler: { type: 'http', url: 'ftp://x', method: 'FETCH', timeout_ms: 0, retries: 2 },
          },
          {
            name: 'b',
            handler: {
              type: 'http',
              url: 'http://x/{{results.c.body}}',
              headers: { 'X-A': 1, 'Bad Name': 'v' },
              body: { v: '{{secrets.token}}' },
              expect: { status: 99 },
            },
          },
          { name: 'c', depends_on: ['a'], handler: { type: 'http', url: 'http://x/{{input.a..b}}' } },
        ],
      }),
    );
    assert.deepEqual(
      details.map((detail) => detail.path),
      [
        'steps[0].handler.retries',
        'steps[0].handler.method',
        'steps[0].handler.url',
        'steps[0].handler.timeout_ms',
        'steps[1].handler.headers.X-A',
        'steps[1].handler.headers',
        'steps[1].handler.expect',
        'steps[1].handler.url',
        'steps[1].handler.body.v',
        'steps[2].handler.url',
      ],
    );
    assert.match(details[7]?.message ?? '', /step 'c' is not among this step's dependencies/);
    assert.match(details[8]?.message ?? '', /starts with input\. or results\.<step>\./);
  });

  test('a URL that starts with a reference takes its base from the data', () => {
    assert.doesNotThrow(() => define([{ name: 'a', handler: { type: 'http', url: '{{input.base}}/x' } }]));
  });

  test('missing input paths fail the start, before anything is stored', async () => {
    const template = define([
      {
        name: 'a',
        handler: { type: 'http', url: 'http://127.0.0.1:9/{{input.order.id}}', body: '{{input.note}}' },
      },
    ]);
    const before = (await engine.listTasks({})).tasks.length;
    const error = await engine.startTask({ template, input: { order: {} } }).then(
      () => assert.fail('expected a validation error'),
      (caught: unknown) => caught as { code: string; details: { path: string; message: string }[] },
    );
    assert.equal(error.code, 'validation_failed');
    assert.deepEqual(error.details, [
      { path: 'steps.a.url', message: '{{input.order.id}}: the task input has no such value' },
      { path: 'steps.a.body', message: '{{input.note}}: the task input has no such value' },
    ]);
    assert.equal((await engine.listTasks({})).tasks.length, before);
  });

  test('a result path missing at run time fails the step without retries', async () => {
    upstream.on('/empty', json(200, {}));
    const template = define([
      { name: 'a', handler: { type: 'http', url: `${upstream.url}/empty` } },
      {
        name: 'b',
        depends_on: ['a'],
        handler: { type: 'http', url: `${upstream.url}/x/{{results.a.body.id}}` },
      },
    ]);
    const task = await run(template);
    assert.equal(task.status, 'failed');
    assert.equal(step(task, 'b').attempts, 1);
    assert.equal(step(task, 'b').error?.code, 'validation_failed');
    assert.match(step(task, 'b').error?.message ?? '', /results\.a\.body\.id/);
  });
});
