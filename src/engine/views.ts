import type {
  DeadLetterRow,
  EventRecord,
  StepRow,
  StoredError,
  TaskRow,
  TaskState,
} from '../storage/records.ts';

/**
 * The public shapes of tasks, steps, events and dead letters: the same JSON the engine API returns
 * and the REST API sends (SPEC §5), so field names are fixed (snake_case) and times are ISO 8601.
 */

export interface StepView {
  name: string;
  handler: string;
  /** A ready step that already failed an attempt is shown as `retrying`. */
  status: StepRow['status'] | 'retrying';
  depends_on: string[];
  attempts: number;
  max_attempts: number;
  run_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  result: unknown;
  error: StoredError | null;
}

export interface HistoryEntry {
  at: string;
  step: string | null;
  from: string | null;
  to: string;
  reason: string | null;
  attempt: number | null;
  error: StoredError | null;
}

export interface TaskView {
  id: string;
  /** `namespace.name` */
  template: string;
  namespace: string;
  version: string;
  status: TaskRow['status'];
  input: unknown;
  /** Each leaf step's result, by step name. */
  result: Record<string, unknown> | null;
  error: StoredError | null;
  idempotency_key: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  steps: StepView[];
  history?: HistoryEntry[];
}

/** A task row without its steps, as listed. */
export type TaskSummary = Omit<TaskView, 'steps' | 'history' | 'result'>;

export interface BatonEvent {
  seq: number;
  type: EventRecord['type'];
  task_id: string | null;
  step: string | null;
  from: string | null;
  to: string | null;
  reason: string | null;
  attempt: number | null;
  error: StoredError | null;
  data: Record<string, unknown> | null;
  at: string;
}

export interface DeadLetterView {
  id: string;
  task_id: string;
  step: string;
  error: StoredError | null;
  attempts: number;
  created_at: string;
  closed_at: string | null;
}

function iso(ms: number): string;
function iso(ms: number | null): string | null;
function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function handlerLabel(handlerKey: string): string {
  return handlerKey.startsWith('builtin:') ? handlerKey.slice('builtin:'.length) : handlerKey;
}

function toStepView(step: StepRow): StepView {
  return {
    name: step.name,
    handler: handlerLabel(step.handler),
    status: step.status === 'ready' && step.attempts > 0 ? 'retrying' : step.status,
    depends_on: step.spec.depends_on,
    attempts: step.attempts,
    max_attempts: step.spec.retry.max_attempts,
    run_at: iso(step.runAt),
    started_at: iso(step.startedAt),
    finished_at: iso(step.finishedAt),
    result: step.result ?? null,
    error: step.error,
  };
}

export function toTaskSummary(task: TaskRow): TaskSummary {
  return {
    id: task.id,
    template: `${task.namespace}.${task.name}`,
    namespace: task.namespace,
    version: task.version,
    status: task.status,
    input: task.input,
    error: task.error,
    idempotency_key: task.idempotencyKey,
    created_at: iso(task.createdAt),
    started_at: iso(task.startedAt),
    finished_at: iso(task.finishedAt),
  };
}

export function toTaskView(state: TaskState, events?: readonly EventRecord[]): TaskView {
  const view: TaskView = {
    ...toTaskSummary(state.task),
    result: leafResults(state),
    steps: state.steps.map(toStepView),
  };
  if (events) view.history = events.filter((event) => event.to !== null).map(toHistoryEntry);
  return view;
}

/** SPEC §5: `task.result` maps each leaf step (no dependents) to its result, once the task completed. */
function leafResults(state: TaskState): Record<string, unknown> | null {
  if (state.task.status !== 'completed') return null;
  const hasDependents = new Set(state.steps.flatMap((step) => step.spec.depends_on));
  const result: Record<string, unknown> = {};
  for (const step of state.steps) if (!hasDependents.has(step.name)) result[step.name] = step.result ?? null;
  return result;
}

function toHistoryEntry(event: EventRecord): HistoryEntry {
  return {
    at: iso(event.at),
    step: event.step,
    from: event.from,
    to: event.to!,
    reason: event.reason,
    attempt: event.attempt,
    error: event.error,
  };
}

export function toEventView(event: EventRecord): BatonEvent {
  return {
    seq: event.seq,
    type: event.type,
    task_id: event.taskId,
    step: event.step,
    from: event.from,
    to: event.to,
    reason: event.reason,
    attempt: event.attempt,
    error: event.error,
    data: event.data,
    at: iso(event.at),
  };
}

export function toDeadLetterView(entry: DeadLetterRow): DeadLetterView {
  return {
    id: entry.id,
    task_id: entry.taskId,
    step: entry.step,
    error: entry.error,
    attempts: entry.attempts,
    created_at: iso(entry.createdAt),
    closed_at: iso(entry.closedAt),
  };
}
