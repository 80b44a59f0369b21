/**
 * `restPlugin`: Baton's REST API (SPEC §5) under `/api/v1`, its OpenAPI 3 document at
 * `/api/openapi.json` and a docs UI at `/docs`. The plugin is encapsulated: its validators,
 * body parsers and error handler apply to these routes only (the ASAP routes keep their own
 * wire-defined behaviour).
 *
 * @example
 * await app.register(restPlugin, { engine, signal: closing.signal });
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Ajv, type Options as AjvOptions } from 'ajv';
import type { Engine } from '../engine/index.ts';
import { ValidationError, coerceError } from '../util/errors.ts';
import { dlqRoutes } from './dlq.ts';
import { restError, sendRestError } from './errors.ts';
import { eventRoutes, type EventStreamOptions } from './events.ts';
import { handlerRoutes } from './handlers.ts';
import { registerOpenApi } from './openapi.ts';
import { SHARED_SCHEMAS } from './schemas.ts';
import { taskRoutes } from './tasks.ts';
import { templateRoutes } from './templates.ts';

export interface RestOptions {
  /** The event stream's heartbeat and polling (see `EventStreamOptions`). */
  events?: EventStreamOptions;
  /** Serve the docs UI at `/docs` (default true; the OpenAPI document is always served). */
  docs?: boolean;
}

export interface RestPluginOptions extends RestOptions {
  engine: Engine;
  /** Aborted when the server closes: event streams end and `wait_ms` waits answer at once. */
  signal: AbortSignal;
}

/** What every resource plugin receives. */
export interface ResourceOptions {
  engine: Engine;
  signal: AbortSignal;
}

export const restPlugin: FastifyPluginAsync<RestPluginOptions> = async (app, options) => {
  configureValidation(app);
  // Responses are the engine's views as they are; their schemas document them (SPEC §5: more
  // fields may be added, and a serializer built from the schemas would silently drop them).
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.setErrorHandler(sendRestError);
  configureJsonBodies(app);
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);

  // Before the routes: the document is built from the routes registered after it.
  await registerOpenApi(app, { docs: options.docs !== false });

  const resource: ResourceOptions = { engine: options.engine, signal: options.signal };
  await app.register(
    async (api) => {
      api.setNotFoundHandler(notFound);
      await api.register(
        async (v1) => {
          await v1.register(templateRoutes, resource);
          await v1.register(taskRoutes, resource);
          await v1.register(dlqRoutes, resource);
          await v1.register(handlerRoutes, resource);
          await v1.register(eventRoutes, { ...resource, ...options.events });
        },
        { prefix: '/v1' },
      );
    },
    { prefix: '/api' },
  );
};

function notFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body } = restError(
    404,
    'not_found',
    `no route ${request.method} ${request.url.split('?')[0]}`,
  );
  return reply.code(status).send(body);
}

/**
 * Request validation with all errors reported at once. Bodies are taken as sent (a string is
 * not a number); query strings, path parameters and headers are text, so they are coerced.
 * Unknown body fields are refused, not silently removed, so a misspelt field is an error.
 */
function configureValidation(app: FastifyInstance): void {
  const base: AjvOptions = { allErrors: true, strict: false, logger: false, useDefaults: true };
  const body = new Ajv({ ...base, coerceTypes: false });
  const text = new Ajv({ ...base, coerceTypes: 'array' });
  for (const schema of SHARED_SCHEMAS) {
    body.addSchema(schema);
    text.addSchema(schema);
  }
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? body : text).compile(schema as object),
  );
}

/**
 * JSON bodies: fastify's parser (which refuses prototype poisoning), except that an empty body is
 * no body (a bodiless `POST …/cancel` sent with `Content-Type: application/json` is fine) and a
 * syntax error says where it is. Plain text is not accepted.
 */
function configureJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, text, done) => {
    const json = String(text); // parseAs: 'string'
    if (json.length === 0) return done(null, undefined);
    void parseJson(request, json, (error, value) => {
      if (error) return done(invalidJson(json), undefined);
      done(null, value);
    });
  });
}

function invalidJson(text: string): ValidationError {
  const message = jsonProblem(text);
  return new ValidationError(`the request body is not valid JSON: ${message}`, [{ path: 'body', message }]);
}

/** Why fastify's parser refused `text`: V8's syntax error names the position, which the client needs. */
function jsonProblem(text: string): string {
  try {
    JSON.parse(text);
    return 'contains a forbidden key (__proto__ or constructor.prototype)';
  } catch (error) {
    return coerceError(error).message;
  }
}
