import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { Counter, Registry } from 'prom-client';
import {
  createHttpClient,
  type AttemptErrorEvent,
  type RequestEvent,
  type ResponseEvent,
  type RetryEvent,
} from '../../src/client/index.ts';
import { clientFor as client, closedPort, serve } from './servers.ts';

/** `{ labels → value }` of one metric, read from the registry as Prometheus would. */
async function values(registry: Registry, name: string): Promise<Record<string, number>> {
  const metric = registry.getSingleMetric(name);
  assert.ok(metric, `${name} is registered`);
  const out: Record<string, number> = {};
  for (const entry of (await metric.get()).values) {
    const { labels, value } = entry;
    const metricName = (entry as { metricName?: string }).metricName ?? name;
    const key = [metricName, ...Object.entries(labels).map(([k, v]) => `${k}=${String(v)}`)].join(' ');
    out[key] = value;
  }
  return out;
}

describe('hooks', () => {
  test('report each attempt, response and retry', async (t) => {
    const server = await serve(t, [{ status: 503, headers: { 'retry-after': '0' } }, { status: 200 }]);
    const requests: RequestEvent[] = [];
    const responses: ResponseEvent[] = [];
    const retries: RetryEvent[] = [];
    await client(t, {
      hooks: {
        onRequest: (e) => requests.push(e),
        onResponse: (e) => responses.push(e),
        onRetry: (e) => retries.push(e),
      },
    }).post(`${server.origin}/pay`, { idempotencyKey: 'k1', correlationId: 'c1' });

    assert.deepEqual(
      requests.map((e) => [e.method, e.url, e.attempt, e.correlationId]),
      [
        ['POST', `${server.origin}/pay`, 1, 'c1'],
        ['POST', `${server.origin}/pay`, 2, 'c1'],
      ],
    );
    assert.equal(requests[0]?.headers['Idempotency-Key'], 'k1');
    assert.deepEqual(
      responses.map((e) => [e.attempt, e.status]),
      [
        [1, 503],
        [2, 200],
      ],
    );
    assert.ok(responses.every((e) => e.durationMs >= 0));
    assert.equal(retries.length, 1);
    assert.deepEqual(
      [retries[0]?.attempt, retries[0]?.delayMs, retries[0]?.reason, retries[0]?.retryAfterMs],
      [1, 0, '503', 0],
    );
  });

  test('onError reports failures without a response', async (t) => {
    const port = await closedPort();
    const errors: AttemptErrorEvent[] = [];
    await assert.rejects(
      client(t, { hooks: { onError: (e) => errors.push(e) } }).get(`http://127.0.0.1:${port}/`, {
        retry: { maxAttempts: 2 },
      }),
    );
    assert.deepEqual(
      errors.map((e) => [e.attempt, e.reason, e.error.code]),
      [
        [1, 'connect_error', 'connect_failed'],
        [2, 'connect_error', 'connect_failed'],
      ],
    );
  });

  test('a hook that throws or rejects does not break the request', async (t) => {
    const server = await serve(t, [{ status: 500 }, { status: 200, body: 'fine' }]);
    const boom = (): never => {
      throw new Error('hook bug');
    };
    const response = await client(t, {
      circuit: { failureThreshold: 1, cooldownMs: 1 },
      hooks: {
        onRequest: boom,
        onResponse: () => Promise.reject(new Error('async hook bug')),
        onRetry: boom,
        onError: boom,
        onCircuitChange: boom,
      },
      retry: { backoff: { base_ms: 20, factor: 1, max_ms: 20, jitter: 0 } },
    }).get(server.origin);
    assert.equal(response.text(), 'fine');
    await sleep(5); // let the rejected hook promise settle: it must not surface as unhandled
  });
});

describe('Prometheus metrics', () => {
  test('requests by status, durations, retries and circuit state, by target', async (t) => {
    const server = await serve(t, [{ status: 503 }, { status: 502 }, { status: 200 }]);
    const registry = new Registry();
    const http = client(t, { metrics: registry, circuit: { failureThreshold: 5, cooldownMs: 1000 } });
    await http.get(server.origin);
    const target = server.origin;

    assert.deepEqual(await values(registry, 'baton_http_client_requests_total'), {
      [`baton_http_client_requests_total target=${target} status=503`]: 1,
      [`baton_http_client_requests_total target=${target} status=502`]: 1,
      [`baton_http_client_requests_total target=${target} status=200`]: 1,
    });
    assert.deepEqual(await values(registry, 'baton_http_client_retries_total'), {
      [`baton_http_client_retries_total target=${target}`]: 2,
    });
    assert.deepEqual(await values(registry, 'baton_http_client_circuit_state'), {
      [`baton_http_client_circuit_state target=${target}`]: 0,
    });
    const duration = await values(registry, 'baton_http_client_request_duration_seconds');
    assert.equal(duration[`baton_http_client_request_duration_seconds_count target=${target}`], 3);
    assert.equal(duration[`baton_http_client_request_duration_seconds_bucket le=+Inf target=${target}`], 3);

    // The text a scrape gets, and a reset.
    const text = await registry.metrics();
    assert.ok(text.includes(`baton_http_client_requests_total{target="${target}",status="200"} 1`), text);
    assert.ok(text.includes(`baton_http_client_request_duration_seconds_count{target="${target}"} 3`), text);
    assert.match(text, /baton_http_client_request_duration_seconds_bucket\{le="\+Inf",target="[^"]+"\} 3/);
    assert.match(text, /# TYPE baton_http_client_request_duration_seconds histogram/);
    registry.resetMetrics();
    assert.deepEqual(await values(registry, 'baton_http_client_requests_total'), {});
  });

  test('error kinds and circuit state are recorded', async (t) => {
    const holding = await serve(t, (_req, res, index) => {
      if (index === 0) res.writeHead(500).end();
    });
    const registry = new Registry();
    const http = client(t, { metrics: registry, circuit: { failureThreshold: 2, cooldownMs: 10_000 } });
    const once = { retry: { maxAttempts: 1 }, timeouts: { headersMs: 30 } };
    await assert.rejects(http.get(holding.origin, once));
    await assert.rejects(http.get(holding.origin, once));
    await assert.rejects(http.get(holding.origin, once));
    const target = holding.origin;
    assert.deepEqual(await values(registry, 'baton_http_client_requests_total'), {
      [`baton_http_client_requests_total target=${target} status=500`]: 1,
      [`baton_http_client_requests_total target=${target} status=timeout_headers`]: 1,
      [`baton_http_client_requests_total target=${target} status=circuit_open`]: 1,
    });
    assert.deepEqual(await values(registry, 'baton_http_client_circuit_state'), {
      [`baton_http_client_circuit_state target=${target}`]: 2,
    });
  });

  test('clients sharing a registry share the metrics', async (t) => {
    const server = await serve(t, [{ status: 200 }]);
    const registry = new Registry();
    await client(t, { metrics: registry }).get(server.origin);
    await client(t, { metrics: registry }).get(server.origin);
    assert.deepEqual(await values(registry, 'baton_http_client_requests_total'), {
      [`baton_http_client_requests_total target=${server.origin} status=200`]: 2,
    });
  });

  test('a metric name taken by another type is an error that says so', () => {
    const registry = new Registry();
    new Counter({ name: 'baton_http_client_circuit_state', help: 'x', registers: [registry] });
    assert.throws(() => createHttpClient({ metrics: registry }), /already registered/);
  });
});
