import { setTimeout as sleepFor } from 'node:timers/promises';
import { SpanKind, SpanStatusCode, type Span, type Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { HttpClient } from '../client/index.ts';
import { failSpan, runInSpan, startSpan } from '../observability/tracing.ts';
import { taskState, type TaskState } from '../state/index.ts';
import { runWithContext } from '../util/context.ts';
import { coerceError } from '../util/errors.ts';
import type { EventRecord, StoredError } from '../storage/records.ts';
import type { ClaimedStep, LeaseRef, Store } from '../storage/store.ts';
import type { CircuitBreakers } from './circuit.ts';
import { classifyFailure, PermanentError } from './errors.ts';
import type { StepContext } from './handler.ts';
import type { HandlerRegistry } from './registry.ts';
import { planLeaseExpiry, planOutcomes, type PlanContext, type StepOutcome } from './transitions.ts';

export interface WorkerOptions {
  workerId: string;
  concurrency: number;
  leaseMs: number;
  heartbeatMs: number;
  pollIntervalMs: number;
}

export interface WorkerDeps {
  store: Store;
  handlers: HandlerRegistry;
  circuits: CircuitBreakers;
  logger: Logger;
  now: () => number;
  planContext: () => PlanContext;
  /** Called with committed events, in order. */
  publish: (events: EventRecord[]) => void;
  /** The engine's HTTP client, made on first use. */
  http: () => HttpClient;
  /** Set when tracing is on: each step attempt gets a `baton.step` span. */
  tracer?: Tracer | undefined;
}

/** Shortest idle sleep: even when a retry is due "now", give the event loop a turn. */
const MIN_IDLE_MS = 1;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Why a running step's signal was aborted. */
type AbortKind = 'timeout' | 'cancelled' | 'lease_lost' | 'shutdown';

class StepAbort extends Error {
  readonly kind: AbortKind;
  constructor(kind: AbortKind, message: string) {
    super(message);
    this.name = kind === 'timeout' ? 'TimeoutError' : 'AbortError';
    this.kind = kind;
  }
}

interface RunningStep {
  claim: ClaimedStep;
  lease: LeaseRef;
  controller: AbortController;
  /** Set when the outcome must not be reported (cancelled, lease lost, released at shutdown). */
  discarded: boolean;
  done: Promise<void>;
}

/**
 * Claims runnable steps in batches, runs them with at most `concurrency` at once, and reports
 * outcomes in batches: everything that finished in the same turn of the event loop is written in
 * one transaction. Leases are renewed for all running steps by one timer; expired leases of
 * crashed workers are recovered by a second one.
 */
export class WorkerPool {
  readonly options: WorkerOptions;
  readonly #deps: WorkerDeps;
  readonly #running = new Map<number, RunningStep>();
  #outcomes: { taskId: string; outcome: StepOutcome; handler: string }[] = [];
  #flushScheduled = false;
  #flushing: Promise<void> = Promise.resolve();
  #state: 'running' | 'stopping' | 'stopped' = 'stopped';
  #wakeRequested = false;
  #wake: (() => void) | undefined;
  #loop: Promise<void> = Promise.resolve();
  #timers: NodeJS.Timeout[] = [];

  constructor(options: WorkerOptions, deps: WorkerDeps) {
    this.options = options;
    this.#deps = deps;
  }

  get isRunning(): boolean {
    return this.#state === 'running';
  }

  get activeCount(): number {
    return this.#running.size;
  }

  start(): void {
    if (this.#state !== 'stopped') return;
    this.#state = 'running';
    this.#timers = [
      setInterval(() => void this.#renewLeases(), this.options.heartbeatMs),
      setInterval(() => void this.#recoverExpiredLeases(), Math.max(this.options.leaseMs / 2, 50)),
    ];
    void this.#recoverExpiredLeases();
    this.#loop = this.#claimLoop();
  }

  /** Tells the pool new work may be runnable now (a task was created or a step became ready). */
  notify(): void {
    this.#wakeRequested = true;
    this.#wake?.();
  }

  /**
   * Graceful shutdown (SPEC §2.5): stop claiming, let running steps finish until the deadline,
   * then abort the rest and give them back without counting the attempt.
   */
  async stop(timeoutMs: number): Promise<void> {
    if (this.#state !== 'running') return;
    this.#state = 'stopping';
    this.notify();
    await this.#loop;
    const finished = Promise.all([...this.#running.values()].map((step) => step.done));
    const deadline = new AbortController();
    await Promise.race([
      finished,
      sleepFor(timeoutMs, undefined, { signal: deadline.signal }).catch(() => {}),
    ]);
    deadline.abort();
    this.#releaseRunning('shutdown: released before the deadline');
    await this.#flush();
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    this.#state = 'stopped';
  }

  /** Aborts this process's running steps of a task (after it was cancelled). */
  abortTask(taskId: string): void {
    for (const step of this.#running.values()) {
      if (step.lease.taskId !== taskId) continue;
      step.discarded = true;
      step.controller.abort(new StepAbort('cancelled', 'the task was cancelled'));
    }
  }

  // ── claiming ───────────────────────────────────────────────────────────────

  async #claimLoop(): Promise<void> {
    while (this.#state === 'running') {
      this.#wakeRequested = false;
      try {
        const claimed = await this.#claim();
        // Yield to the event loop between batches: steps, flushes, heartbeats and servers share it.
        if (claimed > 0) await yieldToEventLoop();
        else await this.#sleep(Math.max(MIN_IDLE_MS, await this.#idleDelay()));
      } catch (error) {
        this.#deps.logger.error({ err: error }, 'engine.worker.claim_failed');
        await this.#sleep(this.options.pollIntervalMs);
      }
    }
  }

  async #claim(): Promise<number> {
    const free = this.options.concurrency - this.#running.size;
    if (free <= 0) return 0;
    const { circuits } = this.#deps;
    let claimed = 0;
    for (const handler of circuits.probeCandidates()) {
      if (claimed >= free) break;
      const probe = await this.#claimBatch([handler], 1);
      if (probe > 0) circuits.startProbe(handler);
      claimed += probe;
    }
    if (claimed < free) claimed += await this.#claimBatch(this.#runnableHandlers(), free - claimed);
    return claimed;
  }

  /** Handlers whose steps this process may claim in bulk: registered here, circuit closed. */
  #runnableHandlers(): string[] {
    const keys = this.#deps.handlers.keys();
    const blocked = this.#deps.circuits.blocked();
    return blocked.size === 0 ? keys : keys.filter((key) => !blocked.has(key));
  }

  async #claimBatch(handlerKeys: string[], limit: number): Promise<number> {
    const { store, now, publish } = this.#deps;
    const { claimed, events } = await store.claimSteps({
      workerId: this.options.workerId,
      limit,
      handlers: handlerKeys,
      now: now(),
      leaseMs: this.options.leaseMs,
    });
    publish(events);
    for (const claim of claimed) this.#execute(claim);
    return claimed.length;
  }

  /** How long to sleep when nothing was claimable: until the next retry is due, at most one poll. */
  async #idleDelay(): Promise<number> {
    if (this.#running.size >= this.options.concurrency) return this.options.pollIntervalMs;
    const { store, circuits, now } = this.#deps;
    const candidates = [await store.nextRunAt(this.#runnableHandlers()), circuits.nextProbeAt()].filter(
      (at): at is number => at !== null,
    );
    const nextAt = Math.min(...candidates, now() + this.options.pollIntervalMs);
    return Math.max(0, nextAt - now());
  }

  async #sleep(ms: number): Promise<void> {
    if (this.#wakeRequested || this.#state !== 'running' || ms <= 0) return;
    const wake = new AbortController();
    this.#wake = () => wake.abort();
    try {
      await sleepFor(ms, undefined, { signal: wake.signal });
    } catch {
      // woken early: new work, a finished step, or shutdown
    } finally {
      this.#wake = undefined;
    }
  }

  // ── running a step ─────────────────────────────────────────────────────────

  #execute(claim: ClaimedStep): void {
    const { step } = claim;
    const controller = new AbortController();
    const lease: LeaseRef = { stepId: step.id, taskId: step.taskId, attempt: step.attempts };
    const running: RunningStep = { claim, lease, controller, discarded: false, done: Promise.resolve() };
    this.#running.set(step.id, running);
    running.done = this.#runInStepContext(running).finally(() => {
      this.#running.delete(step.id);
      this.notify();
    });
  }

  /**
   * `#run` with the step's ids in the ambient context (src/util/context.ts): every line logged
   * and every outbound call made meanwhile carries the task id (also its correlation id), the
   * step, and the task's trace.
   */
  #runInStepContext(running: RunningStep): Promise<void> {
    const { step, task } = running.claim;
    const context = {
      taskId: task.id,
      step: step.name,
      correlationId: task.id,
      envelopeId: undefined,
      // The task's trace until the step's span (if tracing is on) takes over: same trace id.
      traceparent: task.traceparent ?? undefined,
    };
    return runWithContext(context, () => {
      const { logger } = this.#deps;
      if (logger.isLevelEnabled('debug')) {
        logger.debug({ attempt: step.attempts, handler: step.handler }, 'engine.step.started');
      }
      return this.#run(running);
    });
  }

  async #run(running: RunningStep): Promise<void> {
    const { claim, controller } = running;
    const timeoutMs = claim.step.spec.timeout_ms;
    const timer =
      timeoutMs === null
        ? undefined
        : setTimeout(
            () => controller.abort(new StepAbort('timeout', `step timed out after ${timeoutMs} ms`)),
            timeoutMs,
          );
    const span = this.#deps.tracer === undefined ? undefined : this.#stepSpan(this.#deps.tracer, claim);
    let outcome: StepOutcome;
    try {
      const result = await untilAborted(this.#invokeInTrace(running, span), controller.signal);
      outcome = {
        kind: 'completed',
        stepId: running.lease.stepId,
        attempt: running.lease.attempt,
        result: toJsonValue(result),
      };
    } catch (thrown) {
      outcome = this.#failureOutcome(running, thrown);
    } finally {
      clearTimeout(timer);
    }
    if (span !== undefined) endStepSpan(span, outcome, running.discarded);
    if (!running.discarded) this.#report(running, outcome);
  }

  /**
   * The `baton.step` span of an attempt: a child of the task's span (its stored traceparent), so
   * the steps of a task share its trace whichever process runs them.
   */
  #stepSpan(tracer: Tracer, claim: ClaimedStep): Span {
    const { step, task } = claim;
    return startSpan(
      tracer,
      `baton.step ${step.name}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          'baton.task.id': task.id,
          'baton.task.template': `${task.namespace}.${task.name}`,
          'baton.step.name': step.name,
          'baton.step.attempt': step.attempts,
          'baton.step.handler': step.handler,
          'baton.worker.id': this.options.workerId,
        },
      },
      claim.task.traceparent ?? undefined,
    );
  }

  /**
   * Runs the handler in the step's span; without tracing, in the task's stored trace when it has
   * one (so its outbound calls still continue that trace), else as is.
   */
  #invokeInTrace(running: RunningStep, span: Span | undefined): Promise<unknown> {
    if (span !== undefined) return runInSpan(span, () => this.#invoke(running));
    const traceparent = running.claim.task.traceparent;
    if (traceparent === null) return this.#invoke(running);
    return runWithContext({ traceparent }, () => this.#invoke(running));
  }

  #invoke(running: RunningStep): Promise<unknown> {
    const { claim, controller, lease } = running;
    const { step, task } = claim;
    const handler = this.#deps.handlers.byKey(step.handler);
    const builtin = step.spec.handler_config
      ? this.#deps.handlers.builtin(String(step.spec.handler_config.type))
      : undefined;
    const { logger, http, store } = this.#deps;
    let log: Logger | undefined;
    let state: TaskState | undefined;
    const context: StepContext = {
      input: task.input,
      results: claim.results,
      task: { id: task.id, namespace: task.namespace, name: task.name, version: task.version },
      step: {
        name: step.name,
        attempt: step.attempts,
        maxAttempts: step.spec.retry.max_attempts,
        replays: step.replays,
      },
      attempt: step.attempts,
      signal: controller.signal,
      // Built on first use: most handlers never log, and a child logger per step is not free.
      get log() {
        // task_id and step come from the ambient context (`#runInStepContext`).
        return (log ??= logger.child({ attempt: step.attempts }));
      },
      heartbeat: () => this.#renew([lease]),
      get http() {
        return http();
      },
      get state() {
        return (state ??= taskState(store.state.snapshots, task.id));
      },
    };
    return Promise.resolve().then(() => {
      if (builtin && step.spec.handler_config) return builtin.run(context, step.spec.handler_config);
      if (handler) return handler.handler(context);
      throw new PermanentError(`no handler registered for ${step.handler} in this process`);
    });
  }

  #failureOutcome(running: RunningStep, thrown: unknown): StepOutcome {
    const { stepId, attempt } = running.lease;
    const error = coerceError(thrown);
    const aborted = thrown instanceof StepAbort ? thrown : undefined;
    const { retryable, retryAfterMs } = aborted
      ? { retryable: true, retryAfterMs: undefined }
      : classifyFailure(error);
    return {
      kind: 'failed',
      stepId,
      attempt,
      error: toStoredError(error, retryable),
      retryable,
      retryAfterMs,
      reason: aborted?.kind ?? 'error',
    };
  }

  // ── reporting outcomes ─────────────────────────────────────────────────────

  #report(running: RunningStep, outcome: StepOutcome): void {
    this.#outcomes.push({ taskId: running.lease.taskId, outcome, handler: running.claim.step.handler });
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      void this.#flush();
    });
  }

  /** Writes every queued outcome in one transaction; one flush at a time, in order. */
  #flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#writeOutcomes());
    return this.#flushing;
  }

  async #writeOutcomes(): Promise<void> {
    const batch = this.#outcomes;
    if (batch.length === 0) return;
    this.#outcomes = [];
    const byTask = new Map<string, StepOutcome[]>();
    for (const { taskId, outcome } of batch) {
      const list = byTask.get(taskId);
      if (list) list.push(outcome);
      else byTask.set(taskId, [outcome]);
    }
    const context = this.#deps.planContext();
    try {
      const events = await this.#deps.store.updateTasks([...byTask.keys()], (state) =>
        planOutcomes(state, byTask.get(state.task.id) ?? [], context),
      );
      this.#deps.publish(events);
      this.#recordCircuits(batch);
      this.notify(); // dependents may be ready now
    } catch (error) {
      // Outcomes are idempotent (guarded by attempt), so they can be written again later.
      this.#deps.logger.error({ err: error, outcomes: batch.length }, 'engine.worker.report_failed');
      this.#outcomes.unshift(...batch);
      setTimeout(() => void this.#flush(), this.options.pollIntervalMs).unref();
    }
  }

  #recordCircuits(batch: readonly { outcome: StepOutcome; handler: string }[]): void {
    const { circuits } = this.#deps;
    for (const { outcome, handler } of batch) {
      if (outcome.kind === 'completed') circuits.recordSuccess(handler);
      // A permanent error is the caller's problem (bad input), not a sign the handler is down.
      else if (outcome.kind === 'failed' && outcome.retryable) circuits.recordFailure(handler);
    }
  }

  #releaseRunning(reason: string): void {
    const now = this.#deps.now();
    for (const running of this.#running.values()) {
      if (running.discarded) continue;
      running.discarded = true;
      running.controller.abort(new StepAbort('shutdown', 'the worker is shutting down'));
      const { stepId, attempt } = running.lease;
      this.#outcomes.push({
        taskId: running.lease.taskId,
        outcome: { kind: 'released', stepId, attempt, reason, runAt: now },
        handler: running.claim.step.handler,
      });
    }
  }

  // ── leases ─────────────────────────────────────────────────────────────────

  async #renewLeases(): Promise<void> {
    await this.#renew(
      [...this.#running.values()].filter((step) => !step.discarded).map((step) => step.lease),
    );
  }

  async #renew(leases: LeaseRef[]): Promise<void> {
    if (leases.length === 0) return;
    try {
      const until = this.#deps.now() + this.options.leaseMs;
      const lost = await this.#deps.store.renewLeases(this.options.workerId, leases, until);
      for (const lease of lost) this.#abortLost(lease);
    } catch (error) {
      this.#deps.logger.warn({ err: error }, 'engine.worker.heartbeat_failed');
    }
  }

  /** The step was cancelled, finished elsewhere, or recovered after our lease expired: stop it. */
  #abortLost(lease: LeaseRef): void {
    const running = this.#running.get(lease.stepId);
    if (!running || running.lease.attempt !== lease.attempt) return;
    running.discarded = true;
    running.controller.abort(new StepAbort('lease_lost', 'the step is no longer leased to this worker'));
  }

  async #recoverExpiredLeases(): Promise<void> {
    if (this.#state !== 'running') return;
    try {
      const { store, now } = this.#deps;
      const expired = await store.findExpiredLeases(now(), 500);
      if (expired.length === 0) return;
      const context = this.#deps.planContext();
      const events = await store.updateTasks(
        expired.map((lease) => lease.taskId),
        (state) =>
          planLeaseExpiry(
            state,
            expired.filter((lease) => lease.taskId === state.task.id),
            context,
          ),
      );
      this.#deps.publish(events);
      if (events.length > 0) this.notify();
    } catch (error) {
      this.#deps.logger.error({ err: error }, 'engine.worker.lease_recovery_failed');
    }
  }
}

