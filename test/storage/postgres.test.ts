// The PostgreSQL store: the shared store contract on a fresh database per run, then what only a
// shared database can show: concurrent migrators, claims and updates from separate pools (as
// separate Baton processes would have), locks, connection loss and cleanup.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { createEngine } from '../../src/engine/index.ts';
import type { Engine } from '../../src/engine/index.ts';
import { planCancel, planOutcomes } from '../../src/engine/transitions.ts';
import { readMigrations } from '../../src/storage/migrations.ts';
import { MIGRATIONS_DIR } from '../../src/storage/postgres/migrate.ts';
import { PostgresStore } from '../../src/storage/postgres/postgres-store.ts';
import type { PostgresStoreOptions } from '../../src/storage/postgres/postgres-store.ts';
import type { EventRecord } from '../../src/storage/records.ts';
import type { ClaimedStep, Store } from '../../src/storage/store.ts';
import { ulid } from '../../src/util/ids.ts';
import { describePostgres, withPgClient } from '../support/postgres.ts';
import type { PostgresSuite } from '../support/postgres.ts';
import { createOne, sketchTask, storeContract } from './contract.ts';

const HANDLER = 'test/noop@1.0.0';
const T0 = 1_700_000_000_000;
const context = (now: number) => ({ now, newId: ulid, random: () => 0.5 });

describePostgres('postgres store contract', (pg) => {
  storeContract('postgres (schema baton)', {
    async open() {
      const db = await pg.createDatabase();
      const store = new PostgresStore({ connectionString: db.url });
      await store.migrate();
      return store;
    },
  });

  storeContract('postgres (custom schema, pool of 2)', {
    async open() {
      const db = await pg.createDatabase();
      const store = new PostgresStore({ connectionString: db.url, schema: 'tenant_a', max: 2 });
      await store.migrate();
      return store;
    },
  });
});

