import type { DatabaseSync, StatementSync } from 'node:sqlite';

type Row = Record<string, unknown>;

/** A prepared statement typed to return plain rows. */
export interface Prepared {
  run: StatementSync['run'];
  get(...params: unknown[]): Row | undefined;
  all(...params: unknown[]): Row[];
}

/** Every hot-path statement, prepared once per connection. */
const SQL = {
  insertTask: `INSERT INTO tasks (id, namespace, name, version, status, input, error, idempotency_key,
    created_at, started_at, finished_at, updated_at, traceparent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  insertStep: `INSERT INTO steps (task_id, position, name, handler, spec, status, attempts, run_at,
    lease_owner, lease_until, started_at, finished_at, result, error, replays)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  taskById: `SELECT * FROM tasks WHERE id = ?`,
  taskByIdempotencyKey: `SELECT id FROM tasks WHERE namespace = ? AND name = ? AND idempotency_key = ?`,
  stepsOfTask: `SELECT * FROM steps WHERE task_id = ? ORDER BY position`,
  taskStepResults: `SELECT name, result FROM steps WHERE task_id = ?`,
  tasksByIds: `SELECT * FROM tasks WHERE id IN (SELECT value FROM json_each(?))`,
  stepsOfTasks: `SELECT * FROM steps WHERE task_id IN (SELECT value FROM json_each(?))
    ORDER BY task_id, position`,
  // Row by row: in node:sqlite a prepared statement per row is about twice as fast as unpacking a
  // JSON array with json_each (each `->>` re-reads the JSON), and the transaction batches anyway.
  updateTask: `UPDATE tasks SET status = ?2, error = ?3, started_at = ?4, finished_at = ?5, updated_at = ?6
    WHERE id = ?1`,
  updateStep: `UPDATE steps SET status = ?2, attempts = ?3, run_at = ?4, lease_owner = ?5, lease_until = ?6,
      started_at = ?7, finished_at = ?8, result = ?9, error = ?10, replays = ?11
    WHERE id = ?1`,
  claim: `UPDATE steps SET status = 'running', attempts = attempts + 1, lease_owner = ?, lease_until = ?,
      started_at = ?, finished_at = NULL
    WHERE id IN (
      SELECT id FROM steps INDEXED BY steps_runnable
      WHERE status = 'ready' AND run_at <= ? AND handler IN (SELECT value FROM json_each(?))
      ORDER BY run_at LIMIT ?)
    RETURNING *`,
  startTasks: `UPDATE tasks SET status = 'running', started_at = ?, updated_at = ?
    WHERE id IN (SELECT value FROM json_each(?)) AND status = 'pending' RETURNING id`,
  tasksForClaim: `SELECT id, namespace, name, version, input, traceparent FROM tasks
    WHERE id IN (SELECT value FROM json_each(?))`,
  renewLease: `UPDATE steps SET lease_until = ?
    WHERE id = ? AND status = 'running' AND attempts = ? AND lease_owner = ?`,
  expiredLeases: `SELECT id, task_id, attempts FROM steps INDEXED BY steps_leases
    WHERE status = 'running' AND lease_until < ? ORDER BY lease_until LIMIT ?`,
  nextRunAt: `SELECT min(run_at) AS run_at FROM steps INDEXED BY steps_runnable
    WHERE status = 'ready' AND handler IN (SELECT value FROM json_each(?))`,
  lastSeq: `SELECT max(seq) AS seq FROM events`,
  insertEvent: `INSERT INTO events (seq, task_id, step, type, from_status, to_status, reason, attempt,
      error, data, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  eventsAfter: `SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?`,
  taskEventsAfter: `SELECT * FROM events WHERE task_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
  insertDeadLetter: `INSERT INTO dead_letters (id, task_id, step, error, attempts, created_at, closed_at)
    VALUES (?, ?, ?, ?, ?, ?, ?)`,
  closeDeadLetters: `UPDATE dead_letters SET closed_at = ? WHERE task_id = ? AND closed_at IS NULL`,
  deadLetterById: `SELECT * FROM dead_letters WHERE id = ?`,
  taskCounts: `SELECT status, count(*) AS count FROM tasks GROUP BY status`,
  stepCounts: `SELECT
      (SELECT count(*) FROM steps INDEXED BY steps_runnable WHERE status = 'ready') AS ready,
      (SELECT count(*) FROM steps INDEXED BY steps_leases WHERE status = 'running') AS running`,
  openDeadLetters: `SELECT count(*) AS count FROM dead_letters WHERE closed_at IS NULL`,
} as const;

export type Statements = { [K in keyof typeof SQL]: Prepared };

export function statements(db: DatabaseSync): Statements {
  const prepared = {} as Record<string, Prepared>;
  for (const [key, sql] of Object.entries(SQL)) prepared[key] = db.prepare(sql);
  return prepared as Statements;
}
