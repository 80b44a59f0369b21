import type { EventDraft, EventRecord, StepRow } from '../records.ts';
import { rowReaders, type Row, type SqlValue } from '../rows.ts';

/**
 * PostgreSQL's side of row mapping (the shared part is `../rows.ts`). The pool parses `bigint` to
 * numbers and `jsonb` to values (see `postgres-store.ts`), and rows aggregated with `jsonb_agg`
 * arrive in the same shape, so the readers need no decoding. JSON goes out as text, because
 * node-postgres would turn a JS array into a PostgreSQL array, not a JSON one.
 */
export const pgRows = rowReaders((value) => value ?? null);

/**
 * Turns rows of values into one array per column, for `unnest($1::t1[], $2::t2[], …)`: a batch
 * of any size is then one statement with a fixed parameter list (and one prepared plan).
 */
export function columns(rows: readonly SqlValue[][], width: number): SqlValue[][] {
  const out: SqlValue[][] = Array.from({ length: width }, () => []);
  for (const row of rows) for (let i = 0; i < width; i++) out[i]!.push(row[i] ?? null);
  return out;
}

/** Column counts of the shared tuples in `../rows.ts`. */
export const TASK_INSERT_WIDTH = 13;
export const TASK_UPDATE_WIDTH = 6;
export const STEP_INSERT_WIDTH = 15;
export const STEP_UPDATE_WIDTH = 11;
export const EVENT_WIDTH = 10;
export const DEAD_LETTER_WIDTH = 7;

/** Steps aggregated by `jsonb_agg(… ORDER BY position)`; a task without steps gives SQL NULL. */
export function jsonToSteps(value: unknown): StepRow[] {
  return Array.isArray(value) ? (value as Row[]).map(pgRows.step) : [];
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
