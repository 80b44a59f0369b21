import { ConflictError, NotFoundError } from '../util/errors.ts';
import type {
  DeadLetterRow,
  EventDraft,
  EventType,
  StepRow,
  StepStatus,
  StoredError,
  TaskRow,
  TaskState,
  TaskStatus,
} from '../storage/records.ts';
import type { TaskChange } from '../storage/store.ts';
import { retryDelayMs } from './retry.ts';

/**
 * The engine's state machine (SPEC §2.3–2.7) as pure functions: given a task's state (read under
 * its lock) and what happened, decide the new rows and the events. No I/O here, so every rule is
 * unit-testable and every store applies the same logic.
 */

export interface PlanContext {
  now: number;
  newId: () => string;
  random?: () => number;
}

/** What a worker reports about one attempt of one step. */
export type StepOutcome =
  | { kind: 'completed'; stepId: number; attempt: number; result: unknown }
  | {
      kind: 'failed';
      stepId: number;
      attempt: number;
      error: StoredError;
      retryable: boolean;
      retryAfterMs?: number | undefined;
      /** Why the attempt failed: `error`, `timeout`, `lease_expired`. */
      reason: string;
    }
  /** Given back without counting the attempt (shutdown, open circuit). */
  | { kind: 'released'; stepId: number; attempt: number; reason: string; runAt: number };

const SATISFIED: ReadonlySet<StepStatus> = new Set(['completed', 'resolved']);
const BLOCKING: ReadonlySet<StepStatus> = new Set(['failed', 'skipped', 'cancelled']);
const ACTIVE: ReadonlySet<StepStatus> = new Set(['pending', 'ready', 'running']);
const TERMINAL_TASK: ReadonlySet<TaskStatus> = new Set(['completed', 'failed', 'cancelled']);

/** A mutable working copy of one task's state that records what changed. */
class TaskDraft {
  task: TaskRow;
  readonly steps: StepRow[];
  readonly #byName = new Map<string, StepRow>();
  readonly #changed = new Set<StepRow>();
  #taskChanged = false;
  readonly events: EventDraft[] = [];
  deadLetter: DeadLetterRow | undefined;
  closeDeadLetters = false;

  readonly context: PlanContext;

  constructor(state: TaskState, context: PlanContext) {
    this.context = context;
    this.task = { ...state.task };
    this.steps = state.steps.map((step) => ({ ...step }));
    for (const step of this.steps) this.#byName.set(step.name, step);
  }

  get now(): number {
    return this.context.now;
  }

  step(name: string): StepRow | undefined {
    return this.#byName.get(name);
  }

  stepById(id: number): StepRow | undefined {
    return this.steps.find((step) => step.id === id);
  }

  updateStep(
    step: StepRow,
    patch: Partial<StepRow>,
    event: Omit<EventDraft, 'taskId' | 'step' | 'at'>,
  ): void {
    Object.assign(step, patch);
    this.#changed.add(step);
    this.events.push({ ...event, taskId: step.taskId, step: step.name, at: this.now });
  }

  updateTask(patch: Partial<TaskRow>, event: Omit<EventDraft, 'taskId' | 'step' | 'at'>): void {
    Object.assign(this.task, patch);
    this.#taskChanged = true;
    this.events.push({ ...event, taskId: this.task.id, step: null, at: this.now });
  }

