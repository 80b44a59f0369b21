/**
 * The ambient request context: which correlation id and W3C trace the current work belongs to.
 * The HTTP client reads it so that outbound calls made while handling a request, task or step
 * carry that request's ids without every function passing them along.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface BatonContext {
  /** Sent as `X-Correlation-ID` by the HTTP client; logged as `correlation_id`. */
  readonly correlationId?: string;
  /** The W3C `traceparent` of the current span; outbound calls keep its trace id. */
  readonly traceparent?: string;
  /** The task the running code works for; logged as `task_id`. */
  readonly taskId?: string;
  /** The step of `taskId` being run; logged as `step`. */
  readonly step?: string;
  /** The ASAP envelope being dispatched; logged as `envelope_id`. */
  readonly envelopeId?: string;
}

const storage = new AsyncLocalStorage<BatonContext>();

/**
 * Runs `fn` with `context` as the current context, on top of the enclosing one: fields left out
 * of `context` keep their outer values.
 */
export function runWithContext<T>(context: BatonContext, fn: () => T): T {
  const outer = storage.getStore();
  return storage.run(outer === undefined ? context : { ...outer, ...context }, fn);
}

/** The context of the running code, or `undefined` outside any `runWithContext`. */
export function currentContext(): BatonContext | undefined {
  return storage.getStore();
}
