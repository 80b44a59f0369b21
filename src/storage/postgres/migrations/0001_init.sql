-- Baton schema v1 for PostgreSQL. Runs with search_path set to the store's schema, so names are
-- unqualified. Times are epoch milliseconds (bigint); JSON columns are jsonb.
-- Ids compare with the "C" collation: ULID-based ids are pagination cursors and must sort by
-- bytes, as in SQLite, whatever the database's default collation is.

CREATE TABLE tasks (
  id              text COLLATE "C" PRIMARY KEY,
  namespace       text NOT NULL,
  name            text NOT NULL,
  version         text NOT NULL,
  status          text NOT NULL,
  input           jsonb NOT NULL,
  error           jsonb,
  idempotency_key text,
  created_at      bigint NOT NULL,
  started_at      bigint,
  finished_at     bigint,
  updated_at      bigint NOT NULL
);

-- Idempotent start: one task per (template, key). createTask relies on it with
-- INSERT … ON CONFLICT DO NOTHING, so two racing starts cannot both create a task.
CREATE UNIQUE INDEX tasks_idempotency ON tasks (namespace, name, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE INDEX tasks_status ON tasks (status, id);
CREATE INDEX tasks_template ON tasks (namespace, name, id);

CREATE TABLE steps (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  task_id     text COLLATE "C" NOT NULL,
  position    integer NOT NULL,
  name        text NOT NULL,
  handler     text NOT NULL,
  spec        jsonb NOT NULL,
  status      text NOT NULL,
  attempts    integer NOT NULL DEFAULT 0,
  run_at      bigint,
  lease_owner text,
  lease_until bigint,
  started_at  bigint,
  finished_at bigint,
  result      jsonb,
  error       jsonb,
  -- Also the index for "all steps of these tasks" (task_id = ANY(…)).
  UNIQUE (task_id, name)
);

-- Claiming reads only runnable rows, oldest first: the index holds nothing else, so a large
-- history of finished steps does not slow claims, nextRunAt or the ready count down.
CREATE INDEX steps_runnable ON steps (run_at) WHERE status = 'ready';
-- Lease recovery and the running count scan only running rows.
CREATE INDEX steps_leases ON steps (lease_until) WHERE status = 'running';

-- seq comes from a sequence, taken when a row is inserted, not when its transaction commits: two
-- concurrent transactions can commit their seqs out of order, so a reader that saw seq 11 may
-- later find a seq 10 appear. Readers that resume from a seq (SSE, Last-Event-ID) must allow for
-- this; listEvents still returns rows ordered by seq.
CREATE TABLE events (
  seq         bigserial PRIMARY KEY,
  task_id     text COLLATE "C",
  step        text,
  type        text NOT NULL,
  from_status text,
  to_status   text,
  reason      text,
  attempt     integer,
  error       jsonb,
  data        jsonb,
  at          bigint NOT NULL
);
CREATE INDEX events_task ON events (task_id, seq);

CREATE TABLE dead_letters (
  id         text COLLATE "C" PRIMARY KEY,
  task_id    text COLLATE "C" NOT NULL,
  step       text NOT NULL,
  error      jsonb,
  attempts   integer NOT NULL,
  created_at bigint NOT NULL,
  closed_at  bigint
);
-- Open entries only: listing, counting and closing them never reads the handled history.
CREATE INDEX dead_letters_open ON dead_letters (id) WHERE closed_at IS NULL;
CREATE INDEX dead_letters_open_task ON dead_letters (task_id) WHERE closed_at IS NULL;
