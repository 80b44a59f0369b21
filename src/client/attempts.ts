/**
 * The retry loop of one call (SPEC §4): admit (circuit, rate limit), send through the breaker,
 * classify, then either return, give up, or wait and go again.
 */
import { backoffDelayMs } from '../util/backoff.ts';
import { redactHeaders, redactText } from '../util/redact.ts';
import type { Call } from './call.ts';
import { isRetriedByClient, outcomeOf, parseRetryAfter, toFailure, type FailureContext } from './classify.ts';
import {
  CircuitOpenError,
  HttpStatusError,
  RateLimitedError,
  RetriesExhaustedError,
  type ClientFailure,
} from './errors.ts';
import type { Exchange } from './exchange.ts';
import { callHook, type HttpClientHooks } from './hooks.ts';
import { HttpResponse } from './response.ts';

export interface LoopEnvironment {
  readonly hooks: HttpClientHooks;
  readonly now: () => number;
  readonly random: () => number;
}

const EXCERPT_CHARS = 512;
// Decoded before redaction and truncation, so a secret across the cut is still recognised.
const EXCERPT_SCAN_BYTES = 16 * 1024;

// The response behind an HttpStatusError, kept out of the error itself so that serialising or
// logging the error can never print a response body or cookie.
const responses = new WeakMap<HttpStatusError, HttpResponse>();

export async function runCall(call: Call, env: LoopEnvironment): Promise<HttpResponse> {
  try {
    call.start();
    for (;;) {
      call.attempt += 1;
      const started = env.now();
      let failure: ClientFailure;
      try {
        const response = await attemptOnce(call, env);
        record(call, env, response.status, started);
        return response;
      } catch (error) {
        const known = toFailure(error, failureContext(call));
        if (known === undefined) {
          call.origin.metrics?.attempt('error', env.now() - started);
          call.endAttempt(error instanceof Error ? error : new Error(String(error)));
          throw error;
        }
        failure = known;
      }
      record(call, env, failure, started);
      const delay = retryDelay(call, env, failure);
      if (delay === undefined) return giveUp(call, failure);
      call.lastFailure = failure;
      call.origin.metrics?.retry();
      if (env.hooks.onRetry !== undefined) {
        callHook(env.hooks.onRetry, {
          ...attemptEvent(call),
          delayMs: delay,
          reason: String(outcomeOf(failure)),
          retryAfterMs: retryAfterOf(failure),
        });
      }
      await call.wait(delay);
    }
  } finally {
    call.dispose();
  }
}

/**
 * One attempt: the circuit and the rate limit may refuse it (thrown synchronously, nothing is
 * sent) or delay it; then the exchange, through the breaker. Not `async`: the common path hands
 * back the exchange's promise without another layer.
 */
function attemptOnce(call: Call, env: LoopEnvironment): Promise<HttpResponse> {
  const { circuit, bucket } = call.origin;
  const useCircuit = circuit !== undefined && call.settings.useCircuit;
  if (useCircuit) {
    const blocked = circuit.blocked();
    if (blocked !== null) throw new CircuitOpenError(call.origin.name, blocked, call.info, call.lastFailure);
  }
  if (bucket !== undefined && call.settings.useRateLimit) {
    const waitMs = bucket.waitMs();
    if (waitMs > call.settings.rateLimitMaxWaitMs || env.now() + waitMs > call.deadline) {
      throw new RateLimitedError(waitMs, call.settings.rateLimitMaxWaitMs, call.info);
    }
    bucket.take();
    if (waitMs > 0) return afterToken(call, env, waitMs);
  }
  return useCircuit ? circuit.run(exchange, call, env) : exchange(call, env);
}

/** The attempt once its rate-limit token is due; the token goes back if the call stops first. */
async function afterToken(call: Call, env: LoopEnvironment, waitMs: number): Promise<HttpResponse> {
  try {
    await call.wait(waitMs);
  } catch (error) {
    call.origin.bucket?.giveBack();
    throw error;
  }
  const { circuit } = call.origin;
  return circuit !== undefined && call.settings.useCircuit
    ? circuit.run(exchange, call, env)
    : exchange(call, env);
}

