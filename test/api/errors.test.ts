import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toRestError } from '../../src/api/errors.ts';
import { BatonError, ConflictError, NotFoundError, ValidationError } from '../../src/util/errors.ts';
import { post, rpc } from '../server/helpers.ts';
import { apiFixture, call, type ErrorBody } from './helpers.ts';

const LIMIT = 4096;

describe('REST error answers', () => {
  const server = apiFixture({ server: { config: { maxRequestBytes: LIMIT } } });

  test('malformed JSON is 400 validation_failed saying where', async () => {
    const answer = await call<ErrorBody>(server.app, 'POST', '/api/v1/tasks', '{"template": "test.echo",', {
      'content-type': 'application/json',
    });
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error.code, 'validation_failed');
    assert.equal(answer.body.error.details![0]!.path, 'body');
    assert.match(answer.body.error.message, /not valid JSON/);
  });

  test('prototype poisoning is refused as invalid JSON', async () => {
    const answer = await call<ErrorBody>(
      server.app,
      'POST',
      '/api/v1/tasks',
      '{"template": "test.echo", "__proto__": {"polluted": true}}',
      { 'content-type': 'application/json' },
    );
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error.code, 'validation_failed');
    assert.match(answer.body.error.details![0]!.message, /forbidden key/);
  });

  test('an unsupported Content-Type is 415 in the error shape', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/yaml']) {
      const answer = await call<ErrorBody>(server.app, 'POST', '/api/v1/tasks', 'template=test.echo', {
        'content-type': type,
      });
      assert.equal(answer.status, 415, type);
      assert.equal(answer.body.error.code, 'validation_failed');
    }
  });

  test('a JSON or YAML body over the limit is 413 payload_too_large', async () => {
    const big = JSON.stringify({ template: 'test.echo', input: { text: 'x'.repeat(LIMIT) } });
    const answer = await call<ErrorBody>(server.app, 'POST', '/api/v1/tasks', big, {
      'content-type': 'application/json',
    });
    assert.equal(answer.status, 413);
    assert.equal(answer.body.error.code, 'payload_too_large');
    const yaml = await call<ErrorBody>(
      server.app,
      'POST',
      '/api/v1/templates',
      `description: ${'x'.repeat(LIMIT)}`,
      {
        'content-type': 'application/yaml',
      },
    );
    assert.equal(yaml.status, 413);
    assert.equal(yaml.body.error.code, 'payload_too_large');
  });

  test('an unknown route under /api is 404 not_found', async () => {
    for (const url of ['/api/v1/nothing', '/api/v2/tasks', '/api/v1/tasks/x/y/z']) {
      const answer = await call<ErrorBody>(server.app, 'GET', url);
      assert.equal(answer.status, 404, url);
      assert.equal(answer.body.error.code, 'not_found');
    }
  });

  test('an unexpected error is a generic 500 internal that leaks nothing', async () => {
    const original = server.engine.getTask.bind(server.engine);
    server.engine.getTask = () => Promise.reject(new Error('SQLITE_CORRUPT at /secret/path'));
    try {
      const answer = await call<ErrorBody>(server.app, 'GET', '/api/v1/tasks/task_x');
      assert.equal(answer.status, 500);
      assert.deepEqual(answer.body, { error: { code: 'internal', message: 'internal error' } });
    } finally {
      server.engine.getTask = original;
    }
  });

  test('the /asap routes keep their own wire-defined answers', async () => {
    // A plain-text body is still read as JSON-RPC there, and an oversized one is `{detail}`.
    const answer = await post(server.app, JSON.stringify(rpc({})), { 'content-type': 'text/plain' });
    assert.equal(answer.status, 200);
    assert.equal((answer.body as { jsonrpc: string }).jsonrpc, '2.0');
    const big = await post(server.app, 'x'.repeat(LIMIT + 1));
    assert.equal(big.status, 413);
    assert.ok(typeof (big.body as { detail?: string }).detail === 'string');
    const unknown = await server.app.inject({ method: 'GET', url: '/not-api' });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json<{ error?: unknown }>().error, 'Not Found');
  });
});

describe('createServer with rest: false', () => {
  const server = apiFixture({ server: { rest: false } });

  test('serves no REST routes, document or docs', async () => {
    for (const url of ['/api/v1/tasks', '/api/openapi.json', '/docs']) {
      const answer = await server.app.inject({ method: 'GET', url });
      assert.equal(answer.statusCode, 404, url);
      assert.equal(answer.json<{ error: unknown }>().error, 'Not Found');
    }
  });
});

describe('REST error mapping', () => {
  test('engine codes map to their status and REST code; 5xx messages hide internals', () => {
    assert.deepEqual(toRestError(new ValidationError('bad', [{ path: 'a', message: 'm' }])), {
      status: 400,
      body: { error: { code: 'validation_failed', message: 'bad', details: [{ path: 'a', message: 'm' }] } },
    });
    assert.equal(toRestError(new NotFoundError('x'))?.status, 404);
    assert.equal(toRestError(new ConflictError('x'))?.status, 409);
    for (const [code, status] of [
      ['unauthorized', 401],
      ['forbidden', 403],
      ['rate_limited', 429],
      ['payload_too_large', 413],
    ] as const) {
      assert.deepEqual(toRestError(new BatonError(code, 'm'))?.body.error.code, code);
      assert.equal(toRestError(new BatonError(code, 'm'))?.status, status);
    }
    const unavailable = toRestError(
      new BatonError('store_unavailable', 'connect ECONNREFUSED 10.0.0.7:5432'),
    );
    assert.ok(unavailable);
    assert.equal(unavailable.status, 503);
    assert.equal(unavailable.body.error.code, 'internal');
    assert.doesNotMatch(unavailable.body.error.message, /10\.0\.0\.7/);
    assert.equal(toRestError(new Error('boom')), undefined);
  });
});
