/**
 * The REST API tests' fixture: a real engine on a temporary SQLite file with the server tests'
 * templates and running workers, and a Baton server on it; plus request and SSE helpers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { pino } from 'pino';
import { createEngine, type Engine, type TaskView } from '../../src/engine/index.ts';
import { createServer, type ServerOptions } from '../../src/server/index.ts';
import { registerTestTemplates } from '../server/helpers.ts';

export interface ApiFixture {
  readonly engine: Engine;
  readonly app: FastifyInstance;
  /** `http://127.0.0.1:PORT` when started with `listen: true`. */
  readonly url: string;
}

/**
 * Registers before/after hooks in the calling `describe` (never at the root: the leak check of
 * `test/support/setup.ts` runs before root-level `after` hooks).
 */
export function apiFixture(
  options: {
    listen?: boolean;
    server?: Partial<Omit<ServerOptions, 'engine'>>;
    /** The store URL (read in the `before` hook); default a SQLite file in a temporary folder. */
    store?: () => string;
    /** Runs on the app before it loads its plugins (e.g. to add an `onRoute` hook). */
    setup?: (app: FastifyInstance) => void;
  } = {},
): ApiFixture {
  let dir: string | undefined;
  let engine: Engine | undefined;
  let app: FastifyInstance | undefined;
  let url = '';
  before(async () => {
    if (!options.store) dir = await mkdtemp(join(tmpdir(), 'baton-api-'));
    engine = await createEngine({
      store: options.store?.() ?? `sqlite:${join(dir!, 'baton.db')}`,
      pollIntervalMs: 20,
      logger: pino({ level: 'silent' }),
      retry: { max_attempts: 1 },
    });
    registerTestTemplates(engine);
    engine.startWorkers();
    app = createServer({ engine, logger: pino({ level: 'silent' }), ...options.server });
    options.setup?.(app);
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
    if (dir) await rm(dir, { recursive: true, force: true });
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

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  headers: Record<string, unknown>;
  body: T;
}

/** An in-process request; an object payload is sent as JSON. */
export async function call<T = Record<string, unknown>>(
  app: FastifyInstance,
  method: 'GET' | 'POST',
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiAnswer<T>> {
  const request: InjectOptions = { method, url, headers };
  if (payload !== undefined) {
    request.payload =
      typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) {
      request.headers = { 'content-type': 'application/json', ...headers };
    }
  }
  const response = await app.inject(request);
  return { status: response.statusCode, headers: response.headers, body: response.json<T>() };
}

export interface ErrorBody {
  error: { code: string; message: string; details?: { path?: string; message: string }[] };
}

/** Starts `template` and waits until the task ends. */
export async function runTask(
  app: FastifyInstance,
  template: string,
  input: unknown = {},
): Promise<TaskView> {
  const answer = await call<{ task: TaskView }>(app, 'POST', '/api/v1/tasks', {
    template,
    input,
    wait_ms: 10_000,
  });
  if (answer.status !== 201) throw new Error(`start failed: ${JSON.stringify(answer.body)}`);
  return answer.body.task;
}

export interface SseMessage {
  id: string | undefined;
  data: string;
}

/**
 * An open SSE response read message by message. `comments` collects comment lines (heartbeats);
 * `close()` aborts the request.
 */
export interface SseReader {
  readonly status: number;
  readonly headers: Headers;
  readonly comments: string[];
  /** The next message, or `undefined` when the stream ended. Rejects after `timeoutMs`. */
  next(timeoutMs?: number): Promise<SseMessage | undefined>;
  /** Reads until `predicate` holds for a message (inclusive); returns every message read. */
  until(predicate: (message: SseMessage) => boolean, timeoutMs?: number): Promise<SseMessage[]>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
  const abort = new AbortController();
  const response = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const comments: string[] = [];
  let buffer = '';
  let ended = false;

  const parse = (block: string): SseMessage | undefined => {
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) comments.push(line.slice(1).trim());
      else if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    return data.length > 0 ? { id, data: data.join('\n') } : undefined;
  };

  const next = async (timeoutMs = 5000): Promise<SseMessage | undefined> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let boundary: number;
      while ((boundary = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        const message = parse(block);
        if (message) return message;
      }
      if (ended) return undefined;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error('no SSE message in time');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), remaining);
      });
      const read = await Promise.race([reader.read(), timeout]).finally(() => clearTimeout(timer));
      if (read === 'timeout') throw new Error('no SSE message in time');
      if (read.done) ended = true;
      else buffer += read.value;
    }
  };

  return {
    status: response.status,
    headers: response.headers,
    comments,
    next,
    async until(predicate, timeoutMs = 5000) {
      const messages: SseMessage[] = [];
      for (;;) {
        const message = await next(timeoutMs);
        if (!message) throw new Error(`the stream ended after ${messages.length} messages`);
        messages.push(message);
        if (predicate(message)) return messages;
      }
    },
    close() {
      abort.abort();
      reader.cancel().catch(() => {});
    },
  };
}
