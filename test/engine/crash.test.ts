import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { createEngine } from '../../src/engine/index.ts';
import { SqliteStore } from '../../src/storage/index.ts';
import { defineCrashWorkflow } from './fixtures/crash-workflow.ts';
import { delay } from './harness.ts';

const WORKER = join(import.meta.dirname, 'fixtures', 'crash-worker.ts');
const dir = mkdtempSync(join(tmpdir(), 'baton-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface WorkerProcess {
  child: ChildProcess;
  /** Resolves once the process exited and its IPC channel and stdio are released. */
  closed: Promise<void>;
}

function startWorker(path: string, leaseMs: number): Promise<WorkerProcess> {
  const child = fork(WORKER, [path, String(leaseMs)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve({ child, closed }));
    child.once('exit', (code) => reject(new Error(`worker exited early with ${code}`)));
  });
}

test('SIGKILL mid-run: a new worker on the same file finishes every task, each step completion recorded once', async () => {
  const path = join(dir, 'crash.db');
  const store = new SqliteStore({ path });
  await store.migrate();
  const engine = await createEngine({ store, logger: pino({ level: 'silent' }) });
  defineCrashWorkflow(engine);
  const TASKS = 40;
  const ids: string[] = [];
  for (let i = 0; i < TASKS; i++)
    ids.push((await engine.startTask({ template: 'crash.diamond', input: { i } })).task.id);

  const first = await startWorker(path, 400);
  // Kill it while it is busy: some steps done, some running.
  for (let i = 0; i < 500; i++) {
    const stats = await store.stats();
    if (stats.runningSteps > 0 && stats.tasks.completed >= 5) break;
    await delay(10);
  }
  first.child.kill('SIGKILL');
  await first.closed;
  const orphaned = (await store.stats()).runningSteps;
  assert.ok(orphaned > 0, 'the worker died holding leases');

  const second = await startWorker(path, 400);
  try {
    for (const id of ids)
      assert.equal((await engine.waitForTask(id, { timeoutMs: 30_000 })).status, 'completed');
  } finally {
    second.child.kill('SIGTERM');
    await second.closed;
  }

  const events = await store.listEvents({ limit: 100_000 });
  const completions = new Map<string, number>();
  for (const event of events.filter((e) => e.type === 'step.completed')) {
    const key = `${event.taskId}/${event.step}`;
    completions.set(key, (completions.get(key) ?? 0) + 1);
  }
  assert.equal(completions.size, TASKS * 4, 'every step completed');
  assert.ok(
    [...completions.values()].every((count) => count === 1),
    'each completion recorded exactly once',
  );
  const recovered = events.filter((e) => e.reason === 'lease_expired');
  assert.equal(recovered.length, orphaned, 'every orphaned step was recovered through its expired lease');
  for (const id of ids) {
    const task = await engine.getTask(id);
    assert.deepEqual(task.steps.find((s) => s.name === 'd')!.result, { step: 'd', saw: ['b', 'c'] });
  }
  await engine.close();
  await store.close();
});
