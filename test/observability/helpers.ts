/** A server on an in-memory engine whose metrics the observability tests scrape. */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import {
  createEngine,
  PermanentError,
  RetryableError,
  type Engine,
  type EngineOptions,
} from '../../src/engine/index.ts';
import { createServer } from '../../src/server/index.ts';

export interface MetricsFixture {
  readonly engine: Engine;
  readonly app: FastifyInstance;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Moves the server's clock (the store counts are reused for a second of it). */
  advance(ms: number): void;
  /** `GET /metrics`, with the clock moved on so that the store's counts are read afresh. */
  scrape(): Promise<string>;
}

/**
 * Registers before/after hooks in the calling `describe`: an engine (workers running unless
 * `workers: false`) with the `m.*` templates, and a listening server on it.
 */
export function metricsFixture(
  options: { workers?: boolean; engine?: Partial<EngineOptions> } = {},
): MetricsFixture {
  let engine: Engine | undefined;
  let app: FastifyInstance | undefined;
  let url = '';
  let clock = Date.now();
  before(async () => {
    engine = await createEngine({
      store: 'sqlite::memory:',
      pollIntervalMs: 20,
      logger: pino({ level: 'silent' }),
      retry: { max_attempts: 3, backoff: { base_ms: 5, factor: 1, jitter: 0 } },
      ...options.engine,
    });
    registerMetricsTemplates(engine);
    if (options.workers !== false) engine.startWorkers();
    app = createServer({ engine, logger: pino({ level: 'silent' }), now: () => clock });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
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
    advance(ms: number) {
      clock += ms;
    },
    async scrape() {
      clock += 5_000;
      const response = await app!.inject({ method: 'GET', url: '/metrics' });
      assert.equal(response.statusCode, 200);
      return response.body;
    },
  };
}

/**
 * Handlers `m/ok`, `m/flaky` (fails its first attempt, retryably), `m/broken` (fails for good);
 * templates `m.flow` (`ok` → `flaky`) and `m.doomed` (`broken`).
 */
export function registerMetricsTemplates(engine: Engine): void {
  const handler = (name: string, run: Parameters<Engine['registerHandler']>[0]['handler']) =>
    engine.registerHandler({ namespace: 'm', name, version: '1.0.0', handler: run });
  handler('ok', () => ({ ok: true }));
  handler('flaky', (ctx) => {
    if (ctx.attempt === 1) throw new RetryableError('not yet');
    return { attempt: ctx.attempt };
  });
  handler('broken', () => {
    throw new PermanentError('always broken');
  });
  const template = (name: string, steps: object[]) =>
    engine.registerTemplate({ namespace: 'm', name, version: '1.0.0', steps });
  template('flow', [
    { name: 'ok', handler: 'm/ok' },
    { name: 'flaky', handler: 'm/flaky', depends_on: ['ok'] },
  ]);
  template('doomed', [{ name: 'broken', handler: 'm/broken' }]);
}

/** The value of the series `series` (name and labels as printed) in Prometheus text, or undefined. */
export function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/**
 * Scrapes until every series has its expected value (counters follow events a moment after the
 * engine commits them), then asserts them, so a mismatch shows all the values.
 */
export async function expectSamples(
  scrape: () => Promise<string>,
  expected: Record<string, number | undefined>,
  timeoutMs = 2000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await scrape();
    const actual = Object.fromEntries(Object.keys(expected).map((series) => [series, sample(text, series)]));
    const matches = Object.entries(expected).every(([series, value]) => actual[series] === value);
    if (matches || Date.now() > deadline) {
      assert.deepEqual(actual, expected);
      return text;
    }
    await sleep(20);
  }
}

/** The metric family names of Prometheus text (its `# TYPE` lines), with their types. */
export function metricFamilies(text: string): Map<string, string> {
  const families = new Map<string, string>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(match[1]!, match[2]!);
  return families;
}

/** Sample lines (not comments) of Prometheus text. */
export function seriesLines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}
