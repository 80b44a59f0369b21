/**
 * Observation hooks. Payloads are built only when a hook is set, carry redacted URLs and headers
 * (they are meant for logs), and a hook that throws or rejects never affects the request.
 */
import type { ClientFailure } from './errors.ts';

export type CircuitStateName = 'closed' | 'half_open' | 'open';

export interface AttemptEvent {
  method: string;
  /** Redacted. */
  url: string;
  /** 1 for the first attempt of a call. */
  attempt: number;
  correlationId: string;
}

export interface RequestEvent extends AttemptEvent {
  /** Request headers as sent, secrets redacted. */
  headers: Record<string, string | string[]>;
}

export interface ResponseEvent extends AttemptEvent {
  status: number;
  durationMs: number;
}

export interface AttemptErrorEvent extends AttemptEvent {
  /** An outcome label, e.g. `timeout_headers`, `connect_error`, `503`. */
  reason: string;
  error: ClientFailure;
  durationMs: number;
}

export interface RetryEvent extends AttemptEvent {
  /** The attempt that failed is `attempt`; the next one starts after `delayMs`. */
  delayMs: number;
  reason: string;
  retryAfterMs: number | undefined;
}

export interface CircuitChangeEvent {
  origin: string;
  from: CircuitStateName;
  to: CircuitStateName;
}

export interface HttpClientHooks {
  /** Before each attempt is sent. */
  onRequest?: (event: RequestEvent) => unknown;
  /** When an attempt got a response (any status). */
  onResponse?: (event: ResponseEvent) => unknown;
  /** When an attempt failed without a usable response (timeout, connection, circuit, …). */
  onError?: (event: AttemptErrorEvent) => unknown;
  /** Before sleeping ahead of a retry. */
  onRetry?: (event: RetryEvent) => unknown;
  onCircuitChange?: (event: CircuitChangeEvent) => unknown;
}

/** Calls `hook`; its exceptions and rejections are swallowed (observability must not break calls). */
export function callHook<E>(hook: ((event: E) => unknown) | undefined, event: E): void {
  if (hook === undefined) return;
  try {
    const result: unknown = hook(event);
    if (result instanceof Promise) result.catch(ignore);
  } catch {
    // A faulty hook is the hook's problem; the request goes on.
  }
}

function ignore(): void {}
