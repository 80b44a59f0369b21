import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { createEngine } from '../../src/engine/index.ts';
import { tempDir } from '../config/temp-dir.ts';
import register from './fixtures/handlers.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const HANDLERS = join(import.meta.dirname, 'fixtures', 'handlers.ts');

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `baton …` in a child process; `whileRunning` may act on it before it is awaited. */
function baton(args: string[], env: Record<string, string> = {}, cwd?: string) {
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<Exit>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, exited, output: () => stderr };
}

test('baton migrate applies the migrations once, then reports the store up to date', async (t) => {
  const store = `sqlite:${join(tempDir(t), 'migrate.db')}`;
  const first = await baton(['migrate', '--store', store]).exited;
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /applied 0001_init/);
  const again = await baton(['migrate', '--store', store, '--json']).exited;
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(JSON.parse(again.stdout), { store, applied: [] });
});

test('baton worker runs the tasks of its handlers module and stops gracefully on SIGTERM', async (t) => {
  const path = join(tempDir(t), 'worker.db');
  const engine = await createEngine({ store: `sqlite:${path}`, logger: pino({ level: 'silent' }) });
  t.after(() => engine.close());
  register(engine);
  const started = await engine.startTasks(
    Array.from({ length: 20 }, (_, n) => ({ template: 'cli.double', input: { n } })),
  );

  const worker = baton(['worker', '--store', `sqlite:${path}`, '--handlers', HANDLERS], {
    BATON_POLL_INTERVAL_MS: '20',
    BATON_LOG_LEVEL: 'info',
  });
  try {
    for (const [n, { task }] of started.entries()) {
      const done = await engine.waitForTask(task.id, { timeoutMs: 20_000 });
      assert.equal(done.status, 'completed');
      assert.equal((done.steps[0]!.result as { doubled: number }).doubled, n * 2);
      assert.equal(
        (done.steps[0]!.result as { pid: number }).pid,
        worker.child.pid,
        'run by the worker process',
      );
    }
  } finally {
    worker.child.kill('SIGTERM');
  }
  const exit = await worker.exited;
  assert.equal(exit.code, 0, exit.stderr);
  assert.match(exit.stderr, /engine\.worker\.started/);
  assert.match(exit.stderr, /engine\.worker\.stopping/);
});

test('baton worker refuses to start without handlers, with concurrency 0, or with a bad module', async (t) => {
  const dir = tempDir(t);
  const store = `sqlite:${join(dir, 'refuse.db')}`;
  const none = await baton(['worker', '--store', store]).exited;
  assert.equal(none.code, 2);
  assert.match(none.stderr, /needs handlers to run: pass --handlers/);
  const idle = await baton(['worker', '--store', store, '--handlers', HANDLERS, '--concurrency', '0']).exited;
  assert.equal(idle.code, 2);
  assert.match(idle.stderr, /concurrency 0 would run nothing/);
  const bad = await baton([
    'worker',
    '--store',
    store,
    '--handlers',
    join(import.meta.dirname, 'fixtures', 'not-a-handlers-module.ts'),
  ]).exited;
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /must export a default function/);
});
