/**
 * Turning what an attempt throws (undici and system errors, cockatiel's open-circuit error) into
 * the client's typed failures, and naming outcomes for metrics and hooks.
 */
import { isBrokenCircuitError } from 'cockatiel';
import {
  AbortError,
  CircuitOpenError,
  ConnectError,
  HttpStatusError,
  RateLimitedError,
  ResponseTooLargeError,
  RetriesExhaustedError,
  TimeoutError,
  type ClientFailure,
  type RequestInfo,
} from './errors.ts';
import { BodyLimitExceeded } from './exchange.ts';
import type { TimeoutOptions } from './options.ts';

const TIMEOUT_PHASES = {
  UND_ERR_CONNECT_TIMEOUT: 'connect',
  UND_ERR_HEADERS_TIMEOUT: 'headers',
  UND_ERR_BODY_TIMEOUT: 'body',
} as const;

// Errors of the connection itself: it could not be made, or it broke. `HPE_*` are undici's
// parser errors (the peer sent something that is not HTTP), as transient as a reset.
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

export interface FailureContext {
  readonly info: RequestInfo;
  readonly timeouts: Readonly<TimeoutOptions>;
  readonly maxResponseBytes: number;
  readonly origin: string;
  /** Milliseconds until the origin's circuit lets a probe through, when it is open. */
  circuitRetryAfter(): number | undefined;
}

export function isClientFailure(error: unknown): error is ClientFailure {
  return (
    error instanceof TimeoutError ||
    error instanceof ConnectError ||
    error instanceof HttpStatusError ||
    error instanceof RateLimitedError ||
    error instanceof CircuitOpenError ||
    error instanceof RetriesExhaustedError ||
    error instanceof AbortError ||
    error instanceof ResponseTooLargeError
  );
}

/** The typed failure for `error`, or `undefined` when it is none of the known kinds. */
export function toFailure(error: unknown, context: FailureContext): ClientFailure | undefined {
  if (isClientFailure(error)) return error;
  if (error instanceof BodyLimitExceeded)
    return new ResponseTooLargeError(context.maxResponseBytes, context.info);
  if (isBrokenCircuitError(error)) {
    return new CircuitOpenError(context.origin, context.circuitRetryAfter(), context.info);
  }
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code !== 'string') return undefined;
  if (code in TIMEOUT_PHASES) {
    const phase = TIMEOUT_PHASES[code as keyof typeof TIMEOUT_PHASES];
    return new TimeoutError(phase, context.timeouts[`${phase}Ms`], context.info, error);
  }
  if (NETWORK_CODES.has(code) || code.startsWith('HPE_')) return new ConnectError(code, context.info, error);
  return undefined;
}

/** The `status` label of an attempt: the HTTP status, or the kind of failure. */
export function outcomeOf(failure: ClientFailure | undefined): number | string {
  if (failure instanceof HttpStatusError) return failure.status;
  if (failure instanceof TimeoutError) return `timeout_${failure.phase}`;
  if (failure instanceof ConnectError) return 'connect_error';
  if (failure instanceof CircuitOpenError) return 'circuit_open';
  if (failure instanceof RateLimitedError) return 'rate_limited';
  if (failure instanceof AbortError) return 'aborted';
  if (failure instanceof ResponseTooLargeError) return 'too_large';
  return 'error';
}

/**
 * Whether the client itself may try `failure` again: retryable failures, except those that mean
 * "stop now" (the caller aborted, the total budget is spent, the circuit or the rate limit said no).
 */
export function isRetriedByClient(failure: ClientFailure): boolean {
  if (!failure.retryable) return false;
  if (failure instanceof TimeoutError) return failure.phase !== 'total';
  return !(
    failure instanceof CircuitOpenError ||
    failure instanceof RateLimitedError ||
    failure instanceof RetriesExhaustedError
  );
}

/**
 * Milliseconds from a `Retry-After` value (delta-seconds or an HTTP date), or `undefined` when
 * absent or unreadable. A date in the past means "now" (0).
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (text === undefined || text === '') return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // All three HTTP-date forms start with a day name; Date.parse alone would take "-5" as a year.
  if (!/^[A-Za-z]{3}/.test(text)) return undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
