import type { Logger } from 'pino';
import type { HttpClient } from '../client/index.ts';
import type { TaskState } from '../state/index.ts';
import type { ErrorDetail } from '../util/errors.ts';

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
  readonly step: {
    readonly name: string;
    /** Attempt number in this run, starting at 1 (a replay starts again from 1). */
    readonly attempt: number;
    readonly maxAttempts: number;
    /**
     * How many times a task replay has reset this step to run again: 0 on the first run, then 1,
     * 2, … Retries within a run keep the same value. Derive idempotency keys for side effects
     * from it, e.g. `${ctx.task.id}/${ctx.step.name}/r${ctx.step.replays}`, so that retries
     * re-attach to the same remote operation while a replay starts a new one.
     */
    readonly replays: number;
  };
  /** Attempt number, starting at 1. */
  readonly attempt: number;
  /** Aborted on timeout, cancellation, lease loss or shutdown; `signal.reason` says which. */
  readonly signal: AbortSignal;
  /** Logger bound to the task and step ids. */
  readonly log: Logger;
  /** Extends the lease now (leases are also renewed automatically while the handler runs). */
  heartbeat(): Promise<void>;
  /**
   * The engine's resilient HTTP client (SPEC §4). Pass `signal` so a cancelled or timed-out step
   * stops its request; prefer `retry: { maxAttempts: 1 }` and let the engine retry the step.
   */
  readonly http: HttpClient;
  /**
   * The task's state snapshots (the ASAP snapshot store, in the engine's database): save what
   * the agent should keep with `state.save(data)`, read it back with `state.get()`; an ASAP
   * `state_restore` makes an earlier snapshot the latest again.
   */
  readonly state: TaskState;
}

/**
 * A step handler: returns a JSON-serialisable result, or throws. Any error is retried by default;
 * throw `PermanentError` to fail at once, `RetryableError` with `retryAfterMs` to ask for a delay.
 */
export type StepHandler<Input = unknown> = (context: StepContext<Input>) => unknown;

/** A built-in step's configuration: the template's `handler` object, `type` included. */
export type BuiltinConfig = Readonly<Record<string, unknown>>;

/**
 * A built-in handler type (`http`, `asap`): one implementation configured per step by the
 * template. The checks run before anything is stored, so a bad configuration fails the template
 * registration (or the task start) with a clear error instead of failing steps at run time.
 */
export interface BuiltinHandler {
  /** Runs one attempt of a step configured with `config`. */
  run(context: StepContext, config: BuiltinConfig): unknown;
  /**
   * Checks a step's configuration when its template is registered. `upstream` names every step
   * that completes before this one (its dependencies, transitively). Paths are relative to the
   * configuration, e.g. `url`.
   */
  checkConfig?(config: BuiltinConfig, step: { name: string; upstream: ReadonlySet<string> }): ErrorDetail[];
  /** Checks a step's configuration against a task's input when the task starts. */
  checkInput?(config: BuiltinConfig, input: unknown): ErrorDetail[];
}
