import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DeadLetterView, TaskView } from '../../src/engine/index.ts';
import { apiFixture, call, runTask, type ErrorBody } from './helpers.ts';

type DeadLetterPage = { dead_letters: DeadLetterView[]; next_cursor: string | null };

describe('REST dead letters', () => {
  const server = apiFixture();

  test('a failed task is listed with its step, error and attempts', async () => {
    const failed = await runTask(server.app, 'test.fail');
    const answer = await call<DeadLetterPage>(server.app, 'GET', '/api/v1/dlq');
    assert.equal(answer.status, 200);
    const entry = answer.body.dead_letters.find((candidate) => candidate.task_id === failed.id);
    assert.ok(entry);
    assert.equal(entry.step, 'fail');
    assert.equal(entry.attempts, 1);
    assert.equal(entry.error?.message, 'this step always fails');
    for (const key of ['id', 'task_id', 'step', 'error', 'attempts', 'created_at'])
      assert.ok(key in entry, key);
  });

  test('pages with a cursor', async () => {
    for (let i = 0; i < 3; i++) await runTask(server.app, 'test.fail');
    const first = await call<DeadLetterPage>(server.app, 'GET', '/api/v1/dlq?limit=2');
    assert.equal(first.body.dead_letters.length, 2);
    assert.ok(first.body.next_cursor);
    const second = await call<DeadLetterPage>(
      server.app,
      'GET',
      `/api/v1/dlq?limit=2&cursor=${first.body.next_cursor}`,
    );
    const ids = [...first.body.dead_letters, ...second.body.dead_letters].map((entry) => entry.id);
    assert.equal(new Set(ids).size, ids.length);
    assert.equal((await call(server.app, 'GET', '/api/v1/dlq?limit=501')).status, 400);
  });

  test("POST /dlq/:id/replay replays the entry's task and closes the entry; 404 for an unknown id", async () => {
    const failed = await runTask(server.app, 'test.fail');
    const listed = await call<DeadLetterPage>(server.app, 'GET', '/api/v1/dlq?limit=500');
    const entry = listed.body.dead_letters.find((candidate) => candidate.task_id === failed.id)!;
    const replayed = await call<{ task: TaskView }>(server.app, 'POST', `/api/v1/dlq/${entry.id}/replay`);
    assert.equal(replayed.status, 200);
    assert.equal(replayed.body.task.id, failed.id);
    assert.ok(['pending', 'running', 'failed'].includes(replayed.body.task.status));

    const open = await call<DeadLetterPage>(server.app, 'GET', '/api/v1/dlq?limit=500');
    assert.ok(!open.body.dead_letters.some((candidate) => candidate.id === entry.id));
    const all = await call<DeadLetterPage>(server.app, 'GET', '/api/v1/dlq?limit=500&include_closed=true');
    assert.ok(
      all.body.dead_letters.some((candidate) => candidate.id === entry.id && candidate.closed_at !== null),
    );

    const unknown = await call<ErrorBody>(server.app, 'POST', '/api/v1/dlq/dlq_nope/replay');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'not_found');
  });
});
