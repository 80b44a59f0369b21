/**
 * The client's options: public shapes, defaults, and resolution into frozen settings. Settings
 * are resolved once per client; a call that overrides nothing reuses them as they are, so the hot
 * path allocates no option objects.
 */
import type { TracerProvider } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import type { BackoffPolicy } from '../util/backoff.ts';
import type { HttpClientHooks } from './hooks.ts';

export interface TimeoutOptions {
  /** Establishing the connection (TCP and TLS). Default 10 s. */
  connectMs: number;
  /** From sending the request to the end of the response headers. Default 30 s. */
  headersMs: number;
  /** Longest silence while reading the body. Default 30 s. */
  bodyMs: number;
  /** The whole call: every attempt, backoff and rate-limit wait. Default 60 s. 0 disables a timeout. */
  totalMs: number;
}

export interface RetryOptions {
  /** Attempts per call, the first included. 1 disables retries. Default 3. */
  maxAttempts: number;
  /** Delays between attempts (SPEC §2.4, snake_case like templates). */
  backoff: BackoffPolicy;
  /** Cap on a `Retry-After` wait. Default 300 s (but the total timeout bounds every wait). */
  maxRetryAfterMs: number;
  /** Statuses that are retried. Default 408, 425, 429, 500, 502, 503, 504. */
  retryOnStatus: readonly number[];
}

export interface CircuitOptions {
  /** Consecutive failures (network errors, timeouts, 5xx) that open an origin's circuit. Default 5. */
  failureThreshold: number;
  /** How long the circuit stays open before one probe may pass. Default 30 s. */
  cooldownMs: number;
}

export interface RateLimitOptions {
  /** Sustained requests per second to one origin. */
  requestsPerSecond: number;
  /** Requests that may go at once after a quiet spell. Default 1. */
  burst?: number;
  /** Longest wait for a token before failing with `RateLimitedError`. Default 30 s. */
  maxWaitMs?: number;
}

/** Options a single call may override. */
export interface CallOverrides {
  timeouts?: Partial<TimeoutOptions>;
  retry?: Partial<Omit<RetryOptions, 'backoff'>> & { backoff?: Partial<BackoffPolicy> };
  /** Throw `HttpStatusError` for 4xx/5xx responses (default), or return them. */
  throwHttpErrors?: boolean;
  /** Larger response bodies fail with `ResponseTooLargeError`. Default 10 MiB. */
  maxResponseBytes?: number;
  idempotencyHeader?: string;
  correlationHeader?: string;
  /** Per call: `false` skips the rate limit; `{ maxWaitMs }` changes the longest wait. */
  rateLimit?: false | { maxWaitMs: number };
  /** Per call: `false` bypasses the origin's circuit breaker (the result is not recorded either). */
  circuit?: false;
}

export interface HttpClientOptions extends Omit<CallOverrides, 'rateLimit' | 'circuit'> {
  /** A relative `url` is appended to this (`baseUrl` `https://api.x/v1` + `users/1`). */
  baseUrl?: string;
  /** Sent with every request; a call's own headers win. */
  headers?: Readonly<Record<string, string>>;
  /** Connections per origin. Default 64. Client-wide: pools are shared by every call. */
  maxConnections?: number;
  /** Per-origin circuit breaker; `false` disables it. */
  circuit?: Partial<CircuitOptions> | false;
  /** Per-origin token bucket; off by default. */
  rateLimit?: RateLimitOptions | false;
  hooks?: HttpClientHooks;
  /** Registers the client's Prometheus metrics here (reused when already registered). */
  metrics?: Registry;
  /**
   * Where the client's spans go (one `CLIENT` span per attempt, whose id the `traceparent` header
   * carries). Default: the global provider when one is registered, else no spans.
   */
  tracerProvider?: TracerProvider | undefined;
  /** For tests: jitter source and wall clock. */
  random?: () => number;
  now?: () => number;
}

/** Everything a call needs, resolved and validated. */
export interface CallSettings {
  readonly timeouts: Readonly<TimeoutOptions>;
  readonly maxAttempts: number;
  readonly backoff: Readonly<BackoffPolicy>;
  readonly maxRetryAfterMs: number;
  readonly retryOnStatus: ReadonlySet<number>;
  readonly throwHttpErrors: boolean;
  readonly maxResponseBytes: number;
  readonly idempotencyHeader: string;
  readonly correlationHeader: string;
  readonly rateLimitMaxWaitMs: number;
  readonly useRateLimit: boolean;
  readonly useCircuit: boolean;
}

export const DEFAULT_TIMEOUTS: Readonly<TimeoutOptions> = Object.freeze({
  connectMs: 10_000,
  headersMs: 30_000,
  bodyMs: 30_000,
  totalMs: 60_000,
});

export const DEFAULT_RETRY_ON_STATUS: readonly number[] = Object.freeze([408, 425, 429, 500, 502, 503, 504]);

const DEFAULT_SETTINGS: CallSettings = Object.freeze({
  timeouts: DEFAULT_TIMEOUTS,
  maxAttempts: 3,
  backoff: Object.freeze({ base_ms: 1000, factor: 2, max_ms: 300_000, jitter: 0.1 }),
  maxRetryAfterMs: 300_000,
  retryOnStatus: new Set(DEFAULT_RETRY_ON_STATUS),
  throwHttpErrors: true,
  maxResponseBytes: 10 * 1024 * 1024,
  idempotencyHeader: 'Idempotency-Key',
  correlationHeader: 'X-Correlation-ID',
  rateLimitMaxWaitMs: 30_000,
  useRateLimit: true,
  useCircuit: true,
});

