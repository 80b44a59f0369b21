/**
 * The built-in `http` step handler (SPEC §5): one request per step attempt through the engine's
 * resilient client, with the client's own retries off, so that the engine owns attempts, delays
 * and history. A status the client would retry becomes a `RetryableError` carrying the upstream's
 * `Retry-After`; any other unexpected status fails the step at once.
 */
import {
  DEFAULT_RETRY_ON_STATUS,
  parseRetryAfter,
  redactHeaders,
  redactUrl,
  type HttpResponse,
} from '../../client/index.ts';
import { PermanentError, RetryableError } from '../errors.ts';
import type { BuiltinHandler, StepContext } from '../handler.ts';
import { checkHttpConfig, checkHttpInput, readHttpConfig, type HttpStepConfig } from './http-config.ts';
import { stepIdempotencyKey } from './idempotency-key.ts';
import { render, type Scope } from './placeholders.ts';

const RETRIED_STATUSES: ReadonlySet<number> = new Set(DEFAULT_RETRY_ON_STATUS);
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** What an `http` step returns: its result, as later steps see it in `results`. */
export interface HttpStepResult {
  status: number;
  /** Lower-case names; cookies and other credentials hidden (results are stored). */
  headers: Record<string, string | string[]>;
  /** Parsed JSON when the response says it is JSON, else text; `null` when empty. */
  body: unknown;
}

export const httpHandler: BuiltinHandler = {
  checkConfig: (config, step) => checkHttpConfig(config, step.upstream),
  checkInput: checkHttpInput,
  run: async (context, raw) => {
    const config = readHttpConfig(raw);
    const response = await send(context, config);
    if (!isExpected(config, response.status)) throw statusFailure(config, response, context);
    return {
      status: response.status,
      headers: redactHeaders(response.headers),
      body: response.data(),
    } satisfies HttpStepResult;
  },
};

function send(context: StepContext, config: HttpStepConfig): Promise<HttpResponse> {
  const scope: Scope = { input: context.input, results: context.results };
  const body = config.body === undefined ? undefined : render(config.body, scope);
  return context.http.request({
    method: config.method,
    // A value inside the URL is percent-encoded; one that starts it is the base URL itself.
    url: render(config.url, scope, {
      asText: true,
      encode: (text, offset) => (offset === 0 ? text : encodeURIComponent(text)),
    }) as string,
    headers: render(config.headers, scope, { asText: true }) as Record<string, string>,
    ...(typeof body === 'string' ? { body } : body === undefined ? {} : { json: body }),
    signal: context.signal,
    // The same key on every attempt of a run lets the upstream drop a repeated write; a replay
    // sends a new one, so it is not answered with the failed write it replays.
    ...(IDEMPOTENT_METHODS.has(config.method) ? {} : { idempotencyKey: stepIdempotencyKey(context) }),
    retry: { maxAttempts: 1 },
    throwHttpErrors: false,
    ...(config.timeoutMs === undefined ? {} : { timeouts: { totalMs: config.timeoutMs } }),
  });
}

function isExpected(config: HttpStepConfig, status: number): boolean {
  return config.expectStatus ? config.expectStatus.has(status) : status >= 200 && status < 300;
}

function statusFailure(config: HttpStepConfig, response: HttpResponse, context: StepContext): Error {
  const url = redactUrl(
    render(config.url, { input: context.input, results: context.results }, { asText: true }) as string,
  );
  const message = `${config.method} ${url}: HTTP ${response.status}`;
  if (RETRIED_STATUSES.has(response.status)) {
    const retryAfterMs = parseRetryAfter(response.headers['retry-after'], Date.now());
    return new RetryableError(message, {
      code: 'http_status',
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  const hint = config.expectStatus ? '' : ' (list it in expect.status if it means success)';
  return new PermanentError(`${message}${response.status < 400 ? hint : ''}`, { code: 'http_status' });
}
