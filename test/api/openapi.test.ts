import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { apiFixture, call, runTask } from './helpers.ts';

const addFormats = addFormatsModule.default;

interface Operation {
  operationId?: string;
  parameters?: { name: string; in: string; required?: boolean; schema?: object }[];
  requestBody?: { content: Record<string, { schema: object }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema: object }> }>;
}
interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, object> };
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Every `$ref` in `value`, with where it was found. */
function refsOf(
  value: unknown,
  at = '#',
  found: { ref: string; at: string }[] = [],
): { ref: string; at: string }[] {
  if (Array.isArray(value)) value.forEach((item, index) => refsOf(item, `${at}/${index}`, found));
  else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') found.push({ ref: child, at });
      else refsOf(child, `${at}/${key}`, found);
    }
  }
  return found;
}

function resolvePointer(document: unknown, ref: string): unknown {
  assert.ok(ref.startsWith('#/'), `${ref} is not a local reference`);
  return ref
    .slice(2)
    .split('/')
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], document);
}

describe('OpenAPI document', () => {
  const routes: { method: string; url: string }[] = [];
  const server = apiFixture({
    setup: (app) =>
      app.addHook('onRoute', (route) => {
        for (const method of [route.method].flat())
          routes.push({ method: method.toLowerCase(), url: route.url });
      }),
  });
  let document: OpenApiDocument;

  test('is served at /api/openapi.json as OpenAPI 3', async () => {
    const answer = await call<OpenApiDocument>(server.app, 'GET', '/api/openapi.json');
    assert.equal(answer.status, 200);
    document = answer.body;
    assert.match(document.openapi, /^3\.\d+\.\d+$/);
    assert.ok(document.info.title && document.info.version);
    assert.equal(typeof document.paths, 'object');
  });

  test('has every route registered under /api/v1, with its method', () => {
    const apiRoutes = routes.filter((route) => route.url.startsWith('/api/v1/') && route.method !== 'head');
    assert.ok(apiRoutes.length >= 13, `${apiRoutes.length} routes`);
    for (const route of apiRoutes) {
      const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      assert.ok(document.paths[path]?.[route.method], `${route.method.toUpperCase()} ${path} is documented`);
    }
    const documented = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((key) => METHODS.includes(key))
        .map((method) => `${method} ${path}`),
    );
    const registered = new Set(
      apiRoutes.map((route) => `${route.method} ${route.url.replace(/:(\w+)/g, '{$1}')}`),
    );
    assert.deepEqual(
      documented.filter((operation) => !registered.has(operation)),
      [],
      'nothing undocumented',
    );
  });

  test('every operation has a unique id, responses with descriptions, and its path parameters', () => {
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (!METHODS.includes(method)) continue;
        const label = `${method} ${path}`;
        assert.ok(operation.operationId, `${label} has an operationId`);
        assert.ok(!ids.has(operation.operationId), `${operation.operationId} is unique`);
        ids.add(operation.operationId);
        const responses = Object.entries(operation.responses ?? {});
        assert.ok(responses.length > 0, `${label} has responses`);
        for (const [status, response] of responses) {
          assert.match(status, /^([1-5]\d\d|[1-5]XX|default)$/, `${label} ${status}`);
          assert.ok(response.description, `${label} ${status} has a description`);
        }
        assert.ok(
          responses.some(([status]) => /^2/.test(status)),
          `${label} documents its success`,
        );
        for (const [, name] of path.matchAll(/\{(\w+)\}/g)) {
          const parameter = operation.parameters?.find(
            (candidate) => candidate.in === 'path' && candidate.name === name,
          );
          assert.ok(parameter?.required, `${label} declares path parameter ${name}`);
        }
      }
    }
  });

  test('every $ref resolves inside the document', () => {
    const refs = refsOf(document);
    assert.ok(refs.length > 0);
    for (const { ref, at } of refs)
      assert.ok(resolvePointer(document, ref) !== undefined, `${ref} (at ${at})`);
    for (const name of [
      'Task',
      'TaskSummary',
      'Step',
      'Template',
      'DeadLetter',
      'Handler',
      'Event',
      'ErrorResponse',
    ]) {
      assert.ok(document.components.schemas[name], `components.schemas.${name}`);
    }
  });

  test('every schema in it is a valid JSON Schema (2020-12, the dialect of OpenAPI 3.1)', () => {
    const ajv = new Ajv2020({ strict: false, logger: false });
    const schemas: object[] = Object.values(document.components.schemas);
    for (const item of Object.values(document.paths)) {
      for (const operation of Object.values(item)) {
        for (const parameter of operation.parameters ?? [])
          if (parameter.schema) schemas.push(parameter.schema);
        for (const media of Object.values(operation.requestBody?.content ?? {})) schemas.push(media.schema);
        for (const response of Object.values(operation.responses ?? {})) {
          for (const media of Object.values(response.content ?? {})) schemas.push(media.schema);
        }
      }
    }
    for (const schema of schemas) assert.ok(ajv.validateSchema(schema), JSON.stringify(ajv.errors));
  });

  test('real answers match the documented response schemas', async () => {
    const ajv = addFormats(new Ajv2020({ strict: false, logger: false }));
    ajv.addSchema({ $id: 'urn:baton:openapi', components: document.components });
    let checks = 0;
    const check = (operationPath: string, method: string, status: number, body: unknown): void => {
      const schema =
        document.paths[operationPath]![method]!.responses![status]!.content!['application/json']!.schema;
      const validate = ajv.compile({ $id: `urn:baton:check:${checks++}`, ...rebase(schema) });
      assert.ok(validate(body), `${method} ${operationPath} ${status}: ${JSON.stringify(validate.errors)}`);
    };
    const done = await runTask(server.app, 'test.pair');
    const failed = await runTask(server.app, 'test.fail');
    check('/api/v1/tasks/{id}', 'get', 200, (await call(server.app, 'GET', `/api/v1/tasks/${done.id}`)).body);
    check(
      '/api/v1/tasks/{id}',
      'get',
      200,
      (await call(server.app, 'GET', `/api/v1/tasks/${failed.id}`)).body,
    );
    check('/api/v1/tasks', 'get', 200, (await call(server.app, 'GET', '/api/v1/tasks')).body);
    check('/api/v1/dlq', 'get', 200, (await call(server.app, 'GET', '/api/v1/dlq')).body);
    check('/api/v1/handlers', 'get', 200, (await call(server.app, 'GET', '/api/v1/handlers')).body);
    check('/api/v1/templates', 'get', 200, (await call(server.app, 'GET', '/api/v1/templates')).body);
    check('/api/v1/tasks/{id}', 'get', 404, (await call(server.app, 'GET', '/api/v1/tasks/task_nope')).body);
    check('/api/v1/tasks', 'post', 400, (await call(server.app, 'POST', '/api/v1/tasks', {})).body);
  });

  test('the docs UI is served at /docs, on the same document', async () => {
    const page = await server.app.inject({ method: 'GET', url: '/docs' });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    const json = await call(server.app, 'GET', '/docs/json');
    assert.deepEqual(json.body, document);
  });
});

/** Points a schema's `#/components/…` references at the document's components added to Ajv. */
function rebase(schema: object): object {
  return JSON.parse(
    JSON.stringify(schema).replaceAll('"#/components/', '"urn:baton:openapi#/components/'),
  ) as object;
}