describePostgres('PostgresStore', (pg) => {
  const stores: PostgresStore[] = [];
  after(() => Promise.all(stores.map((store) => store.close())));

  /** A store closed after the suite (close() is idempotent, so tests may close it earlier). */
  function open(url: string, options: Partial<PostgresStoreOptions> = {}): PostgresStore {
    const store = new PostgresStore({ connectionString: url, ...options });
    stores.push(store);
    return store;
  }

  /** `count` stores on one fresh, migrated database, each with its own pool. */
  async function storesOnFreshDatabase(suite: PostgresSuite, count: number): Promise<PostgresStore[]> {
    const db = await suite.createDatabase();
    const opened = Array.from({ length: count }, () => open(db.url, { max: 3 }));
    await opened[0]!.migrate();
    return opened;
  }

  test('two engines sharing one database run diamonds end to end, each step once', async () => {
    const shared = await storesOnFreshDatabase(pg, 2);
    const runs = new Map<string, number>();
    const engines: Engine[] = [];
    try {
      for (const [n, store] of shared.entries()) {
        const engine = await createEngine({
          store,
          workerId: `engine-${n}`,
          pollIntervalMs: 20,
          concurrency: 4,
          logger: pino({ level: 'silent' }),
        });
        engines.push(engine);
        for (const name of ['a', 'b', 'c', 'd'])
          engine.registerHandler({
            namespace: 'test',
            name,
            version: '1.0.0',
            handler: (ctx) => {
              const key = `${ctx.task.id}/${name}`;
              runs.set(key, (runs.get(key) ?? 0) + 1);
              return { name, saw: Object.keys(ctx.results).sort() };
            },
          });
        engine.registerTemplate({
          namespace: 'test',
          name: 'diamond',
          version: '1.0.0',
          steps: [
            { name: 'a', handler: 'test/a' },
            { name: 'b', handler: 'test/b', depends_on: ['a'] },
            { name: 'c', handler: 'test/c', depends_on: ['a'] },
            { name: 'd', handler: 'test/d', depends_on: ['b', 'c'] },
          ],
        });
        engine.startWorkers();
      }
      const started = await engines[0]!.startTasks(
        Array.from({ length: 20 }, () => ({ template: 'test.diamond' })),
      );
      const done = await Promise.all(
        started.map(({ task }) => engines[1]!.waitForTask(task.id, { timeoutMs: 20_000 })),
      );
      assert.ok(done.every((task) => task.status === 'completed'));
      assert.equal(runs.size, 80);
      assert.ok([...runs.values()].every((count) => count === 1));
      const d = done[0]!.steps.find((step) => step.name === 'd')!;
      assert.deepEqual(d.result, { name: 'd', saw: ['b', 'c'] });
    } finally {
      await Promise.all(engines.map((engine) => engine.close({ timeoutMs: 1000 })));
    }
  });

  test('stores migrating one empty database at the same time all succeed, applying each migration once', async () => {
    const db = await pg.createDatabase();
    const racers = Array.from({ length: 4 }, () => open(db.url));
    const results = await Promise.all(racers.map((store) => store.migrate()));
    const all = readMigrations(MIGRATIONS_DIR).map((migration) => migration.id);
    assert.deepEqual(results.flatMap((result) => result.applied).sort(), all);
    assert.equal(results.filter((result) => result.applied.length > 0).length, 1);
    const recorded = await withPgClient(db.url, (client) =>
      client.query<{ id: string }>('SELECT id FROM baton.baton_migrations ORDER BY id'),
    );
    assert.deepEqual(
      recorded.rows.map((row) => row.id),
      all,
    );
  });

  test('migration 0003 gives the steps of an existing database a replay count of 0', async () => {
    const db = await pg.createDatabase();
    const older = open(db.url);
    await older.migrate();
    const { state } = await createOne(older, sketchTask([{ name: 'a' }, { name: 'b', depends_on: ['a'] }]));
    await older.close();
    // Back to the schema before 0003, with the steps already there.
    await withPgClient(db.url, (client) =>
      client.query(`ALTER TABLE baton.steps DROP COLUMN replays;
        DELETE FROM baton.baton_migrations WHERE id = '0003_step_replays'`),
    );
    const upgraded = open(db.url);
    assert.deepEqual((await upgraded.migrate()).applied, ['0003_step_replays']);
    const loaded = (await upgraded.getTask(state.task.id))!;
    assert.deepEqual(
      loaded.steps.map((step) => [step.name, step.replays]),
      [
        ['a', 0],
        ['b', 0],
      ],
    );
  });

  test('times, ids and seqs come back as numbers, JSON as values', async () => {
    const [store] = await storesOnFreshDatabase(pg, 1);
    const { state, events } = await createOne(
      store!,
      sketchTask([{ name: 'a' }], { input: { list: [1, 'two', null], nested: { ok: true } } }),
    );
    const loaded = (await store!.getTask(state.task.id))!;
    assert.equal(typeof loaded.task.createdAt, 'number');
    assert.equal(typeof loaded.steps[0]!.id, 'number');
    assert.equal(typeof loaded.steps[0]!.runAt, 'number');
    assert.equal(typeof events[0]!.seq, 'number');
    assert.deepEqual(loaded.task.input, { list: [1, 'two', null], nested: { ok: true } });
    const listed = await store!.listEvents({ taskId: state.task.id, limit: 10 });
    assert.deepEqual(listed, events);
  });

  test('concurrent claims from four stores never hand out a step twice', async () => {
    const racers = await storesOnFreshDatabase(pg, 4);
    // 50 tasks of 4 root steps: claims also compete to start the same pending task.
    const roots = [{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }];
    const drafts = Array.from({ length: 50 }, () => sketchTask(roots));
    await racers[0]!.createTasks(drafts);

    const claimed: ClaimedStep[] = [];
    const events: EventRecord[] = [];
    const drain = async (store: Store, workerId: string) => {
      for (;;) {
        const result = await store.claimSteps({
          workerId,
          limit: 30,
          handlers: [HANDLER],
          now: T0 + 1,
          leaseMs: 60_000,
        });
        claimed.push(...result.claimed);
        events.push(...result.events);
        // A claim may skip steps another claim holds locked; stop only when none is left.
        if (result.claimed.length === 0 && (await store.stats()).readySteps === 0) return;
      }
    };
    await Promise.all(racers.flatMap((store, s) => [0, 1, 2].map((n) => drain(store, `w${s}.${n}`))));

    const ids = claimed.map((c) => c.step.id);
    assert.equal(ids.length, 200);
    assert.equal(new Set(ids).size, 200);
    assert.ok(claimed.every((c) => c.step.attempts === 1 && c.task.input !== undefined));
    const started = events.filter((e) => e.type === 'task.started').map((e) => e.taskId);
    assert.equal(started.length, 50, 'each task is started exactly once');
    assert.equal(new Set(started).size, 50);
    assert.equal(events.filter((e) => e.type === 'step.started').length, 200);
  });

  test('the two branches of a diamond finished from two stores make the join ready exactly once', async () => {
    const [one, two] = await storesOnFreshDatabase(pg, 2);
    const diamond = [
      { name: 'a' },
      { name: 'b', depends_on: ['a'] },
      { name: 'c', depends_on: ['a'] },
      { name: 'd', depends_on: ['b', 'c'] },
    ];
    const results = await one!.createTasks(Array.from({ length: 30 }, () => sketchTask(diamond)));
    const taskIds = results.map((r) => r.state.task.id);
    const claim = () =>
      one!.claimSteps({ workerId: 'w', limit: 100, handlers: [HANDLER], now: T0 + 10, leaseMs: 60_000 });
    const complete = (store: Store, ids: string[], stepName: string) =>
      store.updateTasks(ids, (state) => {
        const step = state.steps.find((s) => s.name === stepName)!;
        const outcome = {
          kind: 'completed' as const,
          stepId: step.id,
          attempt: 1,
          result: { step: stepName },
        };
        return planOutcomes(state, [outcome], context(T0 + 2));
      });

    assert.equal((await claim()).claimed.length, 30);
    await complete(one!, taskIds, 'a');
    assert.equal((await claim()).claimed.length, 60);
    // Half the tasks finish b and c as two whole batches (in opposite id order, to provoke lock
    // ordering problems); the other half one task at a time, all at once.
    const batch = taskIds.slice(0, 15);
    const single = taskIds.slice(15);
    await Promise.all([
      complete(one!, batch, 'b'),
      complete(two!, [...batch].reverse(), 'c'),
      ...single.flatMap((id) => [complete(one!, [id], 'b'), complete(two!, [id], 'c')]),
    ]);

    for (const id of taskIds) {
      const state = (await one!.getTask(id))!;
      assert.deepEqual(
        state.steps.map((s) => s.status),
        ['completed', 'completed', 'completed', 'ready'],
      );
      const joins = await one!.listEvents({ taskId: id, limit: 100 });
      assert.equal(joins.filter((e) => e.type === 'step.ready' && e.step === 'd').length, 1);
    }
    const last = await claim();
    assert.equal(last.claimed.length, 30);
    assert.deepEqual(last.claimed[0]!.results, { b: { step: 'b' }, c: { step: 'c' } });
  });

  test('cancelling new tasks while other stores claim them never deadlocks or loses an update', async () => {
    const [canceller, ...claimers] = await storesOnFreshDatabase(pg, 3);
    const claim = (store: Store) =>
      store.claimSteps({ workerId: 'w', limit: 7, handlers: [HANDLER], now: T0 + 1, leaseMs: 60_000 });
    const cancel = (ids: string[]) =>
      canceller!.updateTasks(ids, (state) => planCancel(state, context(T0 + 2)));
    // Each round races fresh tasks; which side wins each step varies from run to run.
    for (let round = 0; round < 3; round++) {
      const results = await canceller!.createTasks(
        Array.from({ length: 40 }, () => sketchTask([{ name: 'a' }, { name: 'b' }, { name: 'c' }])),
      );
      const ids = results.map((r) => r.state.task.id);
      await Promise.all([
        cancel(ids.slice(0, 20)),
        ...claimers.flatMap((store) => [claim(store), claim(store), claim(store)]),
        cancel(ids.slice(20).reverse()),
      ]);
      for (const id of ids) await assertCancelledConsistently(canceller!, id);
    }
  });

  test('updateTasks waits for an in-flight claim of a step and plans from the claimed row', async () => {
    const db = await pg.createDatabase();
    const store = open(db.url);
    await store.migrate();
    const { state } = await createOne(store, sketchTask([{ name: 'a' }, { name: 'b' }]));
    const request = { workerId: 'w', limit: 1, handlers: [HANDLER], now: T0 + 1, leaseMs: 60_000 };
    await store.claimSteps(request); // claims a and starts the task
    const b = state.steps.find((step) => step.name === 'b')!;
    await withPgClient(db.url, async (claimer) => {
      // What a claim of b does to the row, left uncommitted.
      await claimer.query('BEGIN');
      await claimer.query(
        `UPDATE baton.steps SET status = 'running', attempts = 1, lease_owner = 'other' WHERE id = $1`,
        [b.id],
      );
      const cancelling = store.updateTasks([state.task.id], (s) => planCancel(s, context(T0 + 2)));
      await waitForLockWait(db.url);
      await claimer.query('COMMIT');
      await cancelling;
    });
    const history = await store.listEvents({ taskId: state.task.id, limit: 100 });
    const cancelledB = history.find((e) => e.type === 'step.cancelled' && e.step === 'b')!;
    assert.equal(cancelledB.from, 'running');
  });

  test('a claim skips steps of a pending task locked elsewhere instead of waiting for it', async () => {
    const db = await pg.createDatabase();
    const store = open(db.url);
    await store.migrate();
    const { state } = await createOne(store, sketchTask([{ name: 'a' }, { name: 'b' }]));
    const request = { workerId: 'w', limit: 10, handlers: [HANDLER], now: T0 + 1, leaseMs: 1000 };
    await withPgClient(db.url, async (client) => {
      await client.query('BEGIN');
      await client.query('SELECT 1 FROM baton.tasks WHERE id = $1 FOR UPDATE', [state.task.id]);
      const blocked = await withTimeout(store.claimSteps(request), 5000);
      assert.equal(blocked.claimed.length, 0);
      await client.query('COMMIT');
    });
    assert.equal((await store.claimSteps(request)).claimed.length, 2);
  });

  test('racing starts with one idempotency key create one task', async () => {
    const racers = await storesOnFreshDatabase(pg, 4);
    const results = await Promise.all(
      racers.map((store) => createOne(store, sketchTask([{ name: 'a' }], { idempotencyKey: 'k-1' }))),
    );
    assert.equal(results.filter((r) => r.created).length, 1);
    assert.equal(new Set(results.map((r) => r.state.task.id)).size, 1);
    assert.ok(results.every((r) => r.state.steps.length === 1));
    assert.equal((await racers[0]!.stats()).tasks.pending, 1);
  });

  test('a custom schema holds every table, apart from other schemas in the same database', async () => {
    const db = await pg.createDatabase();
    const tenantA = open(db.url, { schema: 'tenant_a' });
    const tenantB = open(db.url, { schema: 'tenant_b' });
    await tenantA.migrate();
    await tenantB.migrate();
    const { state } = await createOne(tenantA, sketchTask([{ name: 'a' }]));
    assert.equal(await tenantB.getTask(state.task.id), undefined);
    assert.equal((await tenantB.stats()).readySteps, 0);
    const tables = await withPgClient(db.url, (client) =>
      client.query<{ schema: string; table: string }>(
        `SELECT table_schema AS schema, table_name AS table FROM information_schema.tables
         WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`,
      ),
    );
    const names = [
      'asap_snapshots',
      'asap_usage_events',
      'baton_migrations',
      'dead_letters',
      'events',
      'steps',
      'tasks',
    ];
    assert.deepEqual(tables.rows, [
      ...names.map((table) => ({ schema: 'tenant_a', table })),
      ...names.map((table) => ({ schema: 'tenant_b', table })),
    ]);
    assert.throws(
      () => new PostgresStore({ connectionString: db.url, schema: 'Bad-Name' }),
      /invalid PostgreSQL schema/,
    );
  });

  test('a store on an unmigrated schema says so', async () => {
    const store = open(pg.url, { schema: 'never_migrated' });
    await assert.rejects(store.getTask('x'), { code: 'store_unavailable', message: /not migrated/ });
    await store.ping();
  });

  test('an idle connection that dies does not crash the process and is replaced', async () => {
    const db = await pg.createDatabase(); // every Baton session of this database is terminated
    const errors: Error[] = [];
    const store = open(db.url, { onError: (error) => errors.push(error) });
    await store.migrate();
    await store.ping(); // leaves one idle connection in the pool
    await withPgClient(db.url, (client) =>
      client.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'baton' AND pid <> pg_backend_pid()`,
      ),
    );
    for (let i = 0; i < 100 && errors.length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(errors.length, 1);
    await store.ping();
  });

  test('a connection that dies mid-query fails that call, not the process, and the store carries on', async () => {
    const db = await pg.createDatabase();
    const store = open(db.url);
    await store.migrate();
    const { state } = await createOne(store, sketchTask([{ name: 'a' }]));
    await withPgClient(db.url, async (holder) => {
      // Hold the task's lock so the store's transaction waits, checked out, in a query.
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM baton.tasks WHERE id = $1 FOR UPDATE', [state.task.id]);
      const waiting = store.updateTasks([state.task.id], (s) => planCancel(s, context(T0 + 2)));
      // Handled from now on: the store's call may fail before the terminating query returns.
      const failed = assert.rejects(waiting, /terminating connection/);
      await waitForLockWait(db.url);
      await holder.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'baton' AND wait_event_type = 'Lock'`,
      );
      await failed;
      await holder.query('ROLLBACK');
    });
    assert.equal((await store.getTask(state.task.id))!.task.status, 'pending', 'nothing half-written');
    await store.updateTasks([state.task.id], (s) => planCancel(s, context(T0 + 3)));
    assert.equal((await store.getTask(state.task.id))!.task.status, 'cancelled');
  });

  test('close() ends the pool: no sockets left, later calls fail clearly, closing twice is harmless', async () => {
    const sockets = () => process.getActiveResourcesInfo().filter((name) => name === 'TCPSocketWrap').length;
    const before = sockets();
    const store = new PostgresStore({ connectionString: pg.url, max: 4 });
    await store.migrate();
    await Promise.all([store.ping(), store.ping(), store.stats(), store.nextRunAt([HANDLER])]);
    assert.ok(sockets() > before);
    await store.close();
    // A socket handle goes away a moment after its connection has ended. (Fewer than before is
    // possible: other stores of this suite may close idle connections meanwhile.)
    for (let i = 0; i < 50 && sockets() > before; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(sockets() <= before, `${sockets() - before} sockets left open`);
    await assert.rejects(store.ping(), { code: 'store_unavailable', message: /closed/ });
    await store.close();
  });
});

