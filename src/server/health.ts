/**
 * Health routes. The ASAP reference's (asap-wire §5.6): `GET /health` and `GET /ready` answer
 * `{"status":"ok"}`; `GET /.well-known/asap/health` describes the agent. Baton's operator routes
 * (SPEC §5): `GET /health/live` (the process answers), `GET /health/ready` (each dependency
 * answers within a deadline, else 503 naming the failing one) and `GET /health/status` (the
 * checks, workers, queue depth, recent step errors, circuits). Ready and status results are
 * cached for a short TTL and concurrent callers share one run, so a flood of health checks costs
 * the store about one query per TTL.
 */
import type { FastifyPluginCallback } from 'fastify';
import type { Engine } from '../engine/index.ts';
import type { Manifest } from '../protocol/index.ts';
import type { StoreStats } from '../storage/store.ts';
import { cached, withDeadline } from '../util/cached.ts';

/** One dependency check: resolves when the dependency answers; `signal` aborts at the deadline. */
export type HealthCheck = (signal: AbortSignal) => Promise<unknown>;

export interface HealthPluginOptions {
  manifest: () => Manifest;
  /** Epoch ms the agent started (default: when the plugin loads). */
  startedAt?: number;
  now?: () => number;
  /** Whether the agent is healthy; `false` answers 503 with `status: "unhealthy"` (default: always healthy). */
  healthy?: () => boolean | Promise<boolean>;
  /** The engine whose store, workers, queue and circuits `/health/ready` and `/health/status` report. */
  engine?: Engine;
  /**
   * The dependency checks of `/health/ready`, by name, over the defaults: `store` (the engine's
   * `store.ping()`) and `redis` (`null`: reported as `disabled` until Baton uses Redis). `null`
   * disables a check.
   */
  checks?: Record<string, HealthCheck | null>;
  /** How long each check, and the status's store query, may take (default 1000 ms). */
  deadlineMs?: number;
  /** How long ready and status results are reused (default 1000 ms). */
  cacheTtlMs?: number;
  /** The step error window of `/health/status`, in whole minutes, this one included (default 5). */
  errorWindowMinutes?: number;
}

export interface AgentHealth {
  status: 'healthy' | 'unhealthy';
  agent_id: string;
  version: string;
  asap_version: string;
  uptime_seconds: number;
  load: { active_tasks: number; queue_depth: number } | null;
}

export type CheckResult =
  | { status: 'ok'; latency_ms: number }
  | { status: 'failing'; latency_ms: number; error: string }
  | { status: 'disabled' };

/** `GET /health/ready`: 200 when every enabled check is `ok`, else 503. */
export interface ReadyHealth {
  status: 'ok' | 'unavailable';
  checks: Record<string, CheckResult>;
}

/**
 * `GET /health/status`: `unavailable` (503) when a check fails; `degraded` when a circuit is not
 * closed or the store's counts could not be read; else `ok`.
 */
export interface StatusHealth {
  status: 'ok' | 'degraded' | 'unavailable';
  version: string;
  uptime_seconds: number;
  checks: Record<string, CheckResult>;
  /** This process's workers; null without an engine. */
  workers: { running: boolean; concurrency: number; active: number } | null;
  /** Null without an engine or when the store's counts could not be read in time. */
  queue: {
    ready: number;
    running: number;
    dead_letters: number;
    tasks: Record<string, number>;
  } | null;
  /** Step failures (for good) and retries (failed attempts retried) by this process's workers. */
  errors: { window_seconds: number; step_failures: number; step_retries: number; rate_per_minute: number };
  circuits: { open: string[]; half_open: string[] };
}

const DEFAULT_DEADLINE_MS = 1000;
const DEFAULT_CACHE_TTL_MS = 1000;
const DEFAULT_ERROR_WINDOW_MINUTES = 5;
const MAX_ERROR_LENGTH = 200;

