import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apiFixture, call, type ErrorBody } from './helpers.ts';

interface Namespaces {
  namespaces: Record<string, { name: string; version: string; kind: string; description: string }[]>;
}

describe('REST handlers', () => {
  const server = apiFixture();

  test('GET /handlers groups code handlers and built-in types by namespace', async () => {
    server.engine.registerHandler({
      namespace: 'test',
      name: 'echo',
      version: '2.0.0',
      description: 'newer echo',
      handler: () => null,
    });
    const answer = await call<Namespaces>(server.app, 'GET', '/api/v1/handlers');
    assert.equal(answer.status, 200);
    assert.deepEqual(Object.keys(answer.body.namespaces), ['builtin', 'test']);
    assert.deepEqual(
      answer.body.namespaces.builtin!.map((handler) => [handler.name, handler.kind]),
      [
        ['asap', 'builtin'],
        ['http', 'builtin'],
      ],
    );
    const echo = answer.body.namespaces.test!.filter((handler) => handler.name === 'echo');
    assert.deepEqual(
      echo.map((handler) => handler.version),
      ['2.0.0', '1.0.0'],
    );
    assert.deepEqual(Object.keys(echo[0]!).sort(), ['description', 'kind', 'name', 'version']);
  });

  test('GET /handlers/:namespace lists one namespace; 404 for an unknown one', async () => {
    const answer = await call<Namespaces>(server.app, 'GET', '/api/v1/handlers/test');
    assert.equal(answer.status, 200);
    assert.deepEqual(Object.keys(answer.body.namespaces), ['test']);
    const unknown = await call<ErrorBody>(server.app, 'GET', '/api/v1/handlers/nowhere');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'not_found');
  });

  test('GET /handlers/:namespace/:name lists its versions; 404 when unknown, 400 when malformed', async () => {
    const answer = await call<Namespaces>(server.app, 'GET', '/api/v1/handlers/test/slow');
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body.namespaces, {
      test: [{ name: 'slow', version: '1.0.0', kind: 'code', description: '' }],
    });
    assert.equal((await call(server.app, 'GET', '/api/v1/handlers/test/nothing')).status, 404);
    assert.equal((await call(server.app, 'GET', '/api/v1/handlers/builtin/http')).status, 200);
    const malformed = await call<ErrorBody>(server.app, 'GET', '/api/v1/handlers/Bad%20Name');
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error.details![0]!.path, 'params.namespace');
  });
});
