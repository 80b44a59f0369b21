import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apiFixture, call, type ErrorBody } from './helpers.ts';

const YAML_TEMPLATE = `
namespace: yamlns
name: greet
version: 1.2.0
description: From YAML
steps:
  - name: hello
    handler: test/echo
  - name: bye
    handler: test/echo
    depends_on: [hello]
`;

interface TemplateBody {
  template: { namespace: string; name: string; version: string; steps: { name: string }[] };
}

describe('REST templates', () => {
  const server = apiFixture();

  test('POST /templates registers a JSON template: 201 with the template and its location', async () => {
    const answer = await call<TemplateBody>(server.app, 'POST', '/api/v1/templates', {
      namespace: 'jsonns',
      name: 'one',
      version: '1.0.0',
      steps: [{ name: 'only', handler: 'test/echo' }],
    });
    assert.equal(answer.status, 201);
    assert.equal(answer.body.template.name, 'one');
    assert.equal(answer.headers.location, '/api/v1/templates/jsonns.one@1.0.0');
    const fetched = await call<TemplateBody>(server.app, 'GET', '/api/v1/templates/jsonns.one@1.0.0');
    assert.equal(fetched.status, 200);
    assert.deepEqual(fetched.body, answer.body);
  });

  for (const type of ['application/yaml', 'application/x-yaml', 'text/yaml']) {
    test(`POST /templates registers a YAML template sent as ${type}`, async () => {
      const version = `1.2.${type.length}`;
      const answer = await call<TemplateBody>(
        server.app,
        'POST',
        '/api/v1/templates',
        YAML_TEMPLATE.replace('1.2.0', version),
        { 'content-type': `${type}; charset=utf-8` },
      );
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      assert.equal(answer.body.template.version, version);
      assert.deepEqual(
        answer.body.template.steps.map((step) => step.name),
        ['hello', 'bye'],
      );
    });
  }

  test('malformed YAML is 400 validation_failed with the line and column', async () => {
    const answer = await call<ErrorBody>(server.app, 'POST', '/api/v1/templates', 'name: [unclosed\n', {
      'content-type': 'application/yaml',
    });
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error.code, 'validation_failed');
    assert.match(answer.body.error.details![0]!.path!, /^line \d+, column \d+$/);
  });

  test('a template of the wrong shape is 400 with a detail per bad field', async () => {
    const answer = await call<ErrorBody>(server.app, 'POST', '/api/v1/templates', {
      namespace: 7,
      steps: [{ handler: 'test/echo' }],
    });
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error.code, 'validation_failed');
    const paths = answer.body.error.details!.map((detail) => detail.path);
    for (const path of ['namespace', 'name', 'steps[0].name'])
      assert.ok(paths.includes(path), `${path} in ${paths.join(', ')}`);
  });

  test("a template the engine refuses (cycle, unknown handler) is 400 with the engine's details", async () => {
    const answer = await call<ErrorBody>(server.app, 'POST', '/api/v1/templates', {
      namespace: 'bad',
      name: 'cycle',
      steps: [
        { name: 'a', handler: 'test/echo', depends_on: ['b'] },
        { name: 'b', handler: 'test/nope', depends_on: ['a'] },
      ],
    });
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error.code, 'validation_failed');
    assert.match(answer.body.error.message, /a -> b -> a|b -> a -> b/);
    assert.ok(answer.body.error.details!.some((detail) => /test\/nope/.test(detail.message)));
    assert.equal((await call(server.app, 'GET', '/api/v1/templates/bad.cycle')).status, 404);
  });

  test('registering the same version again is 409 conflict, unless replace=true', async () => {
    const template = {
      namespace: 'dup',
      name: 'x',
      version: '1.0.0',
      steps: [{ name: 's', handler: 'test/echo' }],
    };
    assert.equal((await call(server.app, 'POST', '/api/v1/templates', template)).status, 201);
    const again = await call<ErrorBody>(server.app, 'POST', '/api/v1/templates', template);
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'conflict');
    const replaced = await call(server.app, 'POST', '/api/v1/templates?replace=true', {
      ...template,
      description: 'new',
    });
    assert.equal(replaced.status, 201);
  });

  test('GET /templates lists every template', async () => {
    const answer = await call<{ templates: { namespace: string; name: string }[] }>(
      server.app,
      'GET',
      '/api/v1/templates',
    );
    assert.equal(answer.status, 200);
    const ids = answer.body.templates.map((template) => `${template.namespace}.${template.name}`);
    for (const id of ['test.echo', 'test.pair', 'test.fail']) assert.ok(ids.includes(id), id);
  });

  test('GET /templates/:ref: latest version without @, 404 when unknown, 400 when malformed', async () => {
    const latest = await call<TemplateBody>(server.app, 'GET', '/api/v1/templates/test.echo');
    assert.equal(latest.status, 200);
    assert.equal(latest.body.template.version, '1.0.0');
    const unknown = await call<ErrorBody>(server.app, 'GET', '/api/v1/templates/test.nothing');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'not_found');
    const unknownVersion = await call<ErrorBody>(server.app, 'GET', '/api/v1/templates/test.echo@9.9.9');
    assert.equal(unknownVersion.status, 404);
    const malformed = await call<ErrorBody>(server.app, 'GET', '/api/v1/templates/not-a-ref');
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error.code, 'validation_failed');
  });
});
