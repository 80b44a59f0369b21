import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  createHttpClient,
  HttpStatusError,
  isRetryable,
  parseRetryAfter,
  ResponseTooLargeError,
  RetriesExhaustedError,
} from '../../src/client/index.ts';
import { isBatonError } from '../../src/util/errors.ts';
import { clientFor as client, serve } from './servers.ts';

describe('requests and responses', () => {
  test('a JSON response: status, headers, data(), json(), text()', async (t) => {
    const server = await serve(t, [
      {
        status: 201,
        headers: { 'content-type': 'application/json; charset=utf-8', 'x-two': ['a', 'b'] },
        body: '{"id":7}',
      },
    ]);
    const response = await client(t).get(server.origin);
    assert.equal(response.status, 201);
    assert.equal(response.ok, true);
    assert.equal(response.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(response.header('X-Two'), 'a, b');
    assert.deepEqual(response.data(), { id: 7 });
    assert.deepEqual(response.json(), { id: 7 });
    assert.equal(response.text(), '{"id":7}');
    assert.equal(response.attempts, 1);
    assert.ok(response.durationMs >= 0);
  });

  test('data(): text for other types, +json types parsed, null when empty', async (t) => {
    const server = await serve(t, [
      { headers: { 'content-type': 'text/plain' }, body: '{"not":"parsed"}' },
      { headers: { 'content-type': 'application/problem+json' }, body: '{"title":"x"}' },
      { status: 204, body: '' },
    ]);
    const http = client(t);
    assert.equal((await http.get(server.origin)).data(), '{"not":"parsed"}');
    assert.deepEqual((await http.get(server.origin)).data(), { title: 'x' });
    assert.equal((await http.get(server.origin)).data(), null);
  });

  test('json and body are sent, with a content type unless given', async (t) => {
    const server = await serve(t, [{ status: 200 }]);
    const http = client(t);
    await http.post(server.origin, { json: { a: [1, 2] } });
    await http.put(server.origin, { json: 'x', headers: { 'Content-Type': 'application/vnd.x+json' } });
    await http.request({ method: 'post', url: server.origin, body: Buffer.from('raw') });
    const [a, b, c] = server.requests;
    assert.equal(a?.body, '{"a":[1,2]}');
    assert.equal(a?.headers['content-type'], 'application/json');
    assert.equal(b?.headers['content-type'], 'application/vnd.x+json');
    assert.equal(c?.method, 'POST');
    assert.equal(c?.body, 'raw');
  });

  test('baseUrl, default headers (a call overrides them, names without case)', async (t) => {
    const server = await serve(t, [{ status: 200 }]);
    const http = client(t, {
      baseUrl: `${server.origin}/api/`,
      headers: { 'User-Agent': 'baton-test', 'X-Tenant': 'default' },
    });
    await http.get('users/1?full=true', { headers: { 'x-tenant': 'acme' } });
    await http.get('/health');
    await http.get(`${server.origin}/absolute`);
    assert.deepEqual(
      server.requests.map((r) => r.url),
      ['/api/users/1?full=true', '/api/health', '/absolute'],
    );
    assert.equal(server.requests[0]?.headers['x-tenant'], 'acme');
    assert.equal(server.requests[0]?.headers['user-agent'], 'baton-test');
    assert.equal(server.requests[1]?.headers['x-tenant'], 'default');
  });

  test('URLs outside the fast path still work (fragment, space, upper-case host)', async (t) => {
    const server = await serve(t, [{ status: 200 }]);
    const origin = server.origin.replace('http://', 'HTTP://');
    await client(t).get(`${origin}/a b?q=1#fragment`);
    assert.equal(server.requests[0]?.url, '/a%20b?q=1');
  });

  test('an invalid URL or protocol is a TypeError', async (t) => {
    const http = client(t);
    await assert.rejects(http.get('not a url'), TypeError);
    await assert.rejects(http.get('ftp://example.com/x'), /unsupported URL protocol/);
  });

  test('HEAD and DELETE', async (t) => {
    const server = await serve(t, [{ status: 200, body: 'ignored for HEAD' }]);
    const http = client(t);
    assert.equal((await http.head(server.origin)).body.length, 0);
    await http.delete(server.origin);
    assert.deepEqual(
      server.requests.map((r) => r.method),
      ['HEAD', 'DELETE'],
    );
  });
});

describe('throwHttpErrors: false', () => {
  test('a 4xx is returned, not thrown', async (t) => {
    const server = await serve(t, [{ status: 404, body: 'missing' }]);
    const response = await client(t).get(server.origin, { throwHttpErrors: false });
    assert.equal(response.status, 404);
    assert.equal(response.ok, false);
    assert.equal(response.text(), 'missing');
  });

  test('retryable statuses are still retried; the last response is returned', async (t) => {
    const server = await serve(t, [{ status: 503, body: 'still down' }]);
    const response = await client(t, { throwHttpErrors: false }).get(server.origin);
    assert.equal(response.status, 503);
    assert.equal(response.attempts, 3);
    assert.equal(response.text(), 'still down');
  });
});

describe('limits and lifecycle', () => {
  test('a body over maxResponseBytes fails with ResponseTooLargeError', async (t) => {
    const server = await serve(t, (_req, res, index) => {
      if (index === 0)
        res.end('x'.repeat(2000)); // declared length
      else {
        res.writeHead(200); // chunked: only counted while reading
        res.write('y'.repeat(600));
        res.end('y'.repeat(600));
      }
    });
    const http = client(t, { maxResponseBytes: 1000 });
    for (let i = 0; i < 2; i++) {
      const error = await http.get(server.origin).catch((e: unknown) => e);
      assert.ok(error instanceof ResponseTooLargeError, String(error));
      assert.equal(error.code, 'payload_too_large');
      assert.equal(error.retryable, false);
    }
  });

  test('HEAD is not limited by the content-length it announces', async (t) => {
    const server = await serve(t, (_req, res) => {
      res.writeHead(200, { 'content-length': '5000' });
      res.end();
    });
    const response = await client(t, { maxResponseBytes: 1000 }).head(server.origin);
    assert.equal(response.status, 200);
  });

  test('a closed client rejects new requests; close is idempotent', async () => {
    const http = createHttpClient();
    await http.close();
    await http.close();
    await assert.rejects(http.get('http://127.0.0.1:1/'), { code: 'shutting_down' });
  });

  test('await using closes the client', async (t) => {
    const server = await serve(t, [{ status: 200 }]);
    {
      await using http = createHttpClient();
      await http.get(server.origin);
    }
  });

  test('invalid options are rejected with a message naming the option', () => {
    assert.throws(() => createHttpClient({ retry: { maxAttempts: 0 } }), /retry\.maxAttempts should be/);
    assert.throws(() => createHttpClient({ timeouts: { totalMs: -1 } }), /timeouts\.totalMs should be/);
    assert.throws(() => createHttpClient({ maxConnections: 0 }), /maxConnections should be/);
    assert.throws(() => createHttpClient({ circuit: { failureThreshold: 0 } }), /circuit\.failureThreshold/);
    assert.throws(() => createHttpClient({ rateLimit: { requestsPerSecond: 0 } }), /requestsPerSecond/);
    assert.throws(
      () => createHttpClient({ retry: { backoff: { jitter: 2 } } }),
      /retry\.backoff\.jitter should be within/,
    );
  });
});

describe('error helpers', () => {
  test('isRetryable reads the retryable field; errors are Baton errors with stable codes', async (t) => {
    const server = await serve(t, [{ status: 503 }, { status: 400 }]);
    const http = client(t, { retry: { maxAttempts: 1 } });
    const retryable = await http.get(server.origin).catch((e: unknown) => e);
    const permanent = await http.get(server.origin).catch((e: unknown) => e);
    assert.ok(retryable instanceof HttpStatusError && permanent instanceof HttpStatusError);
    assert.equal(isRetryable(retryable), true);
    assert.equal(isRetryable(permanent), false);
    assert.equal(isRetryable(new Error('plain')), false);
    assert.equal(isRetryable({ retryable: true }), true);
    assert.equal(isBatonError(retryable), true);
    assert.equal(retryable.code, 'http_status');
    assert.equal(retryable.name, 'HttpStatusError');
  });

  test('RetriesExhaustedError is retryable exactly when its last failure was', async (t) => {
    const server = await serve(t, [{ status: 502 }]);
    const error = await client(t)
      .get(server.origin)
      .catch((e: unknown) => e);
    assert.ok(error instanceof RetriesExhaustedError);
    assert.equal(isRetryable(error), true);
  });

  test('parseRetryAfter reads seconds and HTTP dates', () => {
    const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter(' 0 ', now), 0);
    assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', now), 0);
    assert.equal(parseRetryAfter(['5', '9'], now), 5000);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter('-5', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });
});
