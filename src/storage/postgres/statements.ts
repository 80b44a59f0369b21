/**
 * Every hot-path statement of the PostgreSQL store, as a named prepared statement: node-postgres
 * parses each once per connection and the server keeps its plan. Tables are qualified with the
 * store's schema, so the statements do not depend on anyone's search_path.
 *
 * Locking rules (why no statement here can deadlock with another):
 * - a claim never waits: it locks steps and pending tasks with SKIP LOCKED only;
 * - updateTasks locks its tasks ordered by id, then their steps ordered by (task_id, id);
 * - renewLeases locks steps ordered by (task_id, id) and never touches tasks.
 * So every wait is for a lock that comes later in one global order.
 */

/** A statement as node-postgres takes it: `client.query({ ...statement, values })`. */
export interface Statement {
  readonly name: string;
  readonly text: string;
}

/** `$from::t1[], $from+1::t2[], …` for `unnest(…)` over one array per column. */
function arrays(types: readonly string[], from: number): string {
  return types.map((type, i) => `$${from + i}::${type}[]`).join(', ');
}

const EVENT_COLUMNS = 'task_id, step, type, from_status, to_status, reason, attempt, error, data, at';
const EVENT_TYPES = ['text', 'text', 'text', 'text', 'text', 'text', 'int', 'jsonb', 'jsonb', 'bigint'];

/**
 * Appends events from column arrays starting at `$from`. Rows are sorted by ordinality before
 * the sequence is read, so seqs follow the drafts' order (`withSeqs` relies on it).
 */
function insertEvents(s: string, from: number): string {
  return `INSERT INTO ${s}.events (${EVENT_COLUMNS})
    SELECT ${EVENT_COLUMNS} FROM unnest(${arrays(EVENT_TYPES, from)})
      WITH ORDINALITY AS e(${EVENT_COLUMNS}, n)
    ORDER BY n
    RETURNING seq`;
}

const TASK_COLUMNS = `id, namespace, name, version, status, input, error, idempotency_key, created_at,
  started_at, finished_at, updated_at, traceparent`;
const TASK_TYPES = [
  'text',
  'text',
  'text',
  'text',
  'text',
  'jsonb',
  'jsonb',
  'text',
  'bigint',
  'bigint',
  'bigint',
  'bigint',
  'text',
];

const STEP_INSERT_COLUMNS = `position, name, handler, spec, status, attempts, run_at, lease_owner,
  lease_until, started_at, finished_at, result, error, replays`;
const STEP_INSERT_TYPES = ['int', 'text', 'text', 'jsonb', 'text', 'int', 'bigint', 'text', 'bigint'];
/** started_at, finished_at, result, error, replays: the tail shared by inserts and updates. */
const STEP_TAIL_TYPES = ['bigint', 'bigint', 'jsonb', 'jsonb', 'int'];

// createTasks' parameters: the task arrays from $1, then the step arrays, then the event arrays.
const STEP_ARRAYS_FROM = TASK_TYPES.length + 1;
const STEP_ARRAY_COUNT = 1 + STEP_INSERT_TYPES.length + STEP_TAIL_TYPES.length;