/** Ends a step span with its outcome: error status for a failure, `discarded` when it no longer counts. */
function endStepSpan(span: Span, outcome: StepOutcome, discarded: boolean): void {
  if (outcome.kind === 'failed') {
    span.setAttribute('baton.step.outcome', outcome.reason);
    span.setAttribute('baton.step.retryable', outcome.retryable);
    if (discarded) {
      span.setAttribute('baton.step.discarded', true);
      span.end();
      return;
    }
    failSpan(
      span,
      Object.assign(new Error(outcome.error.message), { name: outcome.error.name, code: outcome.error.code }),
    );
    return;
  }
  span.setAttribute('baton.step.outcome', outcome.kind);
  if (discarded) span.setAttribute('baton.step.discarded', true);
  else span.setStatus({ code: SpanStatusCode.OK });
  span.end();
}

/** Resolves with the work, or rejects with the signal's reason as soon as it is aborted. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Normalises a handler's result to JSON (Dates become strings); refuses what JSON cannot hold. */
function toJsonValue(result: unknown): unknown {
  if (result === undefined || result === null) return null;
  if (typeof result === 'string' || typeof result === 'number' || typeof result === 'boolean') return result;
  let text: string | undefined;
  try {
    text = JSON.stringify(result);
  } catch (error) {
    throw new PermanentError(`the step result is not JSON-serialisable: ${coerceError(error).message}`);
  }
  if (text === undefined) throw new PermanentError('the step result is not JSON-serialisable');
  return JSON.parse(text);
}

function toStoredError(error: Error, retryable: boolean): StoredError {
  const code = (error as { code?: unknown }).code;
  return {
    name: error.name,
    message: error.message,
    ...(typeof code === 'string' ? { code } : {}),
    retryable,
  };
}
