// The operator commands end to end: `baton … --url` against a Baton server started here (REST
// over real HTTP), and `baton … --store` on an SQLite file, both through runCli in-process.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { createEngine, type Engine, type TaskView } from '../../src/engine/index.ts';
import { createServer } from '../../src/server/index.ts';
import { tempDir } from '../config/temp-dir.ts';
import register, { gate } from './fixtures/operator.ts';
import { runCaptured, type RunResult } from './run-cli.ts';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'operator.ts');
const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

function cli(args: readonly string[], env: Record<string, string>, cwd = process.cwd()): Promise<RunResult> {
  return runCaptured(args, cwd, env);
}

function json<T>(result: RunResult): T {
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as T;
}

describe('operator commands against a server (--url)', () => {
  let engine: Engine;
  let app: FastifyInstance;
  let env: Record<string, string>;
  let dir: string;
  const run = (...args: string[]): Promise<RunResult> => cli(args, env, dir);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'baton-operator-'));
    engine = await createEngine({
      store: `sqlite:${join(dir, 'server.db')}`,
      pollIntervalMs: 20,
      logger: pino({ level: 'silent' }),
    });
    register(engine);
    engine.startWorkers();
    app = createServer({ engine });
    env = { BATON_URL: await app.listen({ host: '127.0.0.1', port: 0 }) };
  });

  after(async () => {
    await app.close();
    await engine.close({ timeoutMs: 1000 });
    rmSync(dir, { recursive: true, force: true });
  });

  test('run --wait follows the task with one plain line per change and prints the result', async () => {
    const result = await run('run', 'ops.ok', '--input', '{"n": 2}', '--wait');
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.split('\n');
    assert.match(lines[0]!, /^ +\+\d+\.\d\ds {2}task task_\w+ \(ops\.ok@1\.0\.0\): 2 steps \(echo, flaky\)$/);
    assert.ok(
      lines.some((line) =>
        /flaky +attempt 1\/3 failed: upstream answered 503; next attempt in \d+ms$/.test(line),
      ),
      result.stdout,
    );
    assert.ok(
      lines.some((line) => /flaky +completed in \d+ms after 2 attempts$/.test(line)),
      result.stdout,
    );
    assert.ok(
      lines.some((line) => /task completed in /.test(line)),
      result.stdout,
    );
    assert.ok(result.stdout.includes('"attempts": 2'), 'the result is printed');
    assert.ok(!result.stdout.includes('\u001b['), 'no terminal codes when stdout is not a TTY');
  });

  test('run --wait exits 1 when the task fails, naming the step and the error', async () => {
    gate.open = false;
    const result = await run('run', 'ops.gated', '--wait');
    assert.equal(result.code, 1);
    assert.match(result.stdout, /publish +failed after 1\/3 attempts: the report bucket is not configured/);
    assert.match(
      result.stderr,
      /^baton: task task_\w+ failed: step publish failed: the report bucket is not configured/,
    );
  });

  test('run --wait --json prints only the ended task', async () => {
    const { task } = json<{ task: TaskView }>(
      await run('run', 'ops.ok', '--input', '{"n": 1}', '--wait', '--json'),
    );
    assert.equal(task.status, 'completed');
    assert.deepEqual(task.result, { flaky: { attempts: 2 } });
  });

  test('run without --wait returns at once; an idempotency key starts one task', async () => {
    const first = json<{ task: TaskView; created: boolean }>(
      await run('run', 'ops.ok', '--input', '{"n": 3}', '--idempotency-key', 'order-3', '--json'),
    );
    const again = json<{ task: TaskView; created: boolean }>(
      await run('run', 'ops.ok', '--input', '{"n": 3}', '--idempotency-key', 'order-3', '--json'),
    );
    assert.equal(first.created, true);
    assert.equal(again.created, false);
    assert.equal(again.task.id, first.task.id);
    const human = await run('run', 'ops.ok', '--input', '{"n": 4}');
    assert.match(human.stdout, /^started: task task_\w+ \(ops\.ok@1\.0\.0, pending\)\n$/);
  });

  test('run refuses bad input with exit 2 and an unknown template with exit 3', async () => {
    const notJson = await run('run', 'ops.ok', '--input', '{n: 1}');
    assert.equal(notJson.code, 2);
    assert.match(notJson.stderr, /^baton: --input is not valid JSON: .*position 1/);
    const invalid = await run('run', 'ops.ok', '--input', '{"n": "two"}');
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /input_schema of ops\.ok/);
    const unknown = await run('run', 'ops.nope', '--input', '{}');
    assert.equal(unknown.code, 3);
    assert.equal(unknown.stderr, 'baton: no template ops.nope is registered\n');
    const missing = await run('run', 'ops.ok', '--input-file', 'nope.json');
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, 'baton: cannot read --input-file nope.json: no such file\n');
  });

  test('run --wait --timeout exits 6 and leaves the task running; tasks cancel then stops it', async () => {
    const waited = await run('run', 'ops.slow', '--wait', '--timeout', '0.3');
    assert.equal(waited.code, 6);
    const id = /task (task_\w+) is still running after 300ms; it was not cancelled/.exec(waited.stderr)?.[1];
    assert.ok(id, waited.stderr);
    const cancelled = json<{ task: TaskView }>(await run('tasks', 'cancel', id, '--json'));
    assert.equal(cancelled.task.status, 'cancelled');
    const again = await run('tasks', 'cancel', id);
    assert.equal(again.code, 4, 'cancelling an ended task is a conflict');
    assert.match(again.stderr, /already cancelled/);
  });

  test('tasks list filters and pages; tasks show prints steps, history and the dependency analysis', async () => {
    await run('run', 'ops.ok', '--input', '{"n": 5}', '--wait');
    const failed = json<{ tasks: TaskView[] }>(await run('tasks', 'list', '--status', 'failed', '--json'));
    assert.ok(failed.tasks.length > 0 && failed.tasks.every((task) => task.status === 'failed'));
    const page = json<{ tasks: TaskView[]; next_cursor: string }>(
      await run('tasks', 'list', '--limit', '1', '--json'),
    );
    assert.equal(page.tasks.length, 1);
    const next = json<{ tasks: TaskView[] }>(
      await run('tasks', 'list', '--limit', '1', '--cursor', page.next_cursor, '--json'),
    );
    assert.notEqual(next.tasks[0]!.id, page.tasks[0]!.id);
    const table = await run('tasks', 'list', '--template', 'ops.ok', '--limit', '2');
    assert.match(table.stdout, /^ID +TEMPLATE +STATUS +CREATED +DURATION\n/);
    assert.match(table.stdout, /next page: the same command with --cursor \S+\n$/);

    const { task } = json<{ task: TaskView & { dependencies: { levels: string[][] } } }>(
      await run('tasks', 'show', page.tasks[0]!.id, '--deps', '--json'),
    );
    assert.deepEqual(task.dependencies.levels, [['echo'], ['flaky']]);
    const shown = await run('tasks', 'show', task.id, '--deps');
    for (const text of [
      'STEP  ',
      'flaky  ',
      'critical path: echo → flaky',
      'history',
      'running → completed',
    ]) {
      assert.ok(shown.stdout.includes(text), `${text} in\n${shown.stdout}`);
    }
    const bad = await run('tasks', 'list', '--limit', '0');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--limit <n>' argument '0' is invalid/);
    const missing = await run('tasks', 'show', 'task_nope');
    assert.deepEqual([missing.code, missing.stderr], [3, 'baton: no task with id task_nope\n']);
  });

  test('dlq list shows the failed task; dlq replay --wait runs it again once the cause is fixed', async () => {
    gate.open = false;
    const failed = await run('run', 'ops.gated', '--wait', '--json');
    assert.equal(failed.code, 1);
    const taskId = (JSON.parse(failed.stdout) as { task: TaskView }).task.id;
    const { dead_letters: letters } = json<{ dead_letters: { id: string; task_id: string; step: string }[] }>(
      await run('dlq', 'list', '--json'),
    );
    const letter = letters.find((entry) => entry.task_id === taskId);
    assert.equal(letter?.step, 'publish');
    const table = await run('dlq', 'list');
    assert.match(table.stdout, /ID +TASK +STEP +ATTEMPTS +CREATED +STATE +ERROR/);

    gate.open = true;
    const replayed = await run('dlq', 'replay', letter.id, '--wait');
    assert.equal(replayed.code, 0, replayed.stderr);
    assert.match(replayed.stdout, /^task task_\w+ replayed\n/);
    assert.match(replayed.stdout, /publish +completed in/);
    const again = await run('dlq', 'replay', letter.id);
    assert.equal(again.code, 4, 'the task is no longer failed');
    const nope = await run('tasks', 'replay', 'task_nope');
    assert.equal(nope.code, 3);
  });

  test('resolve marks a failed step resolved with a result, and the task completes', async () => {
    gate.open = false;
    const failed = await run('run', 'ops.gated', '--wait', '--json');
    const taskId = (JSON.parse(failed.stdout) as { task: TaskView }).task.id;
    const resolved = json<{ task: TaskView }>(
      await run('resolve', taskId, 'publish', '--result', '{"published": "by hand"}', '--json'),
    );
    assert.equal(resolved.task.status, 'completed');
    assert.deepEqual(resolved.task.result, { publish: { published: 'by hand' } });
    const unknown = await run('resolve', taskId, 'nope');
    assert.equal(unknown.code, 3);
    const badResult = await run('resolve', taskId, 'publish', '--result', 'nope');
    assert.equal(badResult.code, 2);
  });

  test('templates list, show and register (JSON and YAML files, conflicts, validation errors)', async () => {
    const list = json<{ templates: { name: string }[] }>(await run('templates', 'list', '--json'));
    assert.deepEqual(
      list.templates.map((template) => template.name),
      ['gated', 'ok', 'slow'],
    );
    const yamlShow = await run('templates', 'show', 'ops.ok');
    assert.match(yamlShow.stdout, /^namespace: ops\nname: ok\nversion: 1\.0\.0\n/);
    assert.equal((await run('templates', 'show', 'ops.nope')).code, 3);

    writeFileSync(
      join(dir, 'extra.yaml'),
      'namespace: ops\nname: extra\nsteps:\n  - { name: one, handler: ops/echo }\n',
    );
    writeFileSync(
      join(dir, 'extra.json'),
      JSON.stringify({ namespace: 'ops', name: 'extra', steps: [{ name: 'one', handler: 'ops/echo' }] }),
    );
    const registered = await run('templates', 'register', 'extra.yaml');
    assert.deepEqual(registered, { code: 0, stdout: 'registered ops.extra@0.1.0 (1 steps)\n', stderr: '' });
    const conflict = await run('templates', 'register', 'extra.json');
    assert.equal(conflict.code, 4);
    assert.match(conflict.stderr, /--replace in the CLI/);
    assert.equal((await run('templates', 'register', 'extra.json', '--replace')).code, 0);

    writeFileSync(
      join(dir, 'bad.yaml'),
      'namespace: ops\nname: bad\nsteps:\n  - { name: a, handler: ops/nope }\n  - { name: a, handler: ops/echo, depends_on: [zz] }\n',
    );
    const bad = await run('templates', 'register', 'bad.yaml');
    assert.equal(bad.code, 2);
    for (const problem of ["unknown handler 'ops/nope'", "duplicate step 'a'", "unknown step 'zz'"]) {
      assert.ok(bad.stderr.includes(problem), `${problem} in ${bad.stderr}`);
    }
  });

  test('handlers lists by namespace, or one namespace', async () => {
    const { namespaces } = json<{ namespaces: Record<string, { name: string; kind: string }[]> }>(
      await run('handlers', '--json'),
    );
    assert.deepEqual(
      namespaces.ops?.map((handler) => handler.name),
      ['echo', 'flaky', 'gate', 'slow'],
    );
    assert.ok(namespaces.builtin?.some((handler) => handler.name === 'http'));
    const human = await run('handlers', 'ops');
    assert.match(human.stdout, /^NAMESPACE +NAME +VERSION +KIND +DESCRIPTION\nops +echo +1\.0\.0 +code/);
    assert.doesNotMatch(human.stdout, /builtin/);
    assert.deepEqual(await run('handlers', 'nope'), {
      code: 3,
      stdout: '',
      stderr: 'baton: no handlers are registered in namespace nope\n',
    });
  });

  test('send delivers an ASAP envelope and prints the reply; an agent error exits 1', async () => {
    const payload = JSON.stringify({ conversation_id: 'c1', skill_id: 'ops.ok', input: { n: 1 } });
    const sent = await run('send', env.BATON_URL!, 'task.request', payload, '--json');
    assert.equal(sent.code, 0, sent.stderr);
    const reply = JSON.parse(sent.stdout) as { payload_type: string; payload: { status: string } };
    assert.equal(reply.payload_type, 'task.response');
    assert.equal(reply.payload.status, 'completed');

    const human = await run('send', env.BATON_URL!, 'task.request', payload);
    assert.match(human.stdout, /^task\.response from urn:asap:agent:baton \(envelope \w+\)\n {2}\{/);

    const unknownSkill = await run(
      'send',
      env.BATON_URL!,
      'task.request',
      '{"conversation_id": "c", "skill_id": "x.y", "input": {}}',
    );
    assert.equal(unknownSkill.code, 1);
    assert.match(unknownSkill.stderr, /answered error -32602 .*unknown skill/);
    assert.equal((await run('send', env.BATON_URL!, 'task.request', '[1]')).code, 2);
    assert.equal((await run('send', 'not a url', 'task.request', '{}')).code, 2);
  });

  test('SIGINT while following stops the wait with exit 130 and leaves the task running', async () => {
    const following = run('run', 'ops.slow', '--wait');
    await new Promise((resolve) => setTimeout(resolve, 300));
    process.emit('SIGINT');
    const result = await following;
    assert.equal(result.code, 130);
    const id = /stopped following task (task_\w+) \(running\); it was not cancelled/.exec(result.stderr)?.[1];
    assert.ok(id, result.stderr);
    assert.equal((await run('tasks', 'cancel', id)).code, 0, 'it was still running');
  });

  test('bin: a real baton process follows a task and exits with its outcome', async () => {
    const child = spawn(process.execPath, [MAIN, 'run', 'ops.gated', '--wait'], {
      env: { PATH: process.env.PATH ?? '', BATON_URL: env.BATON_URL! },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    gate.open = false;
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 1, stderr);
    assert.match(stdout, /extract +completed in/);
    assert.match(stderr, /failed: step publish failed: the report bucket is not configured/);
    assert.doesNotMatch(stderr, /\n {4}at /, 'no stack trace');
  });

  test('a server that cannot be reached exits 5 with the URL and what to check', async () => {
    const result = await cli(['tasks', 'list'], { BATON_URL: 'http://127.0.0.1:9' });
    assert.equal(result.code, 5);
    assert.match(
      result.stderr,
      /^baton: cannot reach Baton at http:\/\/127\.0\.0\.1:9\/.*ECONNREFUSED.*check --url or BATON_URL\)\n$/,
    );
  });
});