  toChange(): TaskChange | null {
    if (!this.#taskChanged && this.#changed.size === 0 && !this.deadLetter) return null;
    return {
      task: { ...this.task, updatedAt: this.now },
      steps: [...this.#changed],
      events: this.events,
      ...(this.deadLetter ? { deadLetter: this.deadLetter } : {}),
      ...(this.closeDeadLetters ? { closeDeadLetters: true } : {}),
    };
  }
}

function transition(
  type: EventType,
  from: string,
  to: string,
  reason: string | null,
  extra: Partial<Pick<EventDraft, 'attempt' | 'error' | 'data'>> = {},
): Omit<EventDraft, 'taskId' | 'step' | 'at'> {
  return {
    type,
    from,
    to,
    reason,
    attempt: extra.attempt ?? null,
    error: extra.error ?? null,
    data: extra.data ?? null,
  };
}

const RELEASED_LEASE = { leaseOwner: null, leaseUntil: null } as const;

// ── step outcomes ────────────────────────────────────────────────────────────

/** Applies worker outcomes for one task; stale outcomes (old attempt, step no longer running) are ignored. */
export function planOutcomes(
  state: TaskState,
  outcomes: readonly StepOutcome[],
  context: PlanContext,
): TaskChange | null {
  const draft = new TaskDraft(state, context);
  let applied = false;
  for (const outcome of outcomes) applied = applyOutcome(draft, outcome) || applied;
  if (!applied) return null;
  settle(draft);
  return draft.toChange();
}

/** Applies one outcome; false when it is stale (another attempt, or the step is no longer running). */
function applyOutcome(draft: TaskDraft, outcome: StepOutcome): boolean {
  const step = draft.stepById(outcome.stepId);
  if (!step || step.status !== 'running' || step.attempts !== outcome.attempt) return false;
  applyFreshOutcome(draft, step, outcome);
  return true;
}

function applyFreshOutcome(draft: TaskDraft, step: StepRow, outcome: StepOutcome): void {
  switch (outcome.kind) {
    case 'completed':
      return completeStep(draft, step, outcome.result);
    case 'failed':
      return failAttempt(draft, step, outcome);
    case 'released':
      return releaseStep(draft, step, outcome.reason, outcome.runAt);
    default:
      return assertNever(outcome);
  }
}

function completeStep(draft: TaskDraft, step: StepRow, result: unknown): void {
  const durationMs = step.startedAt === null ? null : draft.now - step.startedAt;
  draft.updateStep(
    step,
    { status: 'completed', result, error: null, finishedAt: draft.now, ...RELEASED_LEASE },
    transition('step.completed', 'running', 'completed', null, {
      attempt: step.attempts,
      data: { duration_ms: durationMs },
    }),
  );
}

function failAttempt(
  draft: TaskDraft,
  step: StepRow,
  outcome: Extract<StepOutcome, { kind: 'failed' }>,
): void {
  const policy = step.spec.retry;
  const canRetry = outcome.retryable && step.spec.retryable && step.attempts < policy.max_attempts;
  if (canRetry) {
    const delayMs = retryDelayMs(policy, step.attempts, outcome.retryAfterMs, draft.context.random);
    const runAt = draft.now + delayMs;
    draft.updateStep(
      step,
      { status: 'ready', runAt, error: outcome.error, ...RELEASED_LEASE },
      transition('step.retry_scheduled', 'running', 'ready', outcome.reason, {
        attempt: step.attempts,
        error: outcome.error,
        data: { delay_ms: delayMs, run_at: runAt, retry_after_ms: outcome.retryAfterMs ?? null },
      }),
    );
    return;
  }
  const reason =
    !outcome.retryable || !step.spec.retryable
      ? `${outcome.reason}: not retryable`
      : `${outcome.reason}: attempts exhausted`;
  draft.updateStep(
    step,
    { status: 'failed', error: outcome.error, finishedAt: draft.now, ...RELEASED_LEASE },
    transition('step.failed', 'running', 'failed', reason, { attempt: step.attempts, error: outcome.error }),
  );
}

function releaseStep(draft: TaskDraft, step: StepRow, reason: string, runAt: number): void {
  draft.updateStep(
    step,
    { status: 'ready', attempts: step.attempts - 1, runAt, ...RELEASED_LEASE },
    transition('step.deferred', 'running', 'ready', reason, {
      attempt: step.attempts,
      data: { run_at: runAt },
    }),
  );
}

/** An expired lease counts as a failed, retryable attempt (the worker crashed or hung). */
export function planLeaseExpiry(
  state: TaskState,
  leases: readonly { stepId: number; attempt: number }[],
  context: PlanContext,
): TaskChange | null {
  const outcomes: StepOutcome[] = [];
  for (const lease of leases) {
    const step = state.steps.find((candidate) => candidate.id === lease.stepId);
    if (!step || step.leaseUntil === null || step.leaseUntil >= context.now) continue;
    outcomes.push({
      kind: 'failed',
      stepId: lease.stepId,
      attempt: lease.attempt,
      reason: 'lease_expired',
      retryable: true,
      error: {
        name: 'LeaseExpiredError',
        message: `the worker running this step (${step.leaseOwner ?? 'unknown'}) stopped renewing its lease`,
        code: 'lease_expired',
      },
    });
  }
  return outcomes.length === 0 ? null : planOutcomes(state, outcomes, context);
}

// ── propagation and task completion ─────────────────────────────────────────

/**
 * Moves pending steps forward (ready when every dependency is satisfied, skipped when one can never
 * be) and finishes the task when nothing is left to run. Steps are in topological order, so one
 * pass sees every dependency's final status.
 */
function settle(draft: TaskDraft): void {
  if (TERMINAL_TASK.has(draft.task.status)) return;
  for (const step of draft.steps) {
    if (step.status !== 'pending') continue;
    const dependencies = step.spec.depends_on.map((name) => draft.step(name)!);
    const blocker = dependencies.find((dependency) => BLOCKING.has(dependency.status));
    if (blocker) {
      draft.updateStep(
        step,
        { status: 'skipped', finishedAt: draft.now },
        transition('step.skipped', 'pending', 'skipped', `dependency ${blocker.name} ${blocker.status}`),
      );
    } else if (dependencies.every((dependency) => SATISFIED.has(dependency.status))) {
      draft.updateStep(
        step,
        { status: 'ready', runAt: draft.now },
        transition('step.ready', 'pending', 'ready', null),
      );
    }
  }
  finishIfDone(draft);
}

function finishIfDone(draft: TaskDraft): void {
  if (TERMINAL_TASK.has(draft.task.status)) return;
  if (draft.steps.some((step) => ACTIVE.has(step.status))) return;
  const from = draft.task.status;
  if (draft.steps.every((step) => SATISFIED.has(step.status))) {
    draft.updateTask(
      { status: 'completed', finishedAt: draft.now, error: null },
      transition('task.completed', from, 'completed', null),
    );
    return;
  }
  const failed =
    draft.steps.find((step) => step.status === 'failed') ??
    draft.steps.find((step) => BLOCKING.has(step.status))!;
  const error: StoredError = {
    name: 'StepFailedError',
    message: `step ${failed.name} failed: ${failed.error?.message ?? failed.status}`,
    code: 'step_failed',
  };
  draft.updateTask(
    { status: 'failed', finishedAt: draft.now, error },
    transition('task.failed', from, 'failed', `step ${failed.name} failed`, { error: failed.error }),
  );
  const deadLetterId = draft.context.newId();
  draft.deadLetter = {
    id: deadLetterId,
    taskId: draft.task.id,
    step: failed.name,
    error: failed.error,
    attempts: failed.attempts,
    createdAt: draft.now,
    closedAt: null,
  };
  draft.events.push({
    type: 'dlq.added',
    taskId: draft.task.id,
    step: failed.name,
    from: null,
    to: null,
    reason: null,
    attempt: failed.attempts,
    error: failed.error,
    data: { dead_letter_id: deadLetterId },
    at: draft.now,
  });
}

// ── new tasks ────────────────────────────────────────────────────────────────

/** Root steps become ready at once; the rest wait for their dependencies. */
export function planNewTask(task: TaskRow, steps: Omit<StepRow, 'id'>[], context: PlanContext): EventDraft[] {
  const events: EventDraft[] = [
    {
      type: 'task.created',
      taskId: task.id,
      step: null,
      from: null,
      to: 'pending',
      reason: null,
      attempt: null,
      error: null,
      data: null,
      at: context.now,
    },
  ];
  for (const step of steps) {
    if (step.spec.depends_on.length > 0) continue;
    step.status = 'ready';
    step.runAt = context.now;
    events.push({
      ...transition('step.ready', 'pending', 'ready', null),
      taskId: task.id,
      step: step.name,
      at: context.now,
    });
  }
  return events;
}

// ── operator actions ─────────────────────────────────────────────────────────

/** SPEC §2.7: pending and ready steps are cancelled; running ones too, so their late results are discarded. */
export function planCancel(
  state: TaskState,
  context: PlanContext,
  reason = 'cancelled by request',
): TaskChange | null {
  const draft = new TaskDraft(state, context);
  if (TERMINAL_TASK.has(draft.task.status)) {
    throw new ConflictError(
      `task ${draft.task.id} is already ${draft.task.status}; only pending or running tasks can be cancelled`,
    );
  }
  for (const step of draft.steps) {
    if (!ACTIVE.has(step.status)) continue;
    draft.updateStep(
      step,
      { status: 'cancelled', finishedAt: draft.now, ...RELEASED_LEASE },
      transition('step.cancelled', step.status, 'cancelled', reason, { attempt: step.attempts || null }),
    );
  }
  draft.updateTask(
    { status: 'cancelled', finishedAt: draft.now },
    transition('task.cancelled', draft.task.status, 'cancelled', reason),
  );
  return draft.toChange();
}

/**
 * SPEC §2.7: re-run the failed and skipped steps with fresh attempts, keeping completed results.
 * Each reset step counts one more replay (`replays`), so its handler can tell the new run from a
 * retry of the old one (the asap builtin derives a new idempotency key from it).
 */
export function planReplay(state: TaskState, context: PlanContext): TaskChange | null {
  const draft = new TaskDraft(state, context);
  if (draft.task.status !== 'failed') {
    throw new ConflictError(
      `task ${draft.task.id} is ${draft.task.status}; only failed tasks can be replayed`,
    );
  }
  for (const step of draft.steps) {
    if (step.status !== 'failed' && step.status !== 'skipped') continue;
    draft.updateStep(
      step,
      {
        status: 'pending',
        attempts: 0,
        replays: step.replays + 1,
        runAt: null,
        startedAt: null,
        finishedAt: null,
        result: null,
        error: null,
      },
      transition('step.reset', step.status, 'pending', 'replay'),
    );
  }
  draft.closeDeadLetters = true;
  draft.updateTask(
    { status: 'running', finishedAt: null, error: null },
    transition('task.replayed', 'failed', 'running', 'replay'),
  );
  settle(draft);
  return draft.toChange();
}

/** SPEC §2.7: an operator marks a failed step as done (optionally with a result); its dependents proceed. */
export function planResolve(
  state: TaskState,
  stepName: string,
  result: unknown,
  context: PlanContext,
): TaskChange | null {
  const draft = new TaskDraft(state, context);
  const step = draft.step(stepName);
  if (!step) throw new NotFoundError(`task ${draft.task.id} has no step named ${stepName}`);
  if (step.status !== 'failed') {
    throw new ConflictError(`step ${stepName} is ${step.status}; only failed steps can be resolved`);
  }
  draft.updateStep(
    step,
    { status: 'resolved', result: result ?? null, finishedAt: draft.now },
    transition('step.resolved', 'failed', 'resolved', 'resolved manually', { attempt: step.attempts }),
  );
  unskipUnblocked(draft);
  if (draft.task.status === 'failed') {
    draft.closeDeadLetters = true;
    draft.updateTask(
      { status: 'running', finishedAt: null, error: null },
      transition('task.resumed', 'failed', 'running', `step ${stepName} resolved`),
    );
  }
  settle(draft);
  return draft.toChange();
}

/** Skipped steps whose dependencies are no longer blocked go back to pending (topological order). */
function unskipUnblocked(draft: TaskDraft): void {
  for (const step of draft.steps) {
    if (step.status !== 'skipped') continue;
    const blocked = step.spec.depends_on.some((name) => BLOCKING.has(draft.step(name)!.status));
    if (!blocked) {
      draft.updateStep(
        step,
        { status: 'pending', finishedAt: null },
        transition('step.reset', 'skipped', 'pending', 'dependency resolved'),
      );
    }
  }
}

function assertNever(value: never): never {
  throw new Error(`Internal error: unhandled outcome ${JSON.stringify(value)}`);
}
