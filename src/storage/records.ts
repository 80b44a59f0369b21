/**
 * The rows every store keeps. Engine logic works on these plain records; stores only read and
 * write them. Times are epoch milliseconds; JSON fields hold already-parsed values.
 */

import type { BackoffPolicy } from '../util/backoff.ts';

export type { BackoffPolicy };

export const TASK_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const STEP_STATUSES = [
  'pending',
  'ready',
  'running',
  'completed',
  'failed',
  'cancelled',
  'skipped',
  'resolved',
] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const TERMINAL_TASK_STATUSES: ReadonlySet<TaskStatus> = new Set(['completed', 'failed', 'cancelled']);

/** A step error as stored and shown: never a stack trace, never a secret. */
export interface StoredError {
  name: string;
  message: string;
  code?: string;
  retryable?: boolean;
}

export interface RetryPolicy {
  max_attempts: number;
  backoff: BackoffPolicy;
  max_retry_after_ms: number;
}

/** Everything needed to run a step, frozen into the row at task creation. */
export interface StepSpec {
  depends_on: string[];
  retry: RetryPolicy;
  retryable: boolean;
  timeout_ms: number | null;
  /** Configuration of a built-in handler (`{type: 'http', …}`), else null. */
  handler_config: Record<string, unknown> | null;
  description?: string;
}

export interface TaskRow {
  id: string;
  namespace: string;
  name: string;
  version: string;
  status: TaskStatus;
  input: unknown;
  error: StoredError | null;
  idempotencyKey: string | null;
  /** The W3C traceparent its steps' spans continue (set when tracing was on at creation). */
  traceparent: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  updatedAt: number;
}

export interface StepRow {
  id: number;
  taskId: string;
  /** Topological position in the task: dependencies always come first. */
  position: number;
  name: string;
  /** Resolved handler key: `namespace/name@version`, or `builtin:<type>`. */
  handler: string;
  spec: StepSpec;
  status: StepStatus;
  /** Attempts in the current run; a replay starts again from 0. */
  attempts: number;
  /**
   * How many times a task replay has reset this step to run again: 0 on its first run. Retries
   * within a run keep it, so it tells a replayed run from a retried attempt (ctx.step.replays).
   */
  replays: number;
  runAt: number | null;
  leaseOwner: string | null;
  leaseUntil: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  result: unknown;
  error: StoredError | null;
}

export interface TaskState {
  task: TaskRow;
  /** In topological order. */
  steps: StepRow[];
}

export const EVENT_TYPES = [
  'task.created',
  'task.started',
  'task.completed',
  'task.failed',
  'task.cancelled',
  'task.replayed',
  'task.resumed',
  'step.ready',
  'step.started',
  'step.completed',
  'step.failed',
  'step.retry_scheduled',
  'step.skipped',
  'step.resolved',
  'step.cancelled',
  'step.deferred',
  'step.reset',
  'dlq.added',
  'circuit.opened',
  'circuit.half_opened',
  'circuit.closed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** One change: an event for subscribers and, when `to` is set, a row of the task's history. */
export interface EventDraft {
  type: EventType;
  taskId: string | null;
  step: string | null;
  from: string | null;
  to: string | null;
  reason: string | null;
  attempt: number | null;
  error: StoredError | null;
  data: Record<string, unknown> | null;
  at: number;
}

export interface EventRecord extends EventDraft {
  /** Global order of the event log; used to resume streams (`Last-Event-ID`). */
  seq: number;
}

export interface DeadLetterRow {
  id: string;
  taskId: string;
  step: string;
  error: StoredError | null;
  attempts: number;
  createdAt: number;
  closedAt: number | null;
}