/** One HTTP exchange; failure statuses become HttpStatusError so the breaker and retries see them. */
async function exchange(call: Call, env: LoopEnvironment): Promise<HttpResponse> {
  let done: Exchange;
  try {
    done = await call.send().done;
  } catch (error) {
    // Typed here, inside the breaker, so that it can tell timeouts and resets from the rest.
    throw toFailure(error, failureContext(call)) ?? error;
  }
  const { status } = done;
  const response = new HttpResponse(
    status,
    done.headers,
    done.body,
    call.attempt,
    env.now() - call.startedAt,
  );
  const { retryOnStatus, throwHttpErrors } = call.settings;
  if (retryOnStatus.has(status) || (status >= 400 && throwHttpErrors)) {
    throw statusError(call, response, retryOnStatus.has(status), env.now());
  }
  return response;
}

function statusError(call: Call, response: HttpResponse, retryable: boolean, now: number): HttpStatusError {
  const text = response.body.subarray(0, EXCERPT_SCAN_BYTES).toString('utf8');
  const error = new HttpStatusError(
    {
      status: response.status,
      retryable,
      headers: redactHeaders(response.headers),
      bodyExcerpt: redactText(text, call.secrets()).slice(0, EXCERPT_CHARS),
      retryAfterMs: parseRetryAfter(response.headers['retry-after'], now),
    },
    call.info,
  );
  responses.set(error, response);
  return error;
}

/** The wait before the next attempt, or `undefined` to stop here. */
function retryDelay(call: Call, env: LoopEnvironment, failure: ClientFailure): number | undefined {
  const { settings } = call;
  if (!isRetriedByClient(failure) || !call.mayRepeat || call.attempt >= settings.maxAttempts)
    return undefined;
  const delay = backoffDelayMs(
    settings.backoff,
    call.attempt,
    { retryAfterMs: retryAfterOf(failure), maxRetryAfterMs: settings.maxRetryAfterMs },
    env.random,
  );
  // No point sleeping into the total timeout: give up now and say so.
  return env.now() + delay < call.deadline ? delay : undefined;
}

/** Ends the call with `failure`: its response (when asked not to throw for statuses) or an error. */
function giveUp(call: Call, failure: ClientFailure): HttpResponse {
  const response = failure instanceof HttpStatusError ? responses.get(failure) : undefined;
  if (response !== undefined && !call.settings.throwHttpErrors) return response;
  const retriesWereAllowed = call.settings.maxAttempts > 1 && call.mayRepeat;
  if (retriesWereAllowed && isRetriedByClient(failure)) {
    throw new RetriesExhaustedError(call.attempt, failure, call.info);
  }
  throw failure;
}

/** Metrics and hooks for one finished attempt: a response status, or a failure. */
function record(call: Call, env: LoopEnvironment, outcome: number | ClientFailure, started: number): void {
  const durationMs = env.now() - started;
  const { hooks } = env;
  call.endAttempt(outcome);
  if (typeof outcome === 'number') {
    call.origin.metrics?.attempt(outcome, durationMs);
    if (hooks.onResponse !== undefined)
      callHook(hooks.onResponse, { ...attemptEvent(call), status: outcome, durationMs });
    return;
  }
  // Refused before sending (circuit open, rate limit): counted, but no duration to observe.
  const sent = !(outcome instanceof CircuitOpenError || outcome instanceof RateLimitedError);
  call.origin.metrics?.attempt(outcomeOf(outcome), sent ? durationMs : undefined);
  if (outcome instanceof HttpStatusError) {
    if (hooks.onResponse !== undefined) {
      callHook(hooks.onResponse, { ...attemptEvent(call), status: outcome.status, durationMs });
    }
  } else if (hooks.onError !== undefined) {
    const reason = String(outcomeOf(outcome));
    callHook(hooks.onError, { ...attemptEvent(call), reason, error: outcome, durationMs });
  }
}

function attemptEvent(call: Call): { method: string; url: string; attempt: number; correlationId: string } {
  const { method, url } = call.info;
  return { method, url, attempt: call.attempt, correlationId: call.correlationId };
}

function retryAfterOf(failure: ClientFailure): number | undefined {
  return 'retryAfterMs' in failure ? failure.retryAfterMs : undefined;
}

function failureContext(call: Call): FailureContext {
  return {
    info: call.info,
    timeouts: call.settings.timeouts,
    maxResponseBytes: call.settings.maxResponseBytes,
    origin: call.origin.name,
    circuitRetryAfter: () => call.origin.circuit?.blocked() ?? undefined,
  };
}
