/**
 * The HTTP client's errors, one class per failure mode (SPEC §4). Each has a stable `code`, a
 * `retryable` flag (whether trying again later may succeed) and, where the upstream said when,
 * `retryAfterMs`: the engine reads those fields, not the classes. Messages and properties carry
 * redacted URLs only, never request headers or bodies.
 */
import { BatonError, type ErrorCode } from '../util/errors.ts';

export type TimeoutPhase = 'connect' | 'headers' | 'body' | 'total';

/** What every client error carries besides `code` and `message`. */
abstract class HttpClientError extends BatonError {
  abstract readonly retryable: boolean;
  /** Request method, e.g. `GET`; empty when the error did not come from one request. */
  readonly method: string;
  /** The request URL, redacted. */
  readonly url: string;

  constructor(code: ErrorCode, message: string, request: RequestInfo, cause?: unknown) {
    super(code, message, cause === undefined ? undefined : { cause });
    this.method = request.method;
    this.url = request.url;
  }
}

/** Method and redacted URL of the request an error is about. */
export interface RequestInfo {
  readonly method: string;
  readonly url: string;
}

function describe(request: RequestInfo): string {
  return `${request.method} ${request.url}`;
}

export class TimeoutError extends HttpClientError {
  readonly retryable = true;
  readonly phase: TimeoutPhase;
  readonly timeoutMs: number;

  constructor(phase: TimeoutPhase, timeoutMs: number, request: RequestInfo, cause?: unknown) {
    super('timeout', `${describe(request)}: ${phase} timeout after ${timeoutMs} ms`, request, cause);
    this.name = 'TimeoutError';
    this.phase = phase;
    this.timeoutMs = timeoutMs;
  }
}

/** The connection failed or broke: refused, reset, closed early, DNS failure. */
export class ConnectError extends HttpClientError {
  readonly retryable = true;
  /** The system or undici error code, e.g. `ECONNREFUSED`, `UND_ERR_SOCKET`, `ENOTFOUND`. */
  readonly networkCode: string;

  constructor(networkCode: string, request: RequestInfo, cause?: unknown) {
    super('connect_failed', `${describe(request)}: connection failed (${networkCode})`, request, cause);
    this.name = 'ConnectError';
    this.networkCode = networkCode;
  }
}

export class HttpStatusError extends HttpClientError {
  readonly retryable: boolean;
  readonly status: number;
  /** Response headers, with cookies and other secrets hidden. */
  readonly headers: Readonly<Record<string, string | string[]>>;
  /** The start of the response body (≤ 512 characters), with credentials hidden. */
  readonly bodyExcerpt: string;
  /** From the response's `Retry-After`, when it had one. */
  readonly retryAfterMs: number | undefined;

  constructor(
    fields: {
      status: number;
      retryable: boolean;
      headers: Record<string, string | string[]>;
      bodyExcerpt: string;
      retryAfterMs: number | undefined;
    },
    request: RequestInfo,
  ) {
    super('http_status', `${describe(request)}: HTTP ${fields.status}`, request);
    this.name = 'HttpStatusError';
    this.status = fields.status;
    this.retryable = fields.retryable;
    this.headers = fields.headers;
    this.bodyExcerpt = fields.bodyExcerpt;
    this.retryAfterMs = fields.retryAfterMs;
  }
}

/** The client's own rate limit for an origin would make this request wait longer than allowed. */
export class RateLimitedError extends HttpClientError {
  readonly retryable = true;
  readonly retryAfterMs: number;

  constructor(retryAfterMs: number, maxWaitMs: number, request: RequestInfo) {
    super(
      'rate_limited',
      `${describe(request)}: client rate limit needs a ${Math.ceil(retryAfterMs)} ms wait, more than the ${maxWaitMs} ms allowed`,
      request,
    );
    this.name = 'RateLimitedError';
    this.retryAfterMs = retryAfterMs;
  }
}

/** The origin's circuit is open (or a half-open probe is running): nothing was sent. */
export class CircuitOpenError extends HttpClientError {
  readonly retryable = true;
  readonly origin: string;
  /** Until the circuit lets a probe through; `undefined` while a probe is already running. */
  readonly retryAfterMs: number | undefined;

  constructor(origin: string, retryAfterMs: number | undefined, request: RequestInfo, cause?: unknown) {
    super('circuit_open', `${describe(request)}: circuit open for ${origin}`, request, cause);
    this.name = 'CircuitOpenError';
    this.origin = origin;
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * Every allowed attempt failed (or the next one would not fit in the total timeout). `cause` is
 * the last failure; `status` and `retryAfterMs` are copied from it so callers can classify
 * without unwrapping. Retryable when the last failure was: the client gave up, a later retry
 * (say, by the workflow engine) may still succeed.
 */
export class RetriesExhaustedError extends HttpClientError {
  readonly retryable: boolean;
  readonly attempts: number;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(attempts: number, lastError: ClientFailure, request: RequestInfo) {
    const prefix = `${describe(request)}: `;
    const last = lastError.message.startsWith(prefix)
      ? lastError.message.slice(prefix.length)
      : lastError.message;
    super(
      'retries_exhausted',
      `${prefix}gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}, last: ${last}`,
      request,
      lastError,
    );
    this.name = 'RetriesExhaustedError';
    this.attempts = attempts;
    this.retryable = lastError.retryable;
    this.status = lastError instanceof HttpStatusError ? lastError.status : undefined;
    this.retryAfterMs = 'retryAfterMs' in lastError ? lastError.retryAfterMs : undefined;
  }

  get lastError(): ClientFailure {
    return this.cause as ClientFailure;
  }
}

/** The caller's signal aborted the request (during an attempt, a backoff or a rate-limit wait). */
export class AbortError extends HttpClientError {
  readonly retryable = false;

  constructor(request: RequestInfo, reason?: unknown) {
    super('aborted', `${describe(request)}: aborted`, request, reason);
    this.name = 'AbortError';
  }
}

/** The response body was larger than `maxResponseBytes`. */
export class ResponseTooLargeError extends HttpClientError {
  readonly retryable = false;
  readonly limitBytes: number;

  constructor(limitBytes: number, request: RequestInfo) {
    super('payload_too_large', `${describe(request)}: response body over ${limitBytes} bytes`, request);
    this.name = 'ResponseTooLargeError';
    this.limitBytes = limitBytes;
  }
}

/** Any error a request can fail with, except programming errors (bad options) and unknown ones. */
export type ClientFailure =
  | TimeoutError
  | ConnectError
  | HttpStatusError
  | RateLimitedError
  | CircuitOpenError
  | RetriesExhaustedError
  | AbortError
  | ResponseTooLargeError;

/**
 * Whether trying again later may succeed. Reads the `retryable` field, so it works on errors
 * from another copy of this package and on the engine's own errors; anything else is `false`.
 */
export function isRetryable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retryable?: unknown }).retryable === true;
}
