/**
 * `npm run chaos:pg-restart`: PostgreSQL restarts in the middle of a run. Two `baton worker`
 * processes drain diamonds on a fresh database; when a third of the steps are done the local
 * cluster is restarted (`pg_ctlcluster … restart`, so this needs the machine's own PostgreSQL and
 * the rights to restart it). The workers must reconnect by themselves and finish everything, each
 * step completed exactly once. Prints what happened and ends with one JSON line.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { createEngine, type Engine } from '../src/engine/index.ts';
import { createFreshDatabase, envInt, sleep } from './lib/index.ts';

const TASKS = envInt('CHAOS_TASKS', 2000);
const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts');
const HANDLERS = join(import.meta.dirname, '..', 'test', 'engine', 'fixtures', 'multiprocess-handlers.ts');

function restartCluster(): void {
  const version = readdirSync('/etc/postgresql')[0];
  if (version === undefined) throw new Error('no local PostgreSQL cluster under /etc/postgresql');
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'restart'], {
    stdio: 'inherit',
  });
}

function startWorker(store: string): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [MAIN, 'worker', '--store', store, '--handlers', HANDLERS], {
    env: {
      PATH: process.env.PATH ?? '',
      BATON_LOG_LEVEL: 'silent',
      BATON_LEASE_MS: '5000',
      MP_DELAY_MS: '2',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return { child, exited: new Promise((resolve) => child.on('close', (code) => resolve(code))) };
}

/** Retries a store read while the database is down. */
async function retrying<T>(read: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await read();
    } catch {
      await sleep(200);
    }
  }
}

async function completedCount(engine: Engine): Promise<number> {
  return retrying(async () => (await engine.store.stats()).tasks.completed);
}

async function main(): Promise<void> {
  const database = await createFreshDatabase('chaos');
  const engine = await createEngine({ store: database.url, logger: pino({ level: 'silent' }) });
  const { default: register } = (await import(HANDLERS)) as { default: (engine: Engine) => void };
  register(engine);
  const workers: ReturnType<typeof startWorker>[] = [];
  try {
    for (let start = 0; start < TASKS; start += 500) {
      await engine.startTasks(
        Array.from({ length: Math.min(500, TASKS - start) }, (_, i) => ({
          template: 'mp.diamond',
          input: { i: start + i },
        })),
      );
    }
    workers.push(startWorker(database.url), startWorker(database.url));
    const started = performance.now();
    while ((await completedCount(engine)) < TASKS / 3) await sleep(20);
    const before = await completedCount(engine);
    process.stdout.write(`${before}/${TASKS} tasks done; restarting PostgreSQL…\n`);
    const restartAt = performance.now();
    restartCluster();
    const restartedAt = performance.now();
    let progressAt: number | undefined;
    while (true) {
      const done = await completedCount(engine);
      if (progressAt === undefined && done > before) progressAt = performance.now();
      if (done >= TASKS) break;
      if (performance.now() - started > 180_000)
        throw new Error(`stuck at ${done}/${TASKS} tasks after the restart`);
      await sleep(50);
    }
    const finishedAt = performance.now();
    const duplicates = await retrying(() => duplicateCompletions(engine));
    const result = {
      tasks: TASKS,
      done_before_restart: before,
      restart_ms: Math.round(restartedAt - restartAt),
      first_progress_after_restart_ms: Math.round((progressAt ?? finishedAt) - restartedAt),
      total_ms: Math.round(finishedAt - started),
      duplicate_completions: duplicates,
      ok: duplicates === 0,
    };
    process.stdout.write(
      `all ${TASKS} tasks completed; restart took ${result.restart_ms} ms, work resumed ${result.first_progress_after_restart_ms} ms after it; duplicate completions: ${duplicates}\n`,
    );
    process.stdout.write(`${JSON.stringify(result)}\n`);
    if (!result.ok) process.exitCode = 1;
  } finally {
    for (const worker of workers) worker.child.kill('SIGTERM');
    await Promise.all(workers.map((worker) => worker.exited));
    await engine.close();
    await database.drop();
  }
}

/** Steps whose completion was recorded more than once (must be 0). */
async function duplicateCompletions(engine: Engine): Promise<number> {
  const seen = new Set<string>();
  let duplicates = 0;
  let afterSeq = 0;
  for (;;) {
    const events = await engine.listEvents({ afterSeq, limit: 500 });
    for (const event of events) {
      if (event.type !== 'step.completed') continue;
      const key = `${event.task_id}/${event.step}`;
      if (seen.has(key)) duplicates += 1;
      seen.add(key);
    }
    if (events.length < 500) return duplicates;
    afterSeq = events.at(-1)!.seq;
  }
}

await main();
