// The operator health routes: /health/live, /health/ready (checks within a deadline, 503 naming the
// failing one), /health/status (checks, workers, queue, step errors, circuits) and their caching.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { fastify, type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { createEngine, type Engine } from '../../src/engine/index.ts';
import type { Manifest } from '../../src/protocol/index.ts';
import {
  healthPlugin,
  type HealthPluginOptions,
  type ReadyHealth,
  type StatusHealth,
} from '../../src/server/health.ts';
import { registerTestTemplates, serverFixture } from './helpers.ts';

/** Registers an engine (test templates, workers running) and a bare app with `healthPlugin` on it. */
function healthFixture(options: Partial<HealthPluginOptions> = {}): { engine: Engine; app: FastifyInstance } {
  let engine: Engine | undefined;
  let app: FastifyInstance | undefined;
  before(async () => {
    engine = await createEngine({
      store: 'sqlite::memory:',
      pollIntervalMs: 20,
      logger: pino({ level: 'silent' }),
      retry: { max_attempts: 2, backoff: { base_ms: 10 } },
      circuit: { failureThreshold: 1, cooldownMs: 60_000 },
      concurrency: 4,
    });
    registerTestTemplates(engine);
    engine.registerHandler({
      namespace: 'test',
      name: 'flaky',
      version: '1.0.0',
      handler: () => {
        throw new Error('upstream said no');
      },
    });
    engine.registerTemplate({
      namespace: 'test',
      name: 'flaky',
      version: '1.0.0',
      steps: [{ name: 'flaky', handler: 'test/flaky' }],
    });
    engine.startWorkers();
    app = fastify();
    const manifest = () => ({ version: '1.2.3' }) as Manifest;
    await app.register(healthPlugin, { manifest, engine, ...options });
    await app.ready();
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
  };
}

async function until(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe('health routes of createServer', () => {
  const server = serverFixture();

  test('/health/live answers ok', async () => {
    const response = await server.app.inject({ url: '/health/live' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { status: 'ok' });
    assert.equal(response.headers['asap-version'], '2.2');
  });

  test('/health/ready checks the store; Redis is disabled', async () => {
    const response = await server.app.inject({ url: '/health/ready' });
    assert.equal(response.statusCode, 200);
    const body = response.json<ReadyHealth>();
    assert.equal(body.status, 'ok');
    assert.equal(body.checks.store?.status, 'ok');
    assert.equal(typeof (body.checks.store as { latency_ms: number }).latency_ms, 'number');
    assert.deepEqual(body.checks.redis, { status: 'disabled' });
  });

  test('/health/status reports the engine', async () => {
    const response = await server.app.inject({ url: '/health/status' });
    assert.equal(response.statusCode, 200);
    const body = response.json<StatusHealth>();
    assert.equal(body.status, 'ok');
    assert.equal(body.version, server.app.asap.manifest().version);
    assert.deepEqual(body.workers, { running: true, concurrency: 16, active: 0 });
    assert.equal(body.queue?.dead_letters, 0);
  });

  test('the ASAP paths are still served', async () => {
    for (const url of ['/health', '/ready', '/.well-known/asap/health']) {
      assert.equal((await server.app.inject({ url })).statusCode, 200, url);
    }
  });
});

describe('/health/ready with a failing check', () => {
  const server = healthFixture({
    deadlineMs: 50,
    cacheTtlMs: 0,
    checks: {
      redis: () =>
        Promise.reject(new Error('connect ECONNREFUSED redis://user:hunter2@cache:6379\n  at stack')),
    },
  });

  test('answers 503 naming the failing check, without secrets or stack', async () => {
    const response = await server.app.inject({ url: '/health/ready' });
    assert.equal(response.statusCode, 503);
    const body = response.json<ReadyHealth>();
    assert.equal(body.status, 'unavailable');
    assert.equal(body.checks.store?.status, 'ok');
    assert.equal(body.checks.redis?.status, 'failing');
    const { error } = body.checks.redis as { error: string };
    assert.equal(error, 'connect ECONNREFUSED redis://***@cache:6379');
  });

  test('/health/status is unavailable too, and live stays up', async () => {
    const status = await server.app.inject({ url: '/health/status' });
    assert.equal(status.statusCode, 503);
    assert.equal(status.json<StatusHealth>().status, 'unavailable');
    assert.equal((await server.app.inject({ url: '/health/live' })).statusCode, 200);
  });
});

describe('/health/ready with a store that hangs', () => {
  const server = healthFixture({
    deadlineMs: 50,
    cacheTtlMs: 0,
    checks: { store: (signal) => new Promise((resolve) => signal.addEventListener('abort', resolve)) },
  });

  test('fails the store check at the deadline', async () => {
    const started = Date.now();
    const response = await server.app.inject({ url: '/health/ready' });
    assert.ok(Date.now() - started < 1000);
    assert.equal(response.statusCode, 503);
    const { checks } = response.json<ReadyHealth>();
    assert.equal(checks.store?.status, 'failing');
    assert.equal((checks.store as { error: string }).error, 'timed out after 50 ms');
  });
});

describe('/health/ready caching', () => {
  let pings = 0;
  const server = healthFixture({
    cacheTtlMs: 60_000,
    checks: {
      store: async () => {
        pings += 1;
        await sleep(20);
      },
    },
  });

  test('50 concurrent calls ping the store once, later calls reuse the result', async () => {
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => server.app.inject({ url: '/health/ready' })),
    );
    assert.ok(responses.every((response) => response.statusCode === 200));
    assert.equal(pings, 1);
    await server.app.inject({ url: '/health/ready' });
    await server.app.inject({ url: '/health/status' });
    assert.equal(pings, 1);
  });
});

describe('/health/status after failures', () => {
  const server = healthFixture({ cacheTtlMs: 0 });

  test('counts step failures and retries, lists the open circuit', async () => {
    const { engine, app } = server;
    const failed = (await engine.startTask({ template: 'test.fail' })).task.id;
    const flaky = (await engine.startTask({ template: 'test.flaky' })).task.id;
    await until(async () => (await engine.getTask(failed)).status === 'failed');
    await until(() => Promise.resolve(engine.circuitState('test/flaky@1.0.0') === 'open'));

    const response = await app.inject({ url: '/health/status' });
    assert.equal(response.statusCode, 200);
    const body = response.json<StatusHealth>();
    assert.equal(body.status, 'degraded');
    assert.equal(body.version, '1.2.3');
    assert.equal(typeof body.uptime_seconds, 'number');
    assert.deepEqual(body.checks.redis, { status: 'disabled' });
    assert.deepEqual(body.workers, { running: true, concurrency: 4, active: 0 });
    assert.deepEqual(body.errors, {
      window_seconds: 300,
      step_failures: 1,
      step_retries: 1,
      rate_per_minute: 0.4,
    });
    assert.deepEqual(body.circuits, { open: ['test/flaky@1.0.0'], half_open: [] });
    assert.equal(body.queue?.ready, 1, 'the flaky retry waits behind its open circuit');
    assert.equal(body.queue?.dead_letters, 1);
    assert.equal(body.queue?.tasks.failed, 1);
    assert.ok((await engine.getTask(flaky)).status !== 'failed');
  });
});
