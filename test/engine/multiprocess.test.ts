/**
 * Several `baton worker` processes on one PostgreSQL database (SPEC §2.5): the work splits between
 * them, every step completes exactly once and never before its dependencies, and a worker killed
 * with SIGKILL loses nothing: its steps run again elsewhere once their leases expire.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { createEngine, type Engine, type TaskView } from '../../src/engine/index.ts';
import { describePostgres, withPgClient } from '../support/postgres.ts';
import register from './fixtures/multiprocess-handlers.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const HANDLERS = join(import.meta.dirname, 'fixtures', 'multiprocess-handlers.ts');

interface Worker {
  child: ChildProcess;
  exited: Promise<number | null>;
}

function startWorker(store: string, env: Record<string, string>): Worker {
  const child = spawn(process.execPath, [MAIN, 'worker', '--store', store, '--handlers', HANDLERS], {
    env: { PATH: process.env.PATH ?? '', BATON_LOG_LEVEL: 'warn', BATON_POLL_INTERVAL_MS: '50', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return { child, exited: new Promise((resolve) => child.on('close', (code) => resolve(code))) };
}

async function stopAll(workers: Worker[]): Promise<(number | null)[]> {
  for (const { child } of workers)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  return Promise.all(workers.map((worker) => worker.exited));
}

async function startDiamonds(engine: Engine, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 500) {
    const batch = Array.from({ length: Math.min(500, count - start) }, (_, i) => ({
      template: 'mp.diamond',
      input: { i: start + i },
    }));
    ids.push(...(await engine.startTasks(batch)).map(({ task }) => task.id));
  }
  return ids;
}

/** Every step completed once, after its dependencies; the join saw both branches. */
function assertDiamondRanInOrder(task: TaskView): void {
  assert.equal(task.status, 'completed', task.id);
  const steps = new Map(task.steps.map((step) => [step.name, step]));
  for (const step of task.steps) {
    for (const dependency of step.depends_on) {
      assert.ok(
        Date.parse(step.started_at!) >= Date.parse(steps.get(dependency)!.finished_at!),
        `${task.id}: ${step.name} started after ${dependency} finished`,
      );
    }
  }
  assert.deepEqual((steps.get('d')!.result as { saw: string[] }).saw, ['b', 'c']);
}

/** Step completions per `task/step` of these tasks, and how many attempts ended by lease expiry. */
async function scanEvents(engine: Engine, taskIds: string[]) {
  const wanted = new Set(taskIds);
  const counts = new Map<string, number>();
  let leaseExpiries = 0;
  let afterSeq = 0;
  for (;;) {
    const events = await engine.listEvents({ afterSeq, limit: 500 });
    for (const event of events) {
      if (!wanted.has(event.task_id ?? '')) continue;
      if (event.reason === 'lease_expired') leaseExpiries += 1;
      if (event.type !== 'step.completed') continue;
      const key = `${event.task_id}/${event.step}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    if (events.length < 500) return { counts, leaseExpiries };
    afterSeq = events.at(-1)!.seq;
  }
}

describePostgres('several worker processes on one PostgreSQL', (pg) => {
  let engine: Engine;
  before(async () => {
    engine = await createEngine({ store: pg.url, logger: pino({ level: 'silent' }), pollIntervalMs: 100 });
    register(engine);
  });
  after(() => engine.close());

  test('3 workers drain 2,000 diamonds: each step exactly once, in dependency order, nothing left', async () => {
    const ids = await startDiamonds(engine, 2000);
    const workers = [1, 2, 3].map(() => startWorker(pg.url, {}));
    try {
      const pids = new Set<number>();
      for (const id of ids) {
        const task = await engine.waitForTask(id, { timeoutMs: 120_000 });
        assertDiamondRanInOrder(task);
        for (const step of task.steps) pids.add((step.result as { pid: number }).pid);
      }
      assert.equal(pids.size, 3, 'the work split between the three processes');
    } finally {
      assert.deepEqual(await stopAll(workers), [0, 0, 0]);
    }
    const { counts } = await scanEvents(engine, ids);
    const mine = [...counts];
    assert.equal(mine.length, 2000 * 4);
    assert.ok(
      mine.every(([, count]) => count === 1),
      'each step completion recorded once',
    );
    assert.equal((await engine.store.stats()).runningSteps, 0);
  });

  test('kill -9 one of three workers mid-run: its steps run again on the others after the lease expires', async () => {
    const ids = await startDiamonds(engine, 300);
    const env = { BATON_LEASE_MS: '2000', MP_DELAY_MS: '20', BATON_WORKER_CONCURRENCY: '8' };
    const workers = [1, 2, 3].map(() => startWorker(pg.url, env));
    const victim = workers[0]!;
    try {
      // Wait until the victim holds leases, then kill it without a chance to clean up.
      for (let i = 0; i < 400; i++) {
        const held = await withPgClient(pg.url, (client) =>
          client.query<{ n: string }>(
            `SELECT count(*) AS n FROM baton.steps WHERE status = 'running' AND lease_owner LIKE $1`,
            [`%:${victim.child.pid}:%`],
          ),
        );
        if (Number(held.rows[0]!.n) > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      victim.child.kill('SIGKILL');
      await victim.exited;
      for (const id of ids) assertDiamondRanInOrder(await engine.waitForTask(id, { timeoutMs: 60_000 }));
    } finally {
      await stopAll(workers);
    }
    const { counts, leaseExpiries } = await scanEvents(engine, ids);
    assert.ok(leaseExpiries > 0, "the victim's steps were recovered through their expired leases");
    const mine = [...counts];
    assert.equal(mine.length, 300 * 4, 'nothing lost');
    assert.ok(
      mine.every(([, count]) => count === 1),
      'each step completion recorded once',
    );
  });

  test('LISTEN/NOTIFY: a task started by another process runs at once, also after the listener reconnects', async () => {
    // Polls once a minute: only a wake-up can make it run the task within the deadline.
    const worker = await createEngine({
      store: pg.url,
      logger: pino({ level: 'silent' }),
      pollIntervalMs: 60_000,
    });
    const starter = await createEngine({
      store: pg.url,
      logger: pino({ level: 'silent' }),
      pollIntervalMs: 20,
    });
    try {
      register(worker);
      register(starter);
      worker.startWorkers();
      await new Promise((resolve) => setTimeout(resolve, 300)); // the worker is idle, listening
      const first = await starter.startTask({ template: 'mp.diamond', input: { wake: 1 } });
      assertDiamondRanInOrder(await starter.waitForTask(first.task.id, { timeoutMs: 5_000 }));

      // Drop the listening connection as a server restart would; the channel reconnects by itself.
      await withPgClient(pg.url, (client) =>
        client.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'baton-listen' AND datname = current_database()`,
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      const second = await starter.startTask({ template: 'mp.diamond', input: { wake: 2 } });
      assertDiamondRanInOrder(await starter.waitForTask(second.task.id, { timeoutMs: 5_000 }));
    } finally {
      await worker.close();
      await starter.close();
    }
  });
});
