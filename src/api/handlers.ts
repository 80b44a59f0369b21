/**
 * `/api/v1/handlers`: registered step handlers grouped by namespace (SPEC §2.2), the same shape at
 * every level (`{namespaces: {ns: [{name, version, kind, description}]}}`), narrowed by the path.
 */
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { NotFoundError } from '../util/errors.ts';
import type { ResourceOptions } from './index.ts';
import { errorResponses, HandlerNamespacesResponse, HandlerParams, NamespaceParams } from './schemas.ts';

export const handlerRoutes: FastifyPluginCallbackTypebox<ResourceOptions> = (app, { engine }, done) => {
  app.get(
    '/handlers',
    {
      schema: {
        tags: ['handlers'],
        operationId: 'listHandlers',
        summary: 'List handlers by namespace',
        description: 'Built-in handler types (`http`, `asap`) are listed under `builtin`, with version `""`.',
        response: { 200: HandlerNamespacesResponse, ...errorResponses() },
      },
    },
    () => ({ namespaces: engine.handlers.listByNamespace() }),
  );

  app.get(
    '/handlers/:namespace',
    {
      schema: {
        tags: ['handlers'],
        operationId: 'listNamespaceHandlers',
        summary: 'List the handlers of one namespace',
        params: NamespaceParams,
        response: { 200: HandlerNamespacesResponse, ...errorResponses(400, 404) },
      },
    },
    (request) => {
      const { namespace } = request.params;
      const handlers = engine.handlers.listByNamespace()[namespace];
      if (!handlers) throw new NotFoundError(`no handlers are registered in namespace ${namespace}`);
      return { namespaces: { [namespace]: handlers } };
    },
  );

  app.get(
    '/handlers/:namespace/:name',
    {
      schema: {
        tags: ['handlers'],
        operationId: 'getHandler',
        summary: 'Get a handler (every registered version, highest first)',
        params: HandlerParams,
        response: { 200: HandlerNamespacesResponse, ...errorResponses(400, 404) },
      },
    },
    (request) => {
      const { namespace, name } = request.params;
      const versions = (engine.handlers.listByNamespace()[namespace] ?? []).filter(
        (handler) => handler.name === name,
      );
      if (versions.length === 0) throw new NotFoundError(`no handler ${namespace}/${name} is registered`);
      return { namespaces: { [namespace]: versions } };
    },
  );
  done();
};
