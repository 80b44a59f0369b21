import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import {
  AbortError,
  CircuitOpenError,
  ConnectError,
  HttpStatusError,
  type CircuitChangeEvent,
} from '../../src/client/index.ts';
import { clientFor as client, closedPort, serve } from './servers.ts';

const ONE_ATTEMPT = { retry: { maxAttempts: 1 } };

describe('circuit breaker per origin', () => {
  test('opens after consecutive failures, fails fast, then half-opens and closes on success', async (t) => {
    let healthy = false;
    const server = await serve(t, (_req, res) => {
      res.writeHead(healthy ? 200 : 503);
      res.end();
    });
    const changes: CircuitChangeEvent[] = [];
    const http = client(t, {
      circuit: { failureThreshold: 2, cooldownMs: 150 },
      hooks: { onCircuitChange: (event) => changes.push(event) },
    });

    for (let i = 0; i < 2; i++) await assert.rejects(http.get(server.origin, ONE_ATTEMPT), HttpStatusError);
    const open = await http.get(server.origin, ONE_ATTEMPT).catch((e: unknown) => e);
    assert.ok(open instanceof CircuitOpenError, String(open));
    assert.equal(open.code, 'circuit_open');
    assert.equal(open.retryable, true);
    assert.equal(open.origin, server.origin);
    assert.ok(open.retryAfterMs !== undefined && open.retryAfterMs > 0 && open.retryAfterMs <= 150);
    assert.equal(server.requests.length, 2, 'nothing reaches the server while open');

    healthy = true;
    await sleep(170);
    const probe = await http.get(server.origin, ONE_ATTEMPT);
    assert.equal(probe.status, 200);
    assert.equal((await http.get(server.origin, ONE_ATTEMPT)).status, 200);
    assert.deepEqual(
      changes.map((c) => `${c.from}->${c.to}`),
      ['closed->open', 'open->half_open', 'half_open->closed'],
    );
    assert.equal(changes[0]?.origin, server.origin);
  });

  test('a failed probe opens the circuit again', async (t) => {
    const server = await serve(t, [{ status: 500 }]);
    const changes: string[] = [];
    const http = client(t, {
      circuit: { failureThreshold: 1, cooldownMs: 60 },
      hooks: { onCircuitChange: (event) => changes.push(event.to) },
    });
    await assert.rejects(http.get(server.origin, ONE_ATTEMPT), HttpStatusError);
    await sleep(80);
    await assert.rejects(http.get(server.origin, ONE_ATTEMPT), HttpStatusError); // the probe
    await assert.rejects(http.get(server.origin, ONE_ATTEMPT), CircuitOpenError);
    assert.deepEqual(changes, ['open', 'half_open', 'open']);
    assert.equal(server.requests.length, 2);
  });

  test('a probe cut short by an abort proves nothing: the circuit opens again', async (t) => {
    const server = await serve(t, (_req, res, index) => {
      if (index === 0) res.writeHead(503).end(); // later requests are never answered
    });
    const http = client(t, { circuit: { failureThreshold: 1, cooldownMs: 30 } });
    await assert.rejects(http.get(server.origin, ONE_ATTEMPT), HttpStatusError);
    await sleep(50);
    await assert.rejects(
      http.get(server.origin, { ...ONE_ATTEMPT, signal: AbortSignal.timeout(30) }),
      AbortError,
    );
    await assert.rejects(http.get(server.origin, ONE_ATTEMPT), CircuitOpenError);
  });

  test('calls arriving while the probe runs fail fast instead of queueing', async (t) => {
    let release: () => void = () => {};
    const server = await serve(t, (_req, res, index) => {
      if (index === 0) {
        res.writeHead(503).end();
        return;
      }
      release = () => res.end('probe ok');
    });
    const http = client(t, { circuit: { failureThreshold: 1, cooldownMs: 30 } });
    await assert.rejects(http.get(server.origin, ONE_ATTEMPT), HttpStatusError);
    await sleep(50);
    const probe = http.get(server.origin, ONE_ATTEMPT);
    while (server.requests.length < 2) await sleep(5);
    const during = await http.get(server.origin, ONE_ATTEMPT).catch((e: unknown) => e);
    assert.ok(during instanceof CircuitOpenError, String(during));
    assert.equal(during.retryAfterMs, undefined);
    release();
    assert.equal((await probe).text(), 'probe ok');
  });

  test('connection failures open it too', async (t) => {
    const port = await closedPort();
    const http = client(t, { circuit: { failureThreshold: 2, cooldownMs: 10_000 } });
    const url = `http://127.0.0.1:${port}/`;
    await assert.rejects(http.get(url, ONE_ATTEMPT), ConnectError);
    await assert.rejects(http.get(url, ONE_ATTEMPT), ConnectError);
    await assert.rejects(http.get(url, ONE_ATTEMPT), CircuitOpenError);
  });

  test('client errors (4xx) and 429 do not open the circuit', async (t) => {
    const server = await serve(t, (_req, res, index) => {
      res.writeHead(index % 2 === 0 ? 404 : 429).end();
    });
    const http = client(t, { circuit: { failureThreshold: 2, cooldownMs: 10_000 } });
    for (let i = 0; i < 6; i++) await assert.rejects(http.get(server.origin, ONE_ATTEMPT), HttpStatusError);
    assert.equal(server.requests.length, 6);
  });

  test('retries stop when the circuit opens mid-call; the error keeps the last failure', async (t) => {
    const server = await serve(t, [{ status: 502 }]);
    const http = client(t, {
      circuit: { failureThreshold: 2, cooldownMs: 10_000 },
      retry: { maxAttempts: 5 },
    });
    const error = await http.get(server.origin).catch((e: unknown) => e);
    assert.ok(error instanceof CircuitOpenError, String(error));
    assert.ok(error.cause instanceof HttpStatusError);
    assert.equal(server.requests.length, 2);
  });

  test('origins have separate circuits, and circuit: false bypasses it per call', async (t) => {
    const failing = await serve(t, [{ status: 503 }]);
    const fine = await serve(t, [{ status: 200 }]);
    const http = client(t, { circuit: { failureThreshold: 1, cooldownMs: 10_000 } });
    await assert.rejects(http.get(failing.origin, ONE_ATTEMPT), HttpStatusError);
    await assert.rejects(http.get(failing.origin, ONE_ATTEMPT), CircuitOpenError);
    assert.equal((await http.get(fine.origin, ONE_ATTEMPT)).status, 200);
    await assert.rejects(http.get(failing.origin, { ...ONE_ATTEMPT, circuit: false }), HttpStatusError);
    assert.equal(failing.requests.length, 2);
  });

  test('circuit: false on the client disables it', async (t) => {
    const server = await serve(t, [{ status: 503 }]);
    const http = client(t, { circuit: false });
    for (let i = 0; i < 8; i++) await assert.rejects(http.get(server.origin, ONE_ATTEMPT), HttpStatusError);
    assert.equal(server.requests.length, 8);
  });
});
