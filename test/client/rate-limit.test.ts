import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AbortError, RateLimitedError } from '../../src/client/index.ts';
import { TokenBucket } from '../../src/client/rate-limit.ts';
import { clientFor as client, serve, timed } from './servers.ts';

describe('client-side rate limit (token bucket per origin)', () => {
  test('requests wait for tokens instead of failing', async (t) => {
    const server = await serve(t, [{ status: 200 }]);
    const http = client(t, { rateLimit: { requestsPerSecond: 20, burst: 1 } });
    const run = await timed(() => Promise.all(Array.from({ length: 5 }, () => http.get(server.origin))));
    assert.equal(run.error, undefined);
    // One token at once, then one every 50 ms: about 200 ms for five.
    assert.ok(run.ms >= 180 && run.ms < 1500, `took ${run.ms} ms`);
    assert.equal(server.requests.length, 5);
  });

  test('a burst goes at once', async (t) => {
    const server = await serve(t, [{ status: 200 }]);
    const http = client(t, { rateLimit: { requestsPerSecond: 2, burst: 4 } });
    const run = await timed(() => Promise.all(Array.from({ length: 4 }, () => http.get(server.origin))));
    assert.ok(run.ms < 1000, `took ${run.ms} ms (one at a time would take 1.5 s)`);
  });

  test('a wait longer than maxWaitMs fails with RateLimitedError, and sends nothing', async (t) => {
    const server = await serve(t, [{ status: 200 }]);
    const http = client(t, { rateLimit: { requestsPerSecond: 1, burst: 1, maxWaitMs: 100 } });
    await http.get(server.origin);
    const error = await http.get(server.origin).catch((e: unknown) => e);
    assert.ok(error instanceof RateLimitedError, String(error));
    assert.equal(error.code, 'rate_limited');
    assert.equal(error.retryable, true);
    assert.ok(error.retryAfterMs > 800 && error.retryAfterMs <= 1000, String(error.retryAfterMs));
    assert.equal(server.requests.length, 1);
    // A call may allow itself a longer wait, or skip the limit.
    await http.get(server.origin, { rateLimit: false });
    assert.equal(server.requests.length, 2);
  });

  test('an abort while waiting for a token rejects at once', async (t) => {
    const server = await serve(t, [{ status: 200 }]);
    const http = client(t, { rateLimit: { requestsPerSecond: 2, burst: 1 } });
    await http.get(server.origin);
    const run = await timed(() => http.get(server.origin, { signal: AbortSignal.timeout(30) }));
    assert.ok(run.error instanceof AbortError, String(run.error));
    assert.ok(run.ms < 400, `took ${run.ms} ms, the token was 500 ms away`);
    assert.equal(server.requests.length, 1);
  });
});

describe('TokenBucket', () => {
  function bucket(rate: number, burst: number): { bucket: TokenBucket; advance: (ms: number) => void } {
    let now = 1000;
    return { bucket: new TokenBucket(rate, burst, () => now), advance: (ms) => void (now += ms) };
  }

  test('starts full, refills at the rate, never above the burst', () => {
    const { bucket: b, advance } = bucket(10, 2);
    assert.equal(b.waitMs(), 0);
    b.take();
    b.take();
    assert.equal(b.waitMs(), 100);
    advance(1000);
    b.take();
    b.take();
    assert.equal(b.waitMs(), 100, 'a long pause refills only up to the burst');
  });

  test('reservations queue up: each waiter waits one interval more', () => {
    const { bucket: b } = bucket(10, 1);
    b.take();
    assert.equal(b.waitMs(), 100);
    b.take();
    assert.equal(b.waitMs(), 200);
  });

  test('a token given back shortens the next wait', () => {
    const { bucket: b, advance } = bucket(10, 1);
    b.take();
    b.take(); // reserved, due in 100 ms
    advance(30);
    b.giveBack(); // that caller gave up
    assert.equal(Math.round(b.waitMs()), 70);
  });
});
