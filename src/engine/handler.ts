import type { Logger } from 'pino';

/** What a step handler receives (SPEC §2.2). */
export interface StepContext<Input = unknown> {
  /** The task input, validated against the template's `input_schema`. */
  readonly input: Input;
  /** Results of the steps this one depends on, by step name. */
  readonly results: Readonly<Record<string, unknown>>;
  readonly task: {
    readonly id: string;
    readonly namespace: string;
    readonly name: string;
    readonly version: string;
  };
  readonly step: { readonly name: string; readonly attempt: number; readonly maxAttempts: number };
  /** Attempt number, starting at 1. */
  readonly attempt: number;
  /** Aborted on timeout, cancellation, lease loss or shutdown; `signal.reason` says which. */
  readonly signal: AbortSignal;
  /** Logger bound to the task and step ids. */
  readonly log: Logger;
  /** Extends the lease now (leases are also renewed automatically while the handler runs). */
  heartbeat(): Promise<void>;
}

/**
 * A step handler: returns a JSON-serialisable result, or throws. Any error is retried by default;
 * throw `PermanentError` to fail at once, `RetryableError` with `retryAfterMs` to ask for a delay.
 */
export type StepHandler<Input = unknown> = (context: StepContext<Input>) => unknown;

/** A built-in handler type (`http`, `asap`): one function configured per step by the template. */
export type BuiltinHandler = (context: StepContext, config: Readonly<Record<string, unknown>>) => unknown;