function sql(s: string) {
  return {
    /**
     * Creates a batch of tasks with their steps and events in one statement (so all or none).
     * Tasks go in in draft order with ON CONFLICT DO NOTHING on the idempotency key: a draft whose
     * key is taken, by an existing task or by an earlier draft of the batch, inserts nothing, and
     * neither do its steps or events. A conflict with a concurrent, uncommitted insert waits for
     * it, so the caller can then read the winner. Returns one row: the created tasks (each with
     * its steps) and the seqs of the inserted events.
     */
    createTasks: `WITH draft AS (
        SELECT * FROM unnest(${arrays(TASK_TYPES, 1)}) WITH ORDINALITY
          AS d(${TASK_COLUMNS}, n)
      ), inserted AS (
        INSERT INTO ${s}.tasks (${TASK_COLUMNS})
        SELECT ${TASK_COLUMNS} FROM draft ORDER BY n
        ON CONFLICT (namespace, name, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING *
      ), new_steps AS (
        INSERT INTO ${s}.steps (task_id, ${STEP_INSERT_COLUMNS})
        SELECT * FROM unnest(${arrays(['text', ...STEP_INSERT_TYPES, ...STEP_TAIL_TYPES], STEP_ARRAYS_FROM)})
          AS u(task_id, ${STEP_INSERT_COLUMNS})
        WHERE task_id IN (SELECT id FROM inserted)
        RETURNING *
      ), steps_by_task AS (
        SELECT task_id, jsonb_agg(new_steps ORDER BY position) AS steps FROM new_steps GROUP BY task_id
      ), new_events AS (
        INSERT INTO ${s}.events (${EVENT_COLUMNS})
        SELECT ${EVENT_COLUMNS} FROM unnest(${arrays([...EVENT_TYPES, 'bigint'], STEP_ARRAYS_FROM + STEP_ARRAY_COUNT)})
          WITH ORDINALITY AS e(${EVENT_COLUMNS}, draft_n, n)
        WHERE draft_n IN (SELECT d.n FROM draft d WHERE d.id IN (SELECT id FROM inserted))
        ORDER BY n
        RETURNING seq
      )
      SELECT
        (SELECT jsonb_agg(to_jsonb(i) || jsonb_build_object('steps', st.steps))
          FROM inserted i LEFT JOIN steps_by_task st ON st.task_id = i.id) AS tasks,
        ARRAY(SELECT seq FROM new_events) AS seqs`,

    /** The tasks holding these (namespace, name, idempotency key) triples, with their steps. */
    tasksByIdempotencyKey: `SELECT t.*,
        (SELECT jsonb_agg(st ORDER BY st.position) FROM ${s}.steps st WHERE st.task_id = t.id) AS steps
      FROM ${s}.tasks t
        JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(namespace, name, idempotency_key)
          USING (namespace, name, idempotency_key)`,

    /** A task with its steps, read in one statement so both come from the same snapshot. */
    taskState: `SELECT t.*,
        (SELECT jsonb_agg(st ORDER BY st.position) FROM ${s}.steps st WHERE st.task_id = t.id) AS steps
      FROM ${s}.tasks t WHERE t.id = $1`,

    /**
     * The claim, in one statement (so one round trip and one commit, without BEGIN): pick ready
     * steps (SKIP LOCKED), start their pending tasks, lease the steps, record their history, and
     * return each with its task and the results of its dependencies.
     *
     * A pending task is started here rather than by a later statement, and only if its row can be
     * locked without waiting: updateTasks may hold that row while it waits for one of these
     * steps, and a claim that waited for the task would deadlock with it. A step whose pending
     * task is locked elsewhere is simply not claimed this time (it stays ready). `pending` is
     * read from the statement's snapshot; a task another claim started since is no longer
     * matched by `started` and its step is likewise left for the next claim.
     *
     * History: a `task.started` event for each started task just before its first claimed step,
     * then a `step.started` event per step, inserted in that order (sorted before the sequence is
     * read). The rows built by `claimedSteps` follow the same order, so the ascending seqs, which
     * come back on the first row only, pair with them as `withSeqs` expects.
     *
     * The task input comes back on the first row of each task only, so a fan-out claim does not
     * copy a large input once per step.
     */
    claim: `WITH picked AS (
        SELECT id, task_id FROM ${s}.steps
        WHERE status = 'ready' AND run_at <= $3 AND handler = ANY($4::text[])
        ORDER BY run_at LIMIT $5
        FOR NO KEY UPDATE SKIP LOCKED
      ), pending AS (
        -- = ANY(ARRAY(…)) makes these primary-key lookups from the picked rows whatever the
        -- statistics say: on a fresh table the planner otherwise joins all pending tasks with
        -- nested loops, which took seconds for a few hundred tasks.
        SELECT id FROM ${s}.tasks
        WHERE id = ANY(ARRAY(SELECT task_id FROM picked)) AND status = 'pending'
      ), started AS (
        UPDATE ${s}.tasks SET status = 'running', started_at = $3, updated_at = $3
        WHERE status = 'pending' AND id = ANY(ARRAY(
          SELECT id FROM ${s}.tasks WHERE id = ANY(ARRAY(SELECT id FROM pending)) AND status = 'pending'
          FOR NO KEY UPDATE SKIP LOCKED))
        RETURNING id
      ), claimed AS (
        UPDATE ${s}.steps st SET status = 'running', attempts = st.attempts + 1, lease_owner = $1,
          lease_until = $2, started_at = $3, finished_at = NULL
        FROM picked p
        WHERE st.id = p.id
          AND (p.task_id NOT IN (SELECT id FROM pending) OR p.task_id IN (SELECT id FROM started))
        RETURNING st.*
      ), numbered AS (
        SELECT c.*, row_number() OVER (ORDER BY c.run_at, c.id) AS n,
          c.task_id IN (SELECT id FROM started) AS task_started
        FROM claimed c
      ), new_events AS (
        INSERT INTO ${s}.events (task_id, step, type, from_status, to_status, reason, attempt, at)
        SELECT task_id, step, type, from_status, to_status, reason, attempt, $3 FROM (
          SELECT task_id, NULL AS step, 'task.started' AS type, 'pending' AS from_status,
            'running' AS to_status, 'first step claimed' AS reason, NULL::int AS attempt, min(n) AS n, 0 AS k
          FROM numbered WHERE task_started GROUP BY task_id
          UNION ALL
          SELECT task_id, name, 'step.started', 'ready', 'running', 'claimed', attempts, n, 1 FROM numbered
        ) e
        ORDER BY n, k
        RETURNING seq
      )
      SELECT c.*,
        t.namespace AS task_namespace, t.name AS task_name, t.version AS task_version,
        t.traceparent AS task_traceparent,
        row_number() OVER (PARTITION BY c.task_id ORDER BY c.id) = 1 AS first_of_task,
        CASE WHEN row_number() OVER (PARTITION BY c.task_id ORDER BY c.id) = 1 THEN t.input END AS task_input,
        (SELECT jsonb_object_agg(d.name, d.result) FROM ${s}.steps d
          WHERE d.task_id = c.task_id
            AND d.name IN (SELECT jsonb_array_elements_text(c.spec -> 'depends_on'))) AS results,
        CASE WHEN c.n = 1 THEN ARRAY(SELECT seq FROM new_events) END AS event_seqs
      FROM numbered c JOIN ${s}.tasks t ON t.id = c.task_id
      ORDER BY c.n`,

    /** Extends the leases still held; rows are locked in the global step order first. */
    renewLeases: `WITH held AS (
        SELECT st.id FROM ${s}.steps st
          JOIN unnest($3::bigint[], $4::int[]) AS l(id, attempt) ON st.id = l.id AND st.attempts = l.attempt
        WHERE st.status = 'running' AND st.lease_owner = $1
        ORDER BY st.task_id, st.id
        FOR NO KEY UPDATE OF st
      )
      UPDATE ${s}.steps st SET lease_until = $2 FROM held WHERE st.id = held.id
      RETURNING st.id, st.attempts`,

    expiredLeases: `SELECT id, task_id, attempts FROM ${s}.steps
      WHERE status = 'running' AND lease_until < $1 ORDER BY lease_until LIMIT $2`,

    nextRunAt: `SELECT min(run_at) AS run_at FROM ${s}.steps
      WHERE status = 'ready' AND handler = ANY($1::text[])`,

    /**
     * updateTasks, first: the task rows, locked in a stable order so batches cannot deadlock, then
     * all their steps, locked too, in one round trip. A claim may lease a ready step without the
     * task lock; locking the steps makes updateTasks wait for such a claim and plan from the
     * leased row, instead of overwriting it with a stale copy (and makes claims skip the steps of
     * a task being updated). Every task is locked before any step: `locked_steps` reads its task
     * ids through an InitPlan, which runs `locked_tasks` to the end first.
     *
     * One row per step (a task without steps gives one row of NULL step columns), task columns
     * prefixed with `task_` (its id is `task_row_id`), ordered by task; the task input comes on the
     * task's first row only. `= ANY(ARRAY(…))`
     * keeps these primary-key and (task_id, name) lookups whatever the statistics say: with stale
     * ones the planner read whole tables for a few hundred ids.
     */
    lockStates: `WITH locked_tasks AS MATERIALIZED (
        SELECT * FROM ${s}.tasks WHERE id = ANY(ARRAY(SELECT unnest($1::text[])))
        ORDER BY id FOR NO KEY UPDATE
      ), locked_steps AS MATERIALIZED (
        SELECT st.* FROM unnest(ARRAY(SELECT id FROM locked_tasks)) AS k(id)
          CROSS JOIN LATERAL (
            SELECT * FROM ${s}.steps WHERE task_id = k.id ORDER BY id FOR NO KEY UPDATE
          ) st
      )
      SELECT st.*, t.id AS task_row_id, t.namespace AS task_namespace, t.name AS task_name,
        t.version AS task_version, t.status AS task_status,
        CASE WHEN row_number() OVER (PARTITION BY t.id ORDER BY st.position) = 1 THEN t.input END
          AS task_input,
        t.error AS task_error, t.idempotency_key AS task_idempotency_key,
        t.created_at AS task_created_at, t.started_at AS task_started_at,
        t.finished_at AS task_finished_at, t.updated_at AS task_updated_at,
        t.traceparent AS task_traceparent
      FROM locked_tasks t LEFT JOIN locked_steps st ON st.task_id = t.id
      ORDER BY t.id, st.position`,

    /**
     * updateTasks, last: every planned change of every task in one statement. Each CTE reads one
     * set of column arrays (an empty array is a no-op). Data-modifying CTEs share one snapshot, so
     * a dead letter inserted here is not seen, and not closed, by `closed`: the same order as
     * "close, then insert".
     */
    applyChanges: `WITH task_rows AS (
        UPDATE ${s}.tasks t SET status = u.status, error = u.error, started_at = u.started_at,
          finished_at = u.finished_at, updated_at = u.updated_at
        FROM unnest(${arrays(['text', 'text', 'jsonb', 'bigint', 'bigint', 'bigint'], 1)})
          AS u(id, status, error, started_at, finished_at, updated_at)
        WHERE t.id = u.id AND t.id = ANY(ARRAY(SELECT unnest($1::text[])))
      ), step_rows AS (
        UPDATE ${s}.steps st SET status = u.status, attempts = u.attempts, run_at = u.run_at,
          lease_owner = u.lease_owner, lease_until = u.lease_until, started_at = u.started_at,
          finished_at = u.finished_at, result = u.result, error = u.error, replays = u.replays
        FROM unnest(${arrays(['bigint', 'text', 'int', 'bigint', 'text', 'bigint', ...STEP_TAIL_TYPES], 7)})
          AS u(id, status, attempts, run_at, lease_owner, lease_until, started_at, finished_at, result, error,
            replays)
        WHERE st.id = u.id
      ), closed AS (
        UPDATE ${s}.dead_letters d SET closed_at = u.at
        FROM unnest($18::text[], $19::bigint[]) AS u(task_id, at)
        WHERE d.task_id = u.task_id AND d.closed_at IS NULL
      ), opened AS (
        INSERT INTO ${s}.dead_letters (id, task_id, step, error, attempts, created_at, closed_at)
        SELECT * FROM unnest(${arrays(['text', 'text', 'text', 'jsonb', 'int', 'bigint', 'bigint'], 20)})
      )
      ${insertEvents(s, 27)}`,

    insertEvents: insertEvents(s, 1),

    eventsAfter: `SELECT * FROM ${s}.events WHERE seq > $1 ORDER BY seq LIMIT $2`,
    taskEventsAfter: `SELECT * FROM ${s}.events WHERE task_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
    deadLetterById: `SELECT * FROM ${s}.dead_letters WHERE id = $1`,

    /** One snapshot, one round trip; the step and dead-letter counts read only partial indexes. */
    stats: `SELECT
        (SELECT jsonb_object_agg(status, n)
          FROM (SELECT status, count(*) AS n FROM ${s}.tasks GROUP BY status) c) AS tasks,
        (SELECT count(*) FROM ${s}.steps WHERE status = 'ready') AS ready,
        (SELECT count(*) FROM ${s}.steps WHERE status = 'running') AS running,
        (SELECT count(*) FROM ${s}.dead_letters WHERE closed_at IS NULL) AS open_dead_letters`,
  };
}

export type Statements = { readonly [K in keyof ReturnType<typeof sql>]: Statement };

/**
 * The statements for one schema (an already quoted identifier). Names are unique per statement
 * only: a pool, and so every connection that caches these plans, belongs to one store and schema.
 */
export function statements(schema: string): Statements {
  const named = {} as Record<string, Statement>;
  for (const [key, text] of Object.entries(sql(schema))) named[key] = { name: `baton_${key}`, text };
  return named as Statements;
}