export const healthPlugin: FastifyPluginCallback<HealthPluginOptions> = (app, options, done) => {
  const now = options.now ?? Date.now;
  const startedAt = options.startedAt ?? now();
  const ok = { status: 'ok' } as const;
  const { engine } = options;
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const ttlMs = options.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS;
  const uptimeSeconds = () => Math.round((now() - startedAt) / 10) / 100;

  app.get('/health', (_request, reply) => reply.send(ok));
  app.get('/ready', (_request, reply) => reply.send(ok));

  app.get('/.well-known/asap/health', async (_request, reply) => {
    const healthy = (await options.healthy?.()) ?? true;
    const manifest = options.manifest();
    const body: AgentHealth = {
      status: healthy ? 'healthy' : 'unhealthy',
      agent_id: manifest.id,
      version: manifest.version,
      asap_version: manifest.capabilities.asap_version,
      uptime_seconds: uptimeSeconds(),
      load: null,
    };
    return reply.code(healthy ? 200 : 503).send(body);
  });

  const checks: Record<string, HealthCheck | null> = {
    ...(engine ? { store: () => engine.store.ping() } : {}),
    redis: null,
    ...options.checks,
  };
  const runChecks = cached(ttlMs, now, async () => {
    const entries = await Promise.all(
      Object.entries(checks).map(
        async ([name, check]) => [name, await runCheck(check, deadlineMs, now)] as const,
      ),
    );
    return Object.fromEntries(entries);
  });
  const readStats = cached(ttlMs, now, async (): Promise<StoreStats | null> => {
    if (!engine) return null;
    try {
      return await withDeadline(() => engine.store.stats(), deadlineMs);
    } catch {
      return null;
    }
  });
  const errors = new ErrorWindow(options.errorWindowMinutes ?? DEFAULT_ERROR_WINDOW_MINUTES);
  const unsubscribe = engine
    ? [
        engine.on('step.failed', () => errors.record('failures', now())),
        engine.on('step.retry_scheduled', () => errors.record('retries', now())),
      ]
    : [];
  app.addHook('onClose', (_instance, closed) => {
    for (const stop of unsubscribe) stop();
    closed();
  });

  app.get('/health/live', (_request, reply) => reply.send(ok));

  app.get('/health/ready', async (_request, reply) => {
    const results = await runChecks();
    const body: ReadyHealth = { status: anyFailing(results) ? 'unavailable' : 'ok', checks: results };
    return reply.code(body.status === 'ok' ? 200 : 503).send(body);
  });

  app.get('/health/status', async (_request, reply) => {
    const [results, stats] = await Promise.all([runChecks(), readStats()]);
    const circuits = { open: [] as string[], half_open: [] as string[] };
    for (const [handler, state] of engine?.openCircuits() ?? []) {
      if (state === 'open' || state === 'half_open') circuits[state].push(handler);
    }
    const window = errors.totals(now());
    const degraded =
      circuits.open.length > 0 || circuits.half_open.length > 0 || (engine !== undefined && stats === null);
    const body: StatusHealth = {
      status: anyFailing(results) ? 'unavailable' : degraded ? 'degraded' : 'ok',
      version: options.manifest().version,
      uptime_seconds: uptimeSeconds(),
      checks: results,
      workers: engine?.workerState() ?? null,
      queue: stats && {
        ready: stats.readySteps,
        running: stats.runningSteps,
        dead_letters: stats.openDeadLetters,
        tasks: stats.tasks,
      },
      errors: {
        window_seconds: errors.minutes * 60,
        step_failures: window.failures,
        step_retries: window.retries,
        rate_per_minute: Math.round(((window.failures + window.retries) / errors.minutes) * 100) / 100,
      },
      circuits,
    };
    return reply.code(body.status === 'unavailable' ? 503 : 200).send(body);
  });
  done();
};

function anyFailing(results: Record<string, CheckResult>): boolean {
  return Object.values(results).some((result) => result.status === 'failing');
}

async function runCheck(
  check: HealthCheck | null,
  deadlineMs: number,
  now: () => number,
): Promise<CheckResult> {
  if (check === null) return { status: 'disabled' };
  const start = now();
  try {
    await withDeadline(check, deadlineMs);
    return { status: 'ok', latency_ms: now() - start };
  } catch (error) {
    return { status: 'failing', latency_ms: now() - start, error: shortMessage(error) };
  }
}

/** The first line of an error's message, without URL credentials, capped: never a stack. */
function shortMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = (message.split('\n')[0] ?? '').replace(/\/\/[^/\s:@]+:[^/\s@]+@/g, '//***@').trim();
  const text = line === '' ? 'check failed' : line;
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}

/** Counts in per-minute buckets over the last `minutes` whole minutes, this one included. */
class ErrorWindow {
  readonly minutes: number;
  #buckets: { minute: number; failures: number; retries: number }[] = [];

  constructor(minutes: number) {
    this.minutes = minutes;
  }

  record(kind: 'failures' | 'retries', at: number): void {
    const minute = Math.floor(at / 60_000);
    this.#prune(minute);
    let bucket = this.#buckets.at(-1);
    if (bucket?.minute !== minute) {
      bucket = { minute, failures: 0, retries: 0 };
      this.#buckets.push(bucket);
    }
    bucket[kind] += 1;
  }

  totals(at: number): { failures: number; retries: number } {
    this.#prune(Math.floor(at / 60_000));
    let failures = 0;
    let retries = 0;
    for (const bucket of this.#buckets) {
      failures += bucket.failures;
      retries += bucket.retries;
    }
    return { failures, retries };
  }

  #prune(minute: number): void {
    this.#buckets = this.#buckets.filter((bucket) => bucket.minute > minute - this.minutes);
  }
}
