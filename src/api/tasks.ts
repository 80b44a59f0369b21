/**
 * `/api/v1/tasks`: start (idempotent with a key, optionally waiting for the end), list with
 * filters and cursor pagination, get with steps and history (and optionally the dependency
 * analysis), cancel, replay, and resolve a step.
 */
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type { Engine, TaskView } from '../engine/index.ts';
import { isFinished, waitForFinish } from '../server/handlers/tasks.ts';
import type { ResourceOptions } from './index.ts';
import {
  errorResponses,
  GetTaskQuery,
  ListTasksQuery,
  ResolveBody,
  StartTaskBody,
  StepParams,
  TaskListResponse,
  TaskParams,
  TaskResponse,
} from './schemas.ts';

export const taskRoutes: FastifyPluginCallbackTypebox<ResourceOptions> = (app, { engine, signal }, done) => {
  app.post(
    '/tasks',
    {
      schema: {
        tags: ['tasks'],
        operationId: 'startTask',
        summary: 'Start a task',
        description:
          '201 with the new task; 200 with the existing task when `idempotency_key` was used before ' +
          'for this template. With `wait_ms`, answers when the task ends or the wait is over, ' +
          'whichever comes first (the task is then shown as it is).',
        body: StartTaskBody,
        response: { 200: TaskResponse, 201: TaskResponse, ...errorResponses(400, 404, 413, 415) },
      },
    },
    async (request, reply) => {
      const { template, input, idempotency_key: idempotencyKey, wait_ms: waitMs } = request.body;
      const started = await engine.startTask({
        template,
        input,
        ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
      });
      let task = started.task;
      if (waitMs !== undefined && waitMs > 0 && !isFinished(task)) {
        task = await waitThenGet(engine, task.id, waitMs, signal);
      }
      return reply
        .code(started.created ? 201 : 200)
        .header('location', `${request.url.split('?', 1)[0]}/${task.id}`)
        .send({ task });
    },
  );

  app.get(
    '/tasks',
    {
      schema: {
        tags: ['tasks'],
        operationId: 'listTasks',
        summary: 'List tasks',
        description:
          'Newest first, without steps. Pass `next_cursor` as `cursor` for the next page; it is ' +
          'null on the last page.',
        querystring: ListTasksQuery,
        response: { 200: TaskListResponse, ...errorResponses(400) },
      },
    },
    async (request) => {
      const { status, template, namespace, limit, cursor } = request.query;
      return engine.listTasks({
        ...(status !== undefined ? { status } : {}),
        ...(template !== undefined ? { template } : {}),
        ...(namespace !== undefined ? { namespace } : {}),
        ...(limit !== undefined ? { limit } : {}),
        ...(cursor !== undefined ? { cursor } : {}),
      });
    },
  );

  app.get(
    '/tasks/:id',
    {
      schema: {
        tags: ['tasks'],
        operationId: 'getTask',
        summary: 'Get a task with its steps, result and history',
        description:
          'With `include_dependencies=true`, `task.dependencies` holds the dependency analysis ' +
          '(SPEC §2.9); `weight_*` change the impact weights (non-negative, not all zero).',
        params: TaskParams,
        querystring: GetTaskQuery,
        response: { 200: TaskResponse, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const { id } = request.params;
      const { include_dependencies: include, ...query } = request.query;
      if (include !== true) return { task: await engine.getTask(id) };
      const weights = {
        ...(query.weight_downstream !== undefined ? { downstream: query.weight_downstream } : {}),
        ...(query.weight_duration !== undefined ? { duration: query.weight_duration } : {}),
        ...(query.weight_failure !== undefined ? { failure: query.weight_failure } : {}),
      };
      const { task, dependencies } = await engine.analyzeTask(id, { weights });
      return { task: { ...task, dependencies } };
    },
  );

  app.post(
    '/tasks/:id/cancel',
    {
      schema: {
        tags: ['tasks'],
        operationId: 'cancelTask',
        summary: 'Cancel a task',
        description:
          'Pending and ready steps are cancelled; running steps see their signal aborted. A task ' +
          'that already ended is a conflict (409).',
        params: TaskParams,
        response: { 200: TaskResponse, ...errorResponses(400, 404, 409) },
      },
    },
    async (request) => ({ task: await engine.cancelTask(request.params.id) }),
  );

  app.post(
    '/tasks/:id/replay',
    {
      schema: {
        tags: ['tasks'],
        operationId: 'replayTask',
        summary: 'Replay a failed task',
        description:
          'Re-runs the failed and skipped steps with fresh attempts, keeping completed results. ' +
          'Only a failed task can be replayed (409 otherwise).',
        params: TaskParams,
        response: { 200: TaskResponse, ...errorResponses(400, 404, 409) },
      },
    },
    async (request) => ({ task: await engine.replayTask(request.params.id) }),
  );

  app.post(
    '/tasks/:id/steps/:step/resolve',
    {
      schema: {
        tags: ['tasks'],
        operationId: 'resolveStep',
        summary: 'Resolve a failed step by hand',
        description:
          'Marks a failed step as resolved, with `result` as its result (default null), so its ' +
          'dependents proceed. The body may be left out.',
        params: StepParams,
        body: ResolveBody,
        response: { 200: TaskResponse, ...errorResponses(400, 404, 409, 413, 415) },
      },
      // The body is optional: no body means no result.
      preValidation: (request, _reply, done) => {
        request.body ??= {};
        done();
      },
    },
    async (request) => {
      const { id, step } = request.params;
      return { task: await engine.resolveStep(id, step, { result: request.body.result }) };
    },
  );
  done();
};

/** The task once it ended, or as it is when `ms` pass or the server closes first. */
async function waitThenGet(engine: Engine, id: string, ms: number, signal: AbortSignal): Promise<TaskView> {
  await waitForFinish(engine, id, { timeoutMs: ms, signal, pollMs: 250 });
  return engine.getTask(id);
}
