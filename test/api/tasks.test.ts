import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TaskSummary, TaskView } from '../../src/engine/index.ts';
import { apiFixture, call, runTask, type ErrorBody } from './helpers.ts';

type TaskBody = { task: TaskView };
type TaskPage = { tasks: TaskSummary[]; next_cursor: string | null };

describe('REST tasks', () => {
  const server = apiFixture();

  test('POST /tasks: 201 with the task, then 200 with the same task for the same idempotency key', async () => {
    const request = { template: 'test.echo', input: { message: 'once' }, idempotency_key: 'key-1' };
    const first = await call<TaskBody>(server.app, 'POST', '/api/v1/tasks', request);
    assert.equal(first.status, 201);
    assert.equal(first.body.task.template, 'test.echo');
    assert.equal(first.body.task.idempotency_key, 'key-1');
    assert.equal(first.headers.location, `/api/v1/tasks/${first.body.task.id}`);
    const again = await call<TaskBody>(server.app, 'POST', '/api/v1/tasks', request);
    assert.equal(again.status, 200);
    assert.equal(again.body.task.id, first.body.task.id);
  });

  test('wait_ms answers with the finished task: steps, result and history', async () => {
    const answer = await call<TaskBody>(server.app, 'POST', '/api/v1/tasks', {
      template: 'test.pair',
      wait_ms: 10_000,
    });
    assert.equal(answer.status, 201);
    const { task } = answer.body;
    assert.equal(task.status, 'completed');
    assert.deepEqual(task.result, { second: { n: 2 } });
    assert.deepEqual(
      task.steps.map((step) => [step.name, step.status, step.attempts]),
      [
        ['first', 'completed', 1],
        ['second', 'completed', 1],
      ],
    );
    assert.ok(task.history!.some((entry) => entry.step === null && entry.to === 'completed'));
  });

  test('wait_ms answers when the wait is over if the task has not ended', async () => {
    const started = Date.now();
    const answer = await call<TaskBody>(server.app, 'POST', '/api/v1/tasks', {
      template: 'test.slow',
      input: { ms: 5000 },
      wait_ms: 100,
    });
    assert.equal(answer.status, 201);
    assert.ok(['pending', 'running'].includes(answer.body.task.status));
    assert.ok(Date.now() - started < 3000);
    await call(server.app, 'POST', `/api/v1/tasks/${answer.body.task.id}/cancel`);
  });

  test('a bad start body is 400 with a detail per bad field', async () => {
    const answer = await call<ErrorBody>(server.app, 'POST', '/api/v1/tasks', {
      input: {},
      wait_ms: -1,
      extra: true,
    });
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error.code, 'validation_failed');
    const details = answer.body.error.details!;
    assert.deepEqual(details.map((detail) => detail.path).sort(), ['extra', 'template', 'wait_ms']);
    assert.ok(details.every((detail) => detail.message.length > 0));
  });

  test("input that does not match the template's input_schema is 400 with the input path", async () => {
    const answer = await call<ErrorBody>(server.app, 'POST', '/api/v1/tasks', {
      template: 'test.slow',
      input: { ms: 'soon' },
    });
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error.code, 'validation_failed');
    assert.deepEqual(answer.body.error.details, [{ path: 'input.ms', message: 'must be integer' }]);
  });

  test('starting an unknown template is 404', async () => {
    const answer = await call<ErrorBody>(server.app, 'POST', '/api/v1/tasks', { template: 'test.nothing' });
    assert.equal(answer.status, 404);
    assert.equal(answer.body.error.code, 'not_found');
  });

  test('GET /tasks/:id: the task with steps and history; 404 for an unknown id', async () => {
    const done = await runTask(server.app, 'test.echo', { message: 'hi' });
    const answer = await call<TaskBody>(server.app, 'GET', `/api/v1/tasks/${done.id}`);
    assert.equal(answer.status, 200);
    assert.equal(answer.body.task.id, done.id);
    assert.deepEqual(answer.body.task.result, { echo: { echoed: { message: 'hi' } } });
    assert.deepEqual(
      answer.body.task.history!.map((entry) => [entry.step, entry.to]).filter(([step]) => step === null),
      [
        [null, 'pending'],
        [null, 'running'],
        [null, 'completed'],
      ],
    );
    const unknown = await call<ErrorBody>(server.app, 'GET', '/api/v1/tasks/task_nope');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'not_found');
  });

  test('GET /tasks pages with a cursor, newest first, without gaps or repeats', async () => {
    const template = { namespace: 'paging', name: 'list', steps: [{ name: 'echo', handler: 'test/echo' }] };
    assert.equal((await call(server.app, 'POST', '/api/v1/templates', template)).status, 201);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(
        (await call<TaskBody>(server.app, 'POST', '/api/v1/tasks', { template: 'paging.list' })).body.task.id,
      );
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `/api/v1/tasks?template=paging.list&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page: { status: number; body: TaskPage } = await call<TaskPage>(server.app, 'GET', query);
      assert.equal(page.status, 200);
      assert.ok(page.body.tasks.length <= 2);
      seen.push(...page.body.tasks.map((task) => task.id));
      cursor = page.body.next_cursor;
      pages++;
    } while (cursor !== null);
    assert.equal(pages, 3);
    assert.deepEqual(seen, [...ids].reverse());
  });

  test('GET /tasks filters by status, template and namespace', async () => {
    const failed = await runTask(server.app, 'test.fail');
    assert.equal(failed.status, 'failed');
    await runTask(server.app, 'test.echo');

    const byStatus = await call<TaskPage>(server.app, 'GET', '/api/v1/tasks?status=failed&limit=500');
    assert.ok(byStatus.body.tasks.length > 0);
    assert.ok(byStatus.body.tasks.every((task) => task.status === 'failed'));
    assert.ok(byStatus.body.tasks.some((task) => task.id === failed.id));

    const byTemplate = await call<TaskPage>(server.app, 'GET', '/api/v1/tasks?template=test.fail&limit=500');
    assert.ok(byTemplate.body.tasks.every((task) => task.template === 'test.fail'));
    const byName = await call<TaskPage>(server.app, 'GET', '/api/v1/tasks?template=fail&namespace=test');
    assert.deepEqual(
      byName.body.tasks.map((task) => task.id),
      byTemplate.body.tasks.map((task) => task.id),
    );

    const byNamespace = await call<TaskPage>(server.app, 'GET', '/api/v1/tasks?namespace=paging&limit=500');
    assert.ok(byNamespace.body.tasks.every((task) => task.namespace === 'paging'));
    const none = await call<TaskPage>(server.app, 'GET', '/api/v1/tasks?namespace=nothing');
    assert.deepEqual(none.body, { tasks: [], next_cursor: null });
  });

  test('GET /tasks with a bad query is 400 with a detail per parameter', async () => {
    const answer = await call<ErrorBody>(
      server.app,
      'GET',
      '/api/v1/tasks?status=sleeping&limit=0&colour=red',
    );
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error.code, 'validation_failed');
    assert.deepEqual(answer.body.error.details!.map((detail) => detail.path).sort(), [
      'query.colour',
      'query.limit',
      'query.status',
    ]);
  });

  test('cancel: 200 with the cancelled task, 409 once it has ended, 404 for an unknown id', async () => {
    const started = await call<TaskBody>(server.app, 'POST', '/api/v1/tasks', {
      template: 'test.slow',
      input: { ms: 10_000 },
    });
    const cancelled = await call<TaskBody>(
      server.app,
      'POST',
      `/api/v1/tasks/${started.body.task.id}/cancel`,
    );
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.task.status, 'cancelled');
    const again = await call<ErrorBody>(server.app, 'POST', `/api/v1/tasks/${started.body.task.id}/cancel`);
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'conflict');

    const finished = await runTask(server.app, 'test.echo');
    const late = await call<ErrorBody>(server.app, 'POST', `/api/v1/tasks/${finished.id}/cancel`, {});
    assert.equal(late.status, 409);
    assert.equal(late.body.error.code, 'conflict');
    assert.equal((await call(server.app, 'POST', '/api/v1/tasks/task_nope/cancel')).status, 404);
  });

  test('a bodiless POST with Content-Type: application/json is fine', async () => {
    const started = await call<TaskBody>(server.app, 'POST', '/api/v1/tasks', {
      template: 'test.slow',
      input: { ms: 10_000 },
    });
    const answer = await call<TaskBody>(
      server.app,
      'POST',
      `/api/v1/tasks/${started.body.task.id}/cancel`,
      '',
      {
        'content-type': 'application/json',
      },
    );
    assert.equal(answer.status, 200);
  });

  test('replay: a failed task runs again (200); a completed one is 409; unknown is 404', async () => {
    const failed = await runTask(server.app, 'test.fail');
    const replayed = await call<TaskBody>(server.app, 'POST', `/api/v1/tasks/${failed.id}/replay`);
    assert.equal(replayed.status, 200);
    assert.equal(replayed.body.task.id, failed.id);
    assert.ok(replayed.body.task.history!.some((entry) => /replay/.test(entry.reason ?? '')));
    await server.engine.waitForTask(failed.id, { timeoutMs: 5000 });

    const completed = await runTask(server.app, 'test.echo');
    const conflict = await call<ErrorBody>(server.app, 'POST', `/api/v1/tasks/${completed.id}/replay`);
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.error.code, 'conflict');
    assert.equal((await call(server.app, 'POST', '/api/v1/tasks/task_nope/replay')).status, 404);
  });

  test('resolve: a failed step takes the given result and the task completes', async () => {
    const failed = await runTask(server.app, 'test.fail');
    const resolved = await call<TaskBody>(
      server.app,
      'POST',
      `/api/v1/tasks/${failed.id}/steps/fail/resolve`,
      {
        result: { fixed: 'by hand' },
      },
    );
    assert.equal(resolved.status, 200);
    const step = resolved.body.task.steps.find((candidate) => candidate.name === 'fail')!;
    assert.equal(step.status, 'resolved');
    assert.deepEqual(step.result, { fixed: 'by hand' });
    const done = await server.engine.waitForTask(failed.id, { timeoutMs: 5000 });
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.result, { fail: { fixed: 'by hand' } });

    const again = await call<ErrorBody>(server.app, 'POST', `/api/v1/tasks/${failed.id}/steps/fail/resolve`);
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'conflict');
  });

  test('resolve without a body resolves with null; unknown step or task is 404; extra fields 400', async () => {
    const failed = await runTask(server.app, 'test.fail');
    const unknownStep = await call<ErrorBody>(
      server.app,
      'POST',
      `/api/v1/tasks/${failed.id}/steps/nope/resolve`,
    );
    assert.equal(unknownStep.status, 404);
    assert.equal(unknownStep.body.error.code, 'not_found');
    const unknownTask = await call(server.app, 'POST', '/api/v1/tasks/task_nope/steps/fail/resolve', {});
    assert.equal(unknownTask.status, 404);
    const extra = await call<ErrorBody>(server.app, 'POST', `/api/v1/tasks/${failed.id}/steps/fail/resolve`, {
      results: 1,
    });
    assert.equal(extra.status, 400);
    assert.equal(extra.body.error.details![0]!.path, 'results');
    const resolved = await call<TaskBody>(
      server.app,
      'POST',
      `/api/v1/tasks/${failed.id}/steps/fail/resolve`,
    );
    assert.equal(resolved.status, 200);
    assert.equal(resolved.body.task.steps[0]!.result, null);
  });
});
