/** `/api/v1/dlq`: the dead-letter queue (SPEC §2.7): list open entries, replay one's task. */
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type { ResourceOptions } from './index.ts';
import {
  DeadLetterListResponse,
  DeadLetterParams,
  errorResponses,
  ListDeadLettersQuery,
  TaskResponse,
} from './schemas.ts';

export const dlqRoutes: FastifyPluginCallbackTypebox<ResourceOptions> = (app, { engine }, done) => {
  app.get(
    '/dlq',
    {
      schema: {
        tags: ['dead letters'],
        operationId: 'listDeadLetters',
        summary: 'List dead letters',
        description:
          'Newest first; open entries only unless `include_closed=true` (an entry closes when its ' +
          'task is replayed or its step resolved). Cursor pagination as for tasks.',
        querystring: ListDeadLettersQuery,
        response: { 200: DeadLetterListResponse, ...errorResponses(400) },
      },
    },
    async (request) => {
      const { limit, cursor, include_closed: includeClosed } = request.query;
      return engine.listDeadLetters({
        ...(limit !== undefined ? { limit } : {}),
        ...(cursor !== undefined ? { cursor } : {}),
        ...(includeClosed === true ? { includeClosed } : {}),
      });
    },
  );

  app.post(
    '/dlq/:id/replay',
    {
      schema: {
        tags: ['dead letters'],
        operationId: 'replayDeadLetter',
        summary: "Replay a dead letter's task",
        description: 'Same as replaying the task: 409 when the task is no longer failed.',
        params: DeadLetterParams,
        response: { 200: TaskResponse, ...errorResponses(400, 404, 409) },
      },
    },
    async (request) => ({ task: await engine.replayDeadLetter(request.params.id) }),
  );
  done();
};