describe('operator commands on a store (--store)', () => {
  test('run --wait runs the steps in this process; tasks list and show read the same store', async (t) => {
    const dir = tempDir(t);
    const env = {
      BATON_STORE: `sqlite:${join(dir, 'local.db')}`,
      BATON_HANDLERS: FIXTURE,
      BATON_POLL_INTERVAL_MS: '20',
    };
    const ran = await cli(['run', 'ops.ok', '--input', '{"n": 7}', '--wait'], env, dir);
    assert.equal(ran.code, 0, ran.stderr);
    assert.match(ran.stdout, /task completed in/);
    const { tasks } = json<{ tasks: TaskView[] }>(await cli(['tasks', 'list', '--json'], env, dir));
    assert.deepEqual(
      tasks.map((task) => [task.template, task.status]),
      [['ops.ok', 'completed']],
    );
    const handlers = await cli(['handlers', 'ops', '--json'], env, dir);
    assert.equal(handlers.code, 0);
  });

  test('templates register explains that templates need a server', async (t) => {
    const dir = tempDir(t, {
      'extra.yaml': 'namespace: ops\nname: extra\nsteps:\n  - { name: one, handler: ops/echo }\n',
    });
    const env = { BATON_STORE: `sqlite:${join(dir, 'local.db')}`, BATON_HANDLERS: FIXTURE };
    const result = await cli(['templates', 'register', 'extra.yaml'], env, dir);
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /the template is valid, but templates are registered in the process that runs them: pass --url/,
    );
  });

  test('a store that cannot be opened exits 5 with the file, the reason and what to check', async (t) => {
    const dir = tempDir(t, {
      'not-a-db.db': 'this is not an SQLite file, but it is long enough to be read as one',
    });
    const result = await cli(['tasks', 'list', '--store', `sqlite:${join(dir, 'not-a-db.db')}`], {}, dir);
    assert.equal(result.code, 5);
    assert.match(
      result.stderr,
      /^baton: cannot open the SQLite store .*not-a-db\.db: file is not a database\n\(check --store or BATON_STORE\)\n$/,
    );
  });
});
