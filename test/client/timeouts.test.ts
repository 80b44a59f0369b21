import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ConnectError,
  RetriesExhaustedError,
  TimeoutError,
  type TimeoutPhase,
} from '../../src/client/index.ts';
import { clientFor as client, closedPort, fastBackoff, serve, startUnresponsive, timed } from './servers.ts';

function assertTimeout(error: unknown, phase: TimeoutPhase, timeoutMs: number): void {
  assert.ok(error instanceof TimeoutError, `expected a TimeoutError, got ${String(error)}`);
  assert.equal(error.phase, phase);
  assert.equal(error.timeoutMs, timeoutMs);
  assert.equal(error.code, 'timeout');
  assert.equal(error.retryable, true);
}

describe('timeouts, each phase', () => {
  test('connect: a listener that never accepts', async (t) => {
    const unresponsive = await startUnresponsive();
    t.after(() => unresponsive.close());
    const run = await timed(() =>
      client(t).get(unresponsive.origin, { timeouts: { connectMs: 100 }, retry: { maxAttempts: 1 } }),
    );
    assertTimeout(run.error, 'connect', 100);
    assert.ok(run.ms >= 90 && run.ms < 2000, `took ${run.ms} ms`);
  });

  test('connect timeouts are retried', async (t) => {
    const unresponsive = await startUnresponsive();
    t.after(() => unresponsive.close());
    const error = await client(t, { timeouts: { connectMs: 50 }, retry: { maxAttempts: 2 } })
      .get(unresponsive.origin)
      .catch((e: unknown) => e);
    assert.ok(error instanceof RetriesExhaustedError);
    assert.equal(error.attempts, 2);
    assertTimeout(error.cause, 'connect', 50);
  });

  test('headers: the server never answers', async (t) => {
    const server = await serve(t, () => {}); // holds every request
    const run = await timed(() =>
      client(t).get(server.origin, { timeouts: { headersMs: 100 }, retry: { maxAttempts: 1 } }),
    );
    assertTimeout(run.error, 'headers', 100);
    assert.ok(run.ms >= 90 && run.ms < 2000, `took ${run.ms} ms`);
  });

  test('body: the body stalls half-way', async (t) => {
    const server = await serve(t, (_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('only part of it');
    });
    const run = await timed(() =>
      client(t).get(server.origin, { timeouts: { bodyMs: 100 }, retry: { maxAttempts: 1 } }),
    );
    assertTimeout(run.error, 'body', 100);
    assert.ok(run.ms >= 90 && run.ms < 2000, `took ${run.ms} ms`);
  });

  test('body timeouts are retried; a later complete answer wins', async (t) => {
    const server = await serve(t, (_req, res, index) => {
      res.writeHead(200, { 'content-length': '4' });
      if (index === 0) res.write('pa');
      else res.end('done');
    });
    const response = await client(t).get(server.origin, { timeouts: { bodyMs: 60 } });
    assert.equal(response.text(), 'done');
    assert.equal(response.attempts, 2);
  });

  test('total: one slow answer, within the headers timeout', async (t) => {
    const server = await serve(t, (_req, res) => {
      setTimeout(() => res.end('late'), 400).unref();
    });
    const run = await timed(() =>
      client(t).get(server.origin, { timeouts: { headersMs: 5000, totalMs: 100 } }),
    );
    assertTimeout(run.error, 'total', 100);
    assert.ok(run.ms >= 90 && run.ms < 1000, `took ${run.ms} ms`);
  });

  test('total: covers the attempts and the sleeps between them', async (t) => {
    const server = await serve(t, [{ status: 503 }]);
    const run = await timed(() =>
      client(t, { retry: { maxAttempts: 50, backoff: fastBackoff(30) } }).get(server.origin, {
        timeouts: { totalMs: 150 },
      }),
    );
    // Either the timer fires mid-attempt, or the next sleep would not fit and the client stops.
    assert.ok(
      run.error instanceof RetriesExhaustedError || run.error instanceof TimeoutError,
      String(run.error),
    );
    assert.ok(run.ms >= 100 && run.ms < 1000, `took ${run.ms} ms`);
    assert.ok(server.requests.length >= 2, `${server.requests.length} requests`);
  });

  test('a timeout of 0 disables it', async (t) => {
    const server = await serve(t, (_req, res) => {
      setTimeout(() => res.end('slow but fine'), 50).unref();
    });
    const response = await client(t).get(server.origin, { timeouts: { totalMs: 0, headersMs: 0 } });
    assert.equal(response.text(), 'slow but fine');
  });
});

describe('connection failures', () => {
  test('connection refused is a retryable ConnectError', async (t) => {
    const port = await closedPort();
    const error = await client(t)
      .get(`http://127.0.0.1:${port}/x`, { retry: { maxAttempts: 1 } })
      .catch((e: unknown) => e);
    assert.ok(error instanceof ConnectError, String(error));
    assert.equal(error.networkCode, 'ECONNREFUSED');
    assert.equal(error.code, 'connect_failed');
    assert.equal(error.retryable, true);
  });

  test('connection refused is retried up to maxAttempts', async (t) => {
    const port = await closedPort();
    const error = await client(t, { retry: { maxAttempts: 3 } })
      .get(`http://127.0.0.1:${port}/x`)
      .catch((e: unknown) => e);
    assert.ok(error instanceof RetriesExhaustedError);
    assert.equal(error.attempts, 3);
    assert.equal(error.status, undefined);
    assert.ok(error.cause instanceof ConnectError);
  });

  test('a reset connection is a retryable ConnectError', async (t) => {
    const server = await serve(t, (_req, res) => res.socket?.destroy());
    const error = await client(t)
      .get(server.origin, { retry: { maxAttempts: 1 } })
      .catch((e: unknown) => e);
    assert.ok(error instanceof ConnectError, String(error));
    assert.match(error.networkCode, /^(UND_ERR_SOCKET|ECONNRESET)$/);
    assert.equal(error.retryable, true);
  });

  test('a reset connection is retried', async (t) => {
    const server = await serve(t, (_req, res, index) => {
      if (index === 0) res.socket?.destroy();
      else res.end('second time lucky');
    });
    const response = await client(t).get(server.origin);
    assert.equal(response.text(), 'second time lucky');
    assert.equal(response.attempts, 2);
  });
});
