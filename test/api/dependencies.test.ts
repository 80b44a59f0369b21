import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DependencyAnalysis } from '../../src/engine/dependencies.ts';
import { PermanentError, type TaskView } from '../../src/engine/index.ts';
import { apiFixture, call, runTask, type ErrorBody } from './helpers.ts';

type AnalysedTask = { task: TaskView & { dependencies?: DependencyAnalysis } };

describe('REST GET /tasks/:id?include_dependencies=true', () => {
  const server = apiFixture();

  before(() => {
    // `b` is the slow branch; `input.fail` names a step that fails for good.
    server.engine.registerHandler({
      namespace: 'deps',
      name: 'work',
      version: '1.0.0',
      handler: async (ctx) => {
        const input = ctx.input as { fail?: string };
        if (input.fail === ctx.step.name) throw new PermanentError(`${ctx.step.name} fails`);
        await sleep(ctx.step.name === 'b' ? 60 : 5);
        return { step: ctx.step.name };
      },
    });
    const work = (name: string, dependsOn: string[] = []) => ({
      name,
      handler: 'deps/work',
      depends_on: dependsOn,
    });
    server.engine.registerTemplate({
      namespace: 'deps',
      name: 'diamond',
      version: '1.0.0',
      steps: [work('a'), work('b', ['a']), work('c', ['a']), work('d', ['b', 'c'])],
    });
  });

  test('a finished diamond: levels, critical path by actual durations, bottlenecks and impact', async () => {
    const task = await runTask(server.app, 'deps.diamond');
    assert.equal(task.status, 'completed');
    const answer = await call<AnalysedTask>(
      server.app,
      'GET',
      `/api/v1/tasks/${task.id}?include_dependencies=true`,
    );
    assert.equal(answer.status, 200);
    assert.equal(answer.body.task.id, task.id);
    assert.equal(answer.body.task.steps.length, 4);
    const analysis = answer.body.task.dependencies!;
    assert.deepEqual(analysis.levels, [['a'], ['b', 'c'], ['d']]);
    assert.deepEqual(analysis.critical_path.steps, ['a', 'b', 'd']);
    assert.equal(analysis.critical_path.estimated, false);
    assert.ok(analysis.critical_path.duration_ms >= 60);
    assert.equal(analysis.bottlenecks[0]!.step, 'a');
    assert.equal(analysis.bottlenecks[0]!.downstream, 3);
    assert.deepEqual(Object.keys(analysis.impact).sort(), ['a', 'b', 'c', 'd']);

    const plain = await call<AnalysedTask>(server.app, 'GET', `/api/v1/tasks/${task.id}`);
    assert.equal(plain.body.task.dependencies, undefined);
  });

  test('weights from the query change the ranking; invalid weights are 400', async () => {
    const task = await runTask(server.app, 'deps.diamond');
    const url = `/api/v1/tasks/${task.id}?include_dependencies=true`;
    const byDuration = await call<AnalysedTask>(
      server.app,
      'GET',
      `${url}&weight_downstream=0&weight_duration=1&weight_failure=0`,
    );
    assert.equal(byDuration.status, 200);
    assert.equal(byDuration.body.task.dependencies!.bottlenecks[0]!.step, 'b');
    assert.deepEqual(byDuration.body.task.dependencies!.weights, { downstream: 0, duration: 1, failure: 0 });

    const negative = await call<ErrorBody>(server.app, 'GET', `${url}&weight_failure=-1`);
    assert.equal(negative.status, 400);
    assert.equal(negative.body.error.code, 'validation_failed');
    const zero = await call<ErrorBody>(
      server.app,
      'GET',
      `${url}&weight_downstream=0&weight_duration=0&weight_failure=0`,
    );
    assert.equal(zero.status, 400);
    assert.match(zero.body.error.message, /must not all be zero/);
  });

  test('steps that never ran are estimated from past runs of the template', async () => {
    await runTask(server.app, 'deps.diamond');
    const failed = await runTask(server.app, 'deps.diamond', { fail: 'b' });
    assert.equal(failed.status, 'failed');
    const answer = await call<AnalysedTask>(
      server.app,
      'GET',
      `/api/v1/tasks/${failed.id}?include_dependencies=true`,
    );
    const analysis = answer.body.task.dependencies!;
    assert.equal(analysis.durations.d!.source, 'estimate');
    assert.equal(analysis.durations.b!.source, 'actual');
    assert.equal(analysis.critical_path.estimated, true);
    assert.ok(analysis.impact.b! > 0);
  });

  test('an unknown task is 404', async () => {
    const answer = await call<ErrorBody>(server.app, 'GET', '/api/v1/tasks/nope?include_dependencies=true');
    assert.equal(answer.status, 404);
  });
});
