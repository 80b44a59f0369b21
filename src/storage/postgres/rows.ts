import type {
  DeadLetterRow,
  EventDraft,
  EventRecord,
  StepRow,
  StoredError,
  TaskRow,
  TaskStatus,
} from '../records.ts';
import type { Page } from '../store.ts';

/**
 * Rows to statement parameters and back. The pool parses `bigint` to numbers and `jsonb` to
 * values (see `postgres-store.ts`); rows aggregated with `jsonb_agg` arrive in the same shape, so
 * one mapper serves both. JSON goes out as text, because node-postgres would turn a JS array into
 * a PostgreSQL array, not a JSON one.
 */

export type Row = Record<string, unknown>;
export type SqlValue = string | number | null;

/** JSON text for a nullable jsonb column: null and undefined become SQL NULL. */
export function json(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

/**
 * Turns rows of values into one array per column, for `unnest($1::t1[], $2::t2[], …)`: a batch
 * of any size is then one statement with a fixed parameter list (and one prepared plan).
 */
export function columns(rows: readonly SqlValue[][], width: number): SqlValue[][] {
  const out: SqlValue[][] = Array.from({ length: width }, () => []);
  for (const row of rows) for (let i = 0; i < width; i++) out[i]!.push(row[i] ?? null);
  return out;
}

export const TASK_INSERT_WIDTH = 12;
export function taskValues(task: TaskRow): SqlValue[] {
  return [
    task.id,
    task.namespace,
    task.name,
    task.version,
    task.status,
    JSON.stringify(task.input ?? null),
    json(task.error),
    task.idempotencyKey,
    task.createdAt,
    task.startedAt,
    task.finishedAt,
    task.updatedAt,
  ];
}

export const TASK_UPDATE_WIDTH = 6;
export function taskUpdateValues(task: TaskRow): SqlValue[] {
  return [task.id, task.status, json(task.error), task.startedAt, task.finishedAt, task.updatedAt];
}

export const STEP_INSERT_WIDTH = 14;
export function stepInsertValues(step: Omit<StepRow, 'id'>): SqlValue[] {
  return [
    step.taskId,
    step.position,
    step.name,
    step.handler,
    JSON.stringify(step.spec),
    ...mutableStepValues(step),
  ];
}

export const STEP_UPDATE_WIDTH = 10;
export function stepUpdateValues(step: StepRow): SqlValue[] {
  return [step.id, ...mutableStepValues(step)];
}

function mutableStepValues(step: Omit<StepRow, 'id'>): SqlValue[] {
  return [
    step.status,
    step.attempts,
    step.runAt,
    step.leaseOwner,
    step.leaseUntil,
    step.startedAt,
    step.finishedAt,
    json(step.result),
    json(step.error),
  ];
}

export const EVENT_WIDTH = 10;
export function eventValues(event: EventDraft): SqlValue[] {
  return [
    event.taskId,
    event.step,
    event.type,
    event.from,
    event.to,
    event.reason,
    event.attempt,
    json(event.error),
    json(event.data),
    event.at,
  ];
}

export const DEAD_LETTER_WIDTH = 7;
export function deadLetterValues(entry: DeadLetterRow): SqlValue[] {
  return [
    entry.id,
    entry.taskId,
    entry.step,
    json(entry.error),
    entry.attempts,
    entry.createdAt,
    entry.closedAt,
  ];
}

function textOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function numberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

export function rowToTask(row: Row): TaskRow {
  return {
    id: String(row.id),
    namespace: String(row.namespace),
    name: String(row.name),
    version: String(row.version),
    status: row.status as TaskStatus,
    input: row.input ?? null,
    error: (row.error ?? null) as StoredError | null,
    idempotencyKey: textOrNull(row.idempotency_key),
    createdAt: Number(row.created_at),
    startedAt: numberOrNull(row.started_at),
    finishedAt: numberOrNull(row.finished_at),
    updatedAt: Number(row.updated_at),
  };
}

export function rowToStep(row: Row): StepRow {
  return {
    id: Number(row.id),
    taskId: String(row.task_id),
    position: Number(row.position),
    name: String(row.name),
    handler: String(row.handler),
    spec: row.spec as StepRow['spec'],
    status: row.status as StepRow['status'],
    attempts: Number(row.attempts),
    runAt: numberOrNull(row.run_at),
    leaseOwner: textOrNull(row.lease_owner),
    leaseUntil: numberOrNull(row.lease_until),
    startedAt: numberOrNull(row.started_at),
    finishedAt: numberOrNull(row.finished_at),
    result: row.result ?? null,
    error: (row.error ?? null) as StoredError | null,
  };
}

/** Steps aggregated by `jsonb_agg(… ORDER BY position)`; a task without steps gives SQL NULL. */
export function jsonToSteps(value: unknown): StepRow[] {
  return Array.isArray(value) ? (value as Row[]).map(rowToStep) : [];
}

export function rowToEvent(row: Row): EventRecord {
  return {
    seq: Number(row.seq),
    taskId: textOrNull(row.task_id),
    step: textOrNull(row.step),
    type: row.type as EventRecord['type'],
    from: textOrNull(row.from_status),
    to: textOrNull(row.to_status),
    reason: textOrNull(row.reason),
    attempt: numberOrNull(row.attempt),
    error: (row.error ?? null) as StoredError | null,
    data: (row.data ?? null) as Record<string, unknown> | null,
    at: Number(row.at),
  };
}

export function rowToDeadLetter(row: Row): DeadLetterRow {
  return {
    id: String(row.id),
    taskId: String(row.task_id),
    step: String(row.step),
    error: (row.error ?? null) as StoredError | null,
    attempts: Number(row.attempts),
    createdAt: Number(row.created_at),
    closedAt: numberOrNull(row.closed_at),
  };
}

/**
 * Pairs drafts with the seqs their insert returned. Rows are inserted in draft order (the insert
 * sorts by ordinality before the sequence is read), so the ascending seqs belong to the drafts in
 * order, whatever order RETURNING happens to use.
 */
export function withSeqs(drafts: readonly EventDraft[], seqs: readonly unknown[]): EventRecord[] {
  const sorted = seqs.map(Number).sort((a, b) => a - b);
  if (sorted.length !== drafts.length)
    throw new Error(`Internal error: inserted ${drafts.length} events but got ${sorted.length} seqs`);
  return drafts.map((event, i) => ({ ...event, seq: sorted[i]! }));
}

export function page<T>(items: T[], limit: number, cursorOf: (item: T) => string): Page<T> {
  const hasMore = items.length > limit;
  const pageItems = hasMore ? items.slice(0, limit) : items;
  const last = pageItems.at(-1);
  return { items: pageItems, nextCursor: hasMore && last !== undefined ? cursorOf(last) : null };
}
