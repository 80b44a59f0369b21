import type {
  DeadLetterRow,
  EventDraft,
  EventRecord,
  StepRow,
  StoredError,
  TaskRow,
  TaskStatus,
} from './records.ts';
import type { Page } from './store.ts';

/**
 * Records to statement parameters and database rows back to records, shared by every store: the
 * column order of each tuple is the same everywhere. Stores differ only in how a JSON column
 * arrives (text in SQLite, parsed `jsonb` in PostgreSQL), so the row readers take a decoder.
 */

export type Row = Record<string, unknown>;
export type SqlValue = string | number | null;

/** JSON text for a nullable JSON column: null and undefined become SQL NULL. */
export function json(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

function textOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function numberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

// ── records → parameters ────────────────────────────────────────────────────

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
    task.traceparent,
  ];
}

/** `[id, status, error, started_at, finished_at, updated_at]` */
export function taskUpdateValues(task: TaskRow): SqlValue[] {
  return [task.id, task.status, json(task.error), task.startedAt, task.finishedAt, task.updatedAt];
}

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

/**
 * `[id, status, attempts, run_at, lease_owner, lease_until, started_at, finished_at, result, error,
 * replays]`
 */
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
    step.replays,
  ];
}

/** `[task_id, step, type, from_status, to_status, reason, attempt, error, data, at]` */
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

// ── rows → records ──────────────────────────────────────────────────────────

export interface RowReaders {
  readonly task: (row: Row) => TaskRow;
  readonly step: (row: Row) => StepRow;
  readonly event: (row: Row) => EventRecord;
  readonly deadLetter: (row: Row) => DeadLetterRow;
}

/**
 * Row readers for a store whose JSON columns arrive through `decode`; `decodeSpec` may cache, as
 * every step of a template shares one spec.
 */
export function rowReaders(
  decode: (value: unknown) => unknown,
  decodeSpec: (value: unknown) => StepRow['spec'] = (value) => decode(value) as StepRow['spec'],
): RowReaders {
  const error = (value: unknown) => (decode(value) ?? null) as StoredError | null;
  return {
    task: (row) => ({
      id: String(row.id),
      namespace: String(row.namespace),
      name: String(row.name),
      version: String(row.version),
      status: row.status as TaskStatus,
      input: decode(row.input) ?? null,
      error: error(row.error),
      idempotencyKey: textOrNull(row.idempotency_key),
      createdAt: Number(row.created_at),
      startedAt: numberOrNull(row.started_at),
      finishedAt: numberOrNull(row.finished_at),
      updatedAt: Number(row.updated_at),
      traceparent: textOrNull(row.traceparent),
    }),
    step: (row) => ({
      id: Number(row.id),
      taskId: String(row.task_id),
      position: Number(row.position),
      name: String(row.name),
      handler: String(row.handler),
      spec: decodeSpec(row.spec),
      status: row.status as StepRow['status'],
      attempts: Number(row.attempts),
      runAt: numberOrNull(row.run_at),
      leaseOwner: textOrNull(row.lease_owner),
      leaseUntil: numberOrNull(row.lease_until),
      startedAt: numberOrNull(row.started_at),
      finishedAt: numberOrNull(row.finished_at),
      result: decode(row.result) ?? null,
      error: error(row.error),
      replays: Number(row.replays),
    }),
    event: (row) => ({
      seq: Number(row.seq),
      taskId: textOrNull(row.task_id),
      step: textOrNull(row.step),
      type: row.type as EventRecord['type'],
      from: textOrNull(row.from_status),
      to: textOrNull(row.to_status),
      reason: textOrNull(row.reason),
      attempt: numberOrNull(row.attempt),
      error: error(row.error),
      data: (decode(row.data) ?? null) as Record<string, unknown> | null,
      at: Number(row.at),
    }),
    deadLetter: (row) => ({
      id: String(row.id),
      taskId: String(row.task_id),
      step: String(row.step),
      error: error(row.error),
      attempts: Number(row.attempts),
      createdAt: Number(row.created_at),
      closedAt: numberOrNull(row.closed_at),
    }),
  };
}

/** A page of `limit` items from `limit + 1` fetched: the extra one says whether more follow. */
export function page<T>(items: T[], limit: number, cursorOf: (item: T) => string): Page<T> {
  const hasMore = items.length > limit;
  const pageItems = hasMore ? items.slice(0, limit) : items;
  const last = pageItems.at(-1);
  return { items: pageItems, nextCursor: hasMore && last !== undefined ? cursorOf(last) : null };
}
