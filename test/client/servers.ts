// Real local servers for the HTTP client tests: scripted responses, misbehaving sockets, and a
// listener that never accepts (for connect timeouts). Each one closes every socket it opened.
import http from 'node:http';
import net from 'node:net';
import { Worker } from 'node:worker_threads';
import type { TestContext } from 'node:test';
import {
  createHttpClient,
  type BackoffPolicy,
  type HttpClient,
  type HttpClientOptions,
} from '../../src/client/index.ts';

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type Handler = (req: SeenRequest, res: http.ServerResponse, index: number) => void;

export interface TestServer {
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  readonly requests: SeenRequest[];
  close(): Promise<void>;
}

/** A server that reads each request body, records the request, then calls `handler`. */
export async function startServer(handler: Handler): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      requests.push(seen);
      handler(seen, res, requests.length - 1);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Reply {
  status?: number;
  headers?: Record<string, string | string[]>;
  body?: string;
}

/** Answers the n-th request with `replies[n]` (the last one repeats); default 200 `ok`. */
export function scripted(replies: readonly Reply[]): Handler {
  return (_req, res, index) => {
    const reply = replies[Math.min(index, replies.length - 1)] ?? {};
    res.writeHead(reply.status ?? 200, reply.headers);
    res.end(reply.body ?? 'ok');
  };
}

/** A port nothing listens on (a listener was opened there and closed). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface Unresponsive {
  readonly origin: string;
  close(): Promise<void>;
}

// The listener lives in a worker whose event loop is blocked, so it never accepts: once its
// backlog is full the kernel drops further SYNs and a client's connect hangs. (Non-routable
// addresses are no use here: this sandbox answers them.)
const BLOCKED_LISTENER = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const server = net.createServer((socket) => socket.destroy());
server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  parentPort.postMessage(server.address().port);
  Atomics.wait(new Int32Array(workerData), 0, 0);
  server.close();
  parentPort.close();
});
`;

/** A listening port whose connects hang until `close()`: for connect timeouts. */
export async function startUnresponsive(): Promise<Unresponsive> {
  const flag = new SharedArrayBuffer(4);
  const worker = new Worker(BLOCKED_LISTENER, { eval: true, workerData: flag });
  const port = await new Promise<number>((resolve) => worker.once('message', resolve));
  const fillers: net.Socket[] = [];
  // Fill the backlog: connects complete until it is full, then hang.
  for (let i = 0; i < 16; i++) {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    fillers.push(socket);
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 100);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!connected) break;
  }
  return {
    origin: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of fillers) socket.destroy();
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      Atomics.store(new Int32Array(flag), 0, 1);
      Atomics.notify(new Int32Array(flag), 0);
      await exited;
    },
  };
}

/** Short, deterministic backoff for tests: `ms` every time, no jitter. */
export function fastBackoff(ms = 5): BackoffPolicy {
  return { base_ms: ms, factor: 1, max_ms: ms, jitter: 0 };
}

/** Milliseconds `fn` took, with its result or error. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; result?: T; error?: unknown }> {
  const started = performance.now();
  try {
    const result = await fn();
    return { ms: performance.now() - started, result };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

/** A scripted server closed when test `t` ends. */
export async function serve(t: TestContext, replies: readonly Reply[] | Handler): Promise<TestServer> {
  const server = await startServer(typeof replies === 'function' ? replies : scripted(replies));
  t.after(() => server.close());
  return server;
}

/**
 * A client closed when test `t` ends, with test defaults: a 5 ms backoff without jitter and no
 * circuit breaker (tests of those set their own).
 */
export function clientFor(t: TestContext, options: HttpClientOptions = {}): HttpClient {
  const client = createHttpClient({
    circuit: false,
    ...options,
    retry: { backoff: fastBackoff(), ...options.retry },
  });
  t.after(() => client.close());
  return client;
}
