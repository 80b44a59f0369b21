/**
 * `baton/client`: the resilient HTTP client (SPEC §4): timeouts by phase, retries with backoff
 * and Retry-After, idempotency keys, a circuit breaker and a token bucket per origin,
 * correlation ids and W3C trace context, Prometheus metrics and hooks, typed errors that never
 * carry secrets.
 *
 * @example
 * const http = createHttpClient({ timeouts: { totalMs: 10_000 }, metrics: registry });
 * const res = await http.post('https://api.example/orders', { json: order, idempotencyKey: true });
 * res.status; res.headers; res.data(); // parsed JSON for a JSON content type, else text
 * await http.close();
 *
 * One attempt per call, every status returned, failures classified by `retryable` and
 * `retryAfterMs` (what a workflow step that leaves retries to the engine wants):
 * `http.request({ url, retry: { maxAttempts: 1 }, throwHttpErrors: false })`.
 */
export { createHttpClient, HttpClient, type MethodOptions } from './client.ts';
export * from './asap/index.ts';
export type { HeaderMap, RequestOptions } from './call.ts';
export { HttpResponse } from './response.ts';
export { parseRetryAfter } from './classify.ts';
export {
  AbortError,
  CircuitOpenError,
  ConnectError,
  HttpStatusError,
  isRetryable,
  RateLimitedError,
  ResponseTooLargeError,
  RetriesExhaustedError,
  TimeoutError,
  type ClientFailure,
  type RequestInfo,
  type TimeoutPhase,
} from './errors.ts';
export type {
  AttemptErrorEvent,
  CircuitChangeEvent,
  CircuitStateName,
  HttpClientHooks,
  RequestEvent,
  ResponseEvent,
  RetryEvent,
} from './hooks.ts';
export {
  DEFAULT_RETRY_ON_STATUS,
  DEFAULT_TIMEOUTS,
  type CallOverrides,
  type CircuitOptions,
  type HttpClientOptions,
  type RateLimitOptions,
  type RetryOptions,
  type TimeoutOptions,
} from './options.ts';
export { currentContext, runWithContext, type BatonContext } from '../util/context.ts';
export { redactHeaders, redactText, redactUrl, REDACTED } from '../util/redact.ts';
export type { BackoffPolicy } from '../util/backoff.ts';
