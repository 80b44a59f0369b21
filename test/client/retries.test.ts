import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AbortError,
  HttpStatusError,
  RetriesExhaustedError,
  type HttpClientOptions,
  type RetryEvent,
} from '../../src/client/index.ts';
import { clientFor as client, fastBackoff, serve, timed } from './servers.ts';

describe('which failures are retried', () => {
  for (const status of [408, 425, 429, 500, 502, 503, 504]) {
    test(`status ${status} is retried`, async (t) => {
      const server = await serve(t, [{ status }, { status: 200, body: 'fine' }]);
      const response = await client(t).get(`${server.origin}/x`);
      assert.equal(response.status, 200);
      assert.equal(response.text(), 'fine');
      assert.equal(response.attempts, 2);
      assert.equal(server.requests.length, 2);
    });
  }

  for (const status of [400, 401, 403, 404, 409, 422]) {
    test(`status ${status} is not retried and throws HttpStatusError`, async (t) => {
      const server = await serve(t, [{ status, body: 'nope' }, { status: 200 }]);
      const error = await client(t)
        .get(`${server.origin}/x`)
        .catch((e: unknown) => e);
      assert.ok(error instanceof HttpStatusError);
      assert.equal(error.status, status);
      assert.equal(error.retryable, false);
      assert.equal(error.bodyExcerpt, 'nope');
      assert.equal(server.requests.length, 1);
    });
  }

  test('retryOnStatus narrows what is retried', async (t) => {
    const server = await serve(t, [{ status: 503 }, { status: 200 }]);
    const error = await client(t)
      .get(server.origin, { retry: { retryOnStatus: [502] } })
      .catch((e: unknown) => e);
    assert.ok(error instanceof HttpStatusError);
    assert.equal(error.retryable, false);
    assert.equal(server.requests.length, 1);
  });

  test('exhausted retries throw RetriesExhaustedError with the last status and cause', async (t) => {
    const server = await serve(t, [{ status: 503, body: 'down' }]);
    const error = await client(t)
      .get(`${server.origin}/x`)
      .catch((e: unknown) => e);
    assert.ok(error instanceof RetriesExhaustedError);
    assert.equal(error.code, 'retries_exhausted');
    assert.equal(error.attempts, 3);
    assert.equal(error.status, 503);
    assert.equal(error.retryable, true);
    assert.ok(error.cause instanceof HttpStatusError);
    assert.equal(error.lastError, error.cause);
    assert.match(error.message, /gave up after 3 attempts, last: HTTP 503$/);
    assert.equal(server.requests.length, 3);
  });

  test('with maxAttempts 1 the failure itself is thrown, with its Retry-After', async (t) => {
    const server = await serve(t, [{ status: 429, headers: { 'retry-after': '7' } }]);
    const error = await client(t)
      .get(server.origin, { retry: { maxAttempts: 1 } })
      .catch((e: unknown) => e);
    assert.ok(error instanceof HttpStatusError);
    assert.equal(error.status, 429);
    assert.equal(error.retryable, true);
    assert.equal(error.retryAfterMs, 7000);
    assert.equal(server.requests.length, 1);
  });

  test('backoff follows the policy, with the injected random for jitter', async (t) => {
    const server = await serve(t, [{ status: 500 }, { status: 500 }, { status: 200 }]);
    const delays: number[] = [];
    const response = await client(t, {
      retry: { backoff: { base_ms: 20, factor: 2, max_ms: 1000, jitter: 0.5 } },
      random: () => 0, // the low end of the jitter: delay × 0.5
      hooks: { onRetry: (event) => delays.push(event.delayMs) },
    }).get(server.origin);
    assert.equal(response.attempts, 3);
    assert.deepEqual(delays, [10, 20]);
  });
});

describe('non-idempotent methods and idempotency keys', () => {
  test('POST without a key is not retried', async (t) => {
    const server = await serve(t, [{ status: 503 }, { status: 200 }]);
    const error = await client(t)
      .post(server.origin, { json: { a: 1 } })
      .catch((e: unknown) => e);
    assert.ok(error instanceof HttpStatusError);
    assert.equal(error.status, 503);
    assert.equal(server.requests.length, 1);
  });

  test('PATCH without a key is not retried', async (t) => {
    const server = await serve(t, [{ status: 502 }, { status: 200 }]);
    await assert.rejects(client(t).patch(server.origin, { body: 'x' }), HttpStatusError);
    assert.equal(server.requests.length, 1);
  });

  test('POST with idempotencyKey: true is retried with the same generated key', async (t) => {
    const server = await serve(t, [{ status: 503 }, { status: 500 }, { status: 201 }]);
    const response = await client(t).post(server.origin, { json: { a: 1 }, idempotencyKey: true });
    assert.equal(response.status, 201);
    assert.equal(response.attempts, 3);
    const keys = server.requests.map((r) => r.headers['idempotency-key']);
    assert.match(String(keys[0]), /^[0-9a-f-]{36}$/);
    assert.deepEqual(keys, [keys[0], keys[0], keys[0]]);
    assert.deepEqual(
      server.requests.map((r) => r.body),
      ['{"a":1}', '{"a":1}', '{"a":1}'],
    );
  });

  test('each call gets its own generated key', async (t) => {
    const server = await serve(t, [{ status: 200 }]);
    const http = client(t);
    await http.post(server.origin, { idempotencyKey: true });
    await http.post(server.origin, { idempotencyKey: true });
    assert.notEqual(
      server.requests[0]?.headers['idempotency-key'],
      server.requests[1]?.headers['idempotency-key'],
    );
  });

  test('a given key, under a configured header name, is sent on every attempt', async (t) => {
    const server = await serve(t, [{ status: 429 }, { status: 200 }]);
    await client(t, { idempotencyHeader: 'X-Request-Key' }).patch(server.origin, {
      body: 'x',
      idempotencyKey: 'order-42',
    });
    assert.deepEqual(
      server.requests.map((r) => r.headers['x-request-key']),
      ['order-42', 'order-42'],
    );
    assert.equal(server.requests[0]?.headers['idempotency-key'], undefined);
  });

  test('a key passed as a header also makes POST retryable', async (t) => {
    const server = await serve(t, [{ status: 503 }, { status: 200 }]);
    const response = await client(t).post(server.origin, { headers: { 'idempotency-key': 'k-1' } });
    assert.equal(response.attempts, 2);
    assert.deepEqual(
      server.requests.map((r) => r.headers['idempotency-key']),
      ['k-1', 'k-1'],
    );
  });
});

