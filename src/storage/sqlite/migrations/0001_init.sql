-- Baton schema v1 for SQLite. Times are epoch milliseconds; JSON columns hold text.

CREATE TABLE tasks (
  id              TEXT PRIMARY KEY,
  namespace       TEXT NOT NULL,
  name            TEXT NOT NULL,
  version         TEXT NOT NULL,
  status          TEXT NOT NULL,
  input           TEXT NOT NULL,
  error           TEXT,
  idempotency_key TEXT,
  created_at      INTEGER NOT NULL,
  started_at      INTEGER,
  finished_at     INTEGER,
  updated_at      INTEGER NOT NULL
) WITHOUT ROWID;

-- Idempotent start: one task per (template, key).
CREATE UNIQUE INDEX tasks_idempotency ON tasks (namespace, name, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE INDEX tasks_status ON tasks (status, id);
CREATE INDEX tasks_template ON tasks (namespace, name, id);

CREATE TABLE steps (
  id          INTEGER PRIMARY KEY,
  task_id     TEXT NOT NULL,
  position    INTEGER NOT NULL,
  name        TEXT NOT NULL,
  handler     TEXT NOT NULL,
  spec        TEXT NOT NULL,
  status      TEXT NOT NULL,
  attempts    INTEGER NOT NULL DEFAULT 0,
  run_at      INTEGER,
  lease_owner TEXT,
  lease_until INTEGER,
  started_at  INTEGER,
  finished_at INTEGER,
  result      TEXT,
  error       TEXT,
  UNIQUE (task_id, name)
);

-- Claiming reads only runnable rows, oldest first: the index holds nothing else, so a large
-- history of finished steps does not slow it down.
CREATE INDEX steps_runnable ON steps (run_at) WHERE status = 'ready';
-- Lease recovery scans only running rows.
CREATE INDEX steps_leases ON steps (lease_until) WHERE status = 'running';

-- seq is the rowid: ever-increasing because events are only appended (no AUTOINCREMENT, whose
-- bookkeeping row would be rewritten on every insert).
CREATE TABLE events (
  seq         INTEGER PRIMARY KEY,
  task_id     TEXT,
  step        TEXT,
  type        TEXT NOT NULL,
  from_status TEXT,
  to_status   TEXT,
  reason      TEXT,
  attempt     INTEGER,
  error       TEXT,
  data        TEXT,
  at          INTEGER NOT NULL
);
CREATE INDEX events_task ON events (task_id, seq);

CREATE TABLE dead_letters (
  id         TEXT PRIMARY KEY,
  task_id    TEXT NOT NULL,
  step       TEXT NOT NULL,
  error      TEXT,
  attempts   INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  closed_at  INTEGER
) WITHOUT ROWID;
CREATE INDEX dead_letters_open ON dead_letters (closed_at, id);
CREATE INDEX dead_letters_task ON dead_letters (task_id);
