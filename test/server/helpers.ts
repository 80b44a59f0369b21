/** A Baton server on an in-memory engine for the server tests, and envelope builders. */
import type { OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { createEngine, PermanentError, type Engine } from '../../src/engine/index.ts';
import { formatTimestamp, type Envelope, type JsonObject } from '../../src/protocol/index.ts';
import { createServer, type ServerOptions } from '../../src/server/index.ts';

export const CLIENT = 'urn:asap:agent:client';
export const AGENT = 'urn:asap:agent:baton-test';

export interface Fixture {
  readonly engine: Engine;
  readonly app: FastifyInstance;
  /** `http://127.0.0.1:PORT` when started with `listen: true`. */
  readonly url: string;
}

/**
 * Registers before/after hooks in the calling `describe`: an engine with the test templates and
 * running workers, and a server on it (listening on a free port with `listen: true`).
 */
export function serverFixture(
  options: { listen?: boolean; server?: Partial<Omit<ServerOptions, 'engine'>> } = {},
): Fixture {
  let engine: Engine | undefined;
  let app: FastifyInstance | undefined;
  let url = '';
  before(async () => {
    engine = await createEngine({
      store: 'sqlite::memory:',
      pollIntervalMs: 20,
      logger: pino({ level: 'silent' }),
      retry: { max_attempts: 1 },
    });
    registerTestTemplates(engine);
    engine.startWorkers();
    app = createServer({
      engine,
      logger: pino({ level: 'silent' }),
      ...options.server,
      config: { agentId: AGENT, publicUrl: 'http://agent.test:9000/', ...options.server?.config },
      batonHandlers: { pollMs: 20, ...options.server?.batonHandlers },
    });
    if (options.listen === true) {
      await app.listen({ host: '127.0.0.1', port: 0 });
      url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    } else {
      await app.ready();
    }
  });
  after(async () => {
    await app?.close();
    await engine?.close({ timeoutMs: 200 });
  });
  return {
    get engine() {
      return engine!;
    },
    get app() {
      return app!;
    },
    get url() {
      return url;
    },
  };
}

/**
 * `test.echo` (one step returning its input), `test.pair` (`first` → `second`), `test.slow`
 * (sleeps `input.ms`, honouring cancellation) and `test.fail` (fails for good).
 */
export function registerTestTemplates(engine: Engine): void {
  const handler = (name: string, run: Parameters<Engine['registerHandler']>[0]['handler']) =>
    engine.registerHandler({ namespace: 'test', name, version: '1.0.0', handler: run });
  handler('echo', (ctx) => ({ echoed: ctx.input }));
  handler('first', () => ({ n: 1 }));
  handler('second', (ctx) => ({ n: (ctx.results.first as { n: number }).n + 1 }));
  handler('slow', async (ctx) => {
    await sleep((ctx.input as { ms: number }).ms, undefined, { signal: ctx.signal });
    return { slept: true };
  });
  handler('fail', () => {
    throw new PermanentError('this step always fails');
  });
  const template = (name: string, steps: object[], extra: object = {}) =>
    engine.registerTemplate({ namespace: 'test', name, version: '1.0.0', steps, ...extra });
  template('echo', [{ name: 'echo', handler: 'test/echo' }], {
    description: 'Echoes its input',
    input_schema: { type: 'object', properties: { message: { type: 'string' } } },
  });
  template('pair', [
    { name: 'first', handler: 'test/first' },
    { name: 'second', handler: 'test/second', depends_on: ['first'] },
  ]);
  template('slow', [{ name: 'slow', handler: 'test/slow' }], {
    input_schema: { type: 'object', required: ['ms'], properties: { ms: { type: 'integer' } } },
  });
  template('fail', [{ name: 'fail', handler: 'test/fail' }]);
}

/** A valid request envelope with a fresh timestamp; `changes` replace fields (`undefined` removes). */
export function envelope(changes: JsonObject = {}): JsonObject {
  const base: JsonObject = {
    asap_version: '0.1',
    timestamp: formatTimestamp(),
    sender: CLIENT,
    recipient: AGENT,
    payload_type: 'task.request',
    payload: { conversation_id: 'conv-1', skill_id: 'test.echo', input: { message: 'hi' } },
  };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete base[key];
    else base[key] = value;
  }
  return base;
}

export function taskRequest(skill: string, input: JsonObject, config: JsonObject | null = null): JsonObject {
  return envelope({ payload: { conversation_id: 'conv-1', skill_id: skill, input, config } });
}

export function rpc(envelopeValue: unknown, id: string | number = 'req-1'): JsonObject {
  return { jsonrpc: '2.0', method: 'asap.send', params: { envelope: envelopeValue }, id };
}

export interface RpcAnswer {
  status: number;
  headers: OutgoingHttpHeaders;
  /** Parsed JSON when the answer is JSON, else the text. */
  body: unknown;
}

/** POSTs `body` (an object is sent as JSON, a string or Buffer as is) to `/asap` in-process. */
export async function post(
  app: FastifyInstance,
  body: unknown,
  headers: Record<string, string> = {},
  url = '/asap',
): Promise<RpcAnswer> {
  const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const response = await app.inject({ method: 'POST', url, headers, payload });
  const type = String(response.headers['content-type'] ?? '');
  return {
    status: response.statusCode,
    headers: response.headers,
    body: type.startsWith('application/json') ? response.json<unknown>() : response.body,
  };
}

export interface RpcErrorObject {
  code: number;
  message: string;
  data: JsonObject | null;
}

/** The error object of a JSON-RPC error answer (fails the test when it is not one). */
export function errorOf(answer: unknown): RpcErrorObject {
  const body = (isAnswer(answer) ? answer.body : answer) as { error?: RpcErrorObject };
  if (body?.error === undefined) throw new Error(`not an error answer: ${JSON.stringify(body)}`);
  return body.error;
}

/** The result envelope of a JSON-RPC success answer (fails the test when it is not one). */
export function resultOf(answer: unknown): Envelope<JsonObject> {
  const body = (isAnswer(answer) ? answer.body : answer) as { result?: { envelope: Envelope<JsonObject> } };
  if (body?.result === undefined) throw new Error(`not a result answer: ${JSON.stringify(body)}`);
  return body.result.envelope;
}

function isAnswer(value: unknown): value is RpcAnswer {
  return typeof value === 'object' && value !== null && 'status' in value && 'headers' in value;
}