/**
 * The task and all its steps are cancelled, and each step's cancel saw the claim if the claim
 * came first: a claim overwritten by a cancel planned from a stale row would show up as a
 * `step.started` followed by a cancel "from ready".
 */
async function assertCancelledConsistently(store: Store, taskId: string): Promise<void> {
  const state = (await store.getTask(taskId))!;
  assert.equal(state.task.status, 'cancelled');
  const history = await store.listEvents({ taskId, limit: 100 });
  for (const step of state.steps) {
    assert.equal(step.status, 'cancelled');
    const wasClaimed = history.some((e) => e.type === 'step.started' && e.step === step.name);
    const cancelled = history.find((e) => e.type === 'step.cancelled' && e.step === step.name)!;
    assert.equal(cancelled.from, wasClaimed ? 'running' : 'ready', `${taskId} ${step.name}`);
  }
}

/** Resolves once some session of the database is blocked waiting for a lock. */
async function waitForLockWait(url: string): Promise<void> {
  await withPgClient(url, async (client) => {
    for (let i = 0; i < 500; i++) {
      const { rowCount } = await client.query(
        `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      if (rowCount) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('no session started waiting for a lock within 5 s');
  });
}

/** Rejects if `promise` has not settled within `ms` (a claim that waits on a lock would hang). */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
