/**
 * `/api/v1/templates`: register a template from JSON or YAML, list them, get one by reference.
 * Templates live in the engine's registry; registration validates everything and is atomic.
 */
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { parseTemplateSource } from '../engine/templates.ts';
import { NotFoundError } from '../util/errors.ts';
import type { ResourceOptions } from './index.ts';
import {
  errorResponses,
  RegisterTemplateQuery,
  TemplateListResponse,
  TemplateParams,
  TemplateResponse,
} from './schemas.ts';

/** The YAML media types a template may be sent as (besides `application/json`). */
export const YAML_CONTENT_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];

export const templateRoutes: FastifyPluginCallbackTypebox<ResourceOptions> = (app, { engine }, done) => {
  // Only these routes read YAML: the parser is local to this plugin.
  app.addContentTypeParser(YAML_CONTENT_TYPES, { parseAs: 'string' }, (_request, text, parsed) => {
    try {
      parsed(null, parseTemplateSource(String(text), 'yaml'));
    } catch (error) {
      parsed(error as Error, undefined);
    }
  });

  app.post(
    '/templates',
    {
      schema: {
        tags: ['templates'],
        operationId: 'registerTemplate',
        summary: 'Register a template (JSON or YAML)',
        description:
          'Validates the whole template first (steps, dependencies, cycles, handlers, input schema) ' +
          'and registers nothing when anything is wrong. A template with the same namespace, name ' +
          'and version is a conflict unless `replace=true`.',
        consumes: ['application/json', ...YAML_CONTENT_TYPES],
        querystring: RegisterTemplateQuery,
        body: Type.Ref('Template'),
        response: { 201: TemplateResponse, ...errorResponses(400, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      const template = engine.registerTemplate(request.body, { replace: request.query.replace === true });
      const ref = `${template.namespace}.${template.name}@${template.version}`;
      return reply
        .code(201)
        .header('location', `${prefixOf(request.url)}/templates/${ref}`)
        .send({ template });
    },
  );

  app.get(
    '/templates',
    {
      schema: {
        tags: ['templates'],
        operationId: 'listTemplates',
        summary: 'List templates',
        description: 'Every registered template, by namespace, then name, then highest version first.',
        response: { 200: TemplateListResponse, ...errorResponses() },
      },
    },
    () => ({ templates: engine.templates.list() }),
  );

  app.get(
    '/templates/:ref',
    {
      schema: {
        tags: ['templates'],
        operationId: 'getTemplate',
        summary: 'Get a template',
        description: '`namespace.name` is the highest version; `namespace.name@1.2.3` that version.',
        params: TemplateParams,
        response: { 200: TemplateResponse, ...errorResponses(400, 404) },
      },
    },
    (request) => {
      const template = engine.templates.resolve(request.params.ref);
      if (!template) throw new NotFoundError(`no template ${request.params.ref} is registered`);
      return { template };
    },
  );
  done();
};

/** `/api/v1/templates?replace=true` → `/api/v1`. */
function prefixOf(url: string): string {
  const path = url.split('?', 1)[0]!;
  return path.slice(0, path.lastIndexOf('/'));
}