describe('Retry-After', () => {
  function recordRetries(): { events: RetryEvent[]; hooks: HttpClientOptions['hooks'] } {
    const events: RetryEvent[] = [];
    return { events, hooks: { onRetry: (event) => events.push(event) } };
  }

  test('in seconds, wins over the computed backoff, without jitter', async (t) => {
    const server = await serve(t, [{ status: 503, headers: { 'retry-after': '0' } }, { status: 200 }]);
    const { events, hooks } = recordRetries();
    const run = await timed(() =>
      client(t, {
        retry: { backoff: { base_ms: 10_000, factor: 2, max_ms: 10_000, jitter: 0.5 } },
        random: () => 1,
        hooks,
      }).get(server.origin),
    );
    assert.equal(run.error, undefined);
    assert.equal(events[0]?.delayMs, 0);
    assert.equal(events[0]?.retryAfterMs, 0);
    assert.ok(run.ms < 1000, `took ${run.ms} ms`);
  });

  test('in seconds, capped by maxRetryAfterMs', async (t) => {
    const server = await serve(t, [{ status: 429, headers: { 'retry-after': '30' } }, { status: 200 }]);
    const { events, hooks } = recordRetries();
    const run = await timed(() => client(t, { retry: { maxRetryAfterMs: 60 }, hooks }).get(server.origin));
    assert.equal(run.error, undefined);
    assert.equal(events[0]?.delayMs, 60);
    assert.equal(events[0]?.retryAfterMs, 30_000);
    assert.ok(run.ms >= 55 && run.ms < 1000, `took ${run.ms} ms`);
  });

  test('as an HTTP date, measured against the client clock', async (t) => {
    const date = new Date(Math.ceil(Date.now() / 1000) * 1000 + 60_000);
    const server = await serve(t, [
      { status: 503, headers: { 'retry-after': date.toUTCString() } },
      { status: 200 },
    ]);
    const { events, hooks } = recordRetries();
    const now = date.getTime() - 80; // the client believes the date is 80 ms away
    const run = await timed(() => client(t, { now: () => now, hooks }).get(server.origin));
    assert.equal(run.error, undefined);
    assert.equal(events[0]?.delayMs, 80);
    assert.ok(run.ms >= 75, `took ${run.ms} ms`);
  });

  test('as an HTTP date, capped too', async (t) => {
    const date = new Date(Date.now() + 3_600_000);
    const server = await serve(t, [
      { status: 503, headers: { 'retry-after': date.toUTCString() } },
      { status: 200 },
    ]);
    const { events, hooks } = recordRetries();
    await client(t, { retry: { maxRetryAfterMs: 25 }, hooks }).get(server.origin);
    assert.equal(events[0]?.delayMs, 25);
  });

  test('a wait past the total timeout gives up at once, keeping retryAfterMs', async (t) => {
    const server = await serve(t, [{ status: 503, headers: { 'retry-after': '120' } }]);
    const run = await timed(() => client(t, { timeouts: { totalMs: 2000 } }).get(server.origin));
    assert.ok(run.error instanceof RetriesExhaustedError);
    assert.equal(run.error.attempts, 1);
    assert.equal(run.error.status, 503);
    assert.equal(run.error.retryAfterMs, 120_000);
    assert.ok(run.ms < 1000, `took ${run.ms} ms`);
  });
});

describe('aborting', () => {
  test('an abort during a backoff sleep rejects at once with AbortError', async (t) => {
    const server = await serve(t, [{ status: 503 }]);
    const controller = new AbortController();
    const http = client(t, {
      retry: { backoff: fastBackoff(10_000) },
      hooks: { onRetry: () => setTimeout(() => controller.abort(new Error('user gave up')), 20) },
    });
    const run = await timed(() => http.get(server.origin, { signal: controller.signal }));
    assert.ok(run.error instanceof AbortError, String(run.error));
    assert.equal(run.error.code, 'aborted');
    assert.equal(run.error.retryable, false);
    assert.ok(run.ms < 1000, `took ${run.ms} ms`);
    assert.equal(server.requests.length, 1);
  });

  test('an already aborted signal sends nothing', async (t) => {
    const fresh = await serve(t, [{ status: 200 }]);
    const error = await client(t)
      .get(fresh.origin, { signal: AbortSignal.abort() })
      .catch((e: unknown) => e);
    assert.ok(error instanceof AbortError);
    assert.equal(fresh.requests.length, 0);
  });
});