export const DEFAULT_CIRCUIT: Readonly<CircuitOptions> = Object.freeze({
  failureThreshold: 5,
  cooldownMs: 30_000,
});

export const DEFAULT_MAX_CONNECTIONS = 64;

/** The client's own settings: defaults overlaid with `options`. */
export function resolveClientSettings(options: HttpClientOptions): CallSettings {
  const maxWait = options.rateLimit ? options.rateLimit.maxWaitMs : undefined;
  return resolveSettings(DEFAULT_SETTINGS, {
    ...options,
    rateLimit: maxWait === undefined ? undefined : { maxWaitMs: maxWait },
    circuit: undefined,
  });
}

/** `base` overlaid with a call's overrides; `base` itself when there are none. */
export function resolveSettings(base: CallSettings, o: CallOverrides): CallSettings {
  if (!hasOverrides(o)) return base;
  const settings: CallSettings = {
    timeouts: { ...base.timeouts, ...o.timeouts },
    maxAttempts: o.retry?.maxAttempts ?? base.maxAttempts,
    backoff: { ...base.backoff, ...o.retry?.backoff },
    maxRetryAfterMs: o.retry?.maxRetryAfterMs ?? base.maxRetryAfterMs,
    retryOnStatus: o.retry?.retryOnStatus ? new Set(o.retry.retryOnStatus) : base.retryOnStatus,
    throwHttpErrors: o.throwHttpErrors ?? base.throwHttpErrors,
    maxResponseBytes: o.maxResponseBytes ?? base.maxResponseBytes,
    idempotencyHeader: o.idempotencyHeader ?? base.idempotencyHeader,
    correlationHeader: o.correlationHeader ?? base.correlationHeader,
    rateLimitMaxWaitMs: o.rateLimit === false ? 0 : (o.rateLimit?.maxWaitMs ?? base.rateLimitMaxWaitMs),
    useRateLimit: o.rateLimit !== false && base.useRateLimit,
    useCircuit: o.circuit !== false && base.useCircuit,
  };
  validateSettings(settings);
  return Object.freeze(settings);
}

function hasOverrides(o: CallOverrides): boolean {
  return (
    o.timeouts !== undefined ||
    o.retry !== undefined ||
    o.throwHttpErrors !== undefined ||
    o.maxResponseBytes !== undefined ||
    o.idempotencyHeader !== undefined ||
    o.correlationHeader !== undefined ||
    o.rateLimit !== undefined ||
    o.circuit !== undefined
  );
}

function validateSettings(s: CallSettings): void {
  for (const [name, value] of Object.entries(s.timeouts)) nonNegative(`timeouts.${name}`, value);
  if (!Number.isInteger(s.maxAttempts) || s.maxAttempts < 1) {
    throw new RangeError(`retry.maxAttempts should be an integer ≥ 1, got ${s.maxAttempts}`);
  }
  nonNegative('retry.backoff.base_ms', s.backoff.base_ms);
  nonNegative('retry.backoff.max_ms', s.backoff.max_ms);
  nonNegative('retry.maxRetryAfterMs', s.maxRetryAfterMs);
  nonNegative('rateLimit.maxWaitMs', s.rateLimitMaxWaitMs);
  if (!(s.backoff.factor >= 1))
    throw new RangeError(`retry.backoff.factor should be ≥ 1, got ${s.backoff.factor}`);
  if (!(s.backoff.jitter >= 0 && s.backoff.jitter <= 1)) {
    throw new RangeError(`retry.backoff.jitter should be within [0, 1], got ${s.backoff.jitter}`);
  }
  if (!(s.maxResponseBytes > 0)) {
    throw new RangeError(`maxResponseBytes should be > 0, got ${s.maxResponseBytes}`);
  }
}

export function nonNegative(name: string, value: number): void {
  if (!(Number.isFinite(value) && value >= 0)) {
    throw new RangeError(`${name} should be a finite number ≥ 0, got ${value}`);
  }
}

/** The breaker settings, or `undefined` when disabled. */
export function resolveCircuit(option: HttpClientOptions['circuit']): CircuitOptions | undefined {
  if (option === false) return undefined;
  const circuit = { ...DEFAULT_CIRCUIT, ...option };
  if (!Number.isInteger(circuit.failureThreshold) || circuit.failureThreshold < 1) {
    throw new RangeError(
      `circuit.failureThreshold should be an integer ≥ 1, got ${circuit.failureThreshold}`,
    );
  }
  nonNegative('circuit.cooldownMs', circuit.cooldownMs);
  return circuit;
}

/** The token bucket settings, or `undefined` when off. */
export function resolveRateLimit(
  option: HttpClientOptions['rateLimit'],
): { requestsPerSecond: number; burst: number } | undefined {
  if (option === undefined || option === false) return undefined;
  const burst = option.burst ?? 1;
  if (!(option.requestsPerSecond > 0)) {
    throw new RangeError(`rateLimit.requestsPerSecond should be > 0, got ${option.requestsPerSecond}`);
  }
  if (!(burst >= 1)) throw new RangeError(`rateLimit.burst should be ≥ 1, got ${burst}`);
  return { requestsPerSecond: option.requestsPerSecond, burst };
}
