// GET /.well-known/asap/manifest.json (one skill per template, the ETag following the templates) and
// the agent health route. The wire details (headers, 304, /health) are in conformance.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateManifest, type Manifest } from '../../src/protocol/index.ts';
import { AGENT, serverFixture } from './helpers.ts';

const MANIFEST = '/.well-known/asap/manifest.json';

describe('manifest', () => {
  const server = serverFixture();

  test('lists one skill per template with its description and input schema', async () => {
    const response = await server.app.inject({ url: MANIFEST });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^application\/json/);
    assert.equal(response.headers['cache-control'], 'public, max-age=300');
    assert.equal(response.headers['asap-version'], '2.2');
    const manifest = response.json<Manifest>();
    const checked = validateManifest(manifest);
    assert.ok(checked.ok);
    assert.deepEqual(checked.manifest, manifest, 'every key present, as the reference serves it');
    assert.equal(manifest.id, AGENT);
    assert.equal(manifest.endpoints.asap, 'http://agent.test:9000/asap');
    assert.deepEqual(manifest.supported_versions, ['2.1', '2.2']);
    assert.equal(manifest.capabilities.asap_version, '0.1');
    assert.equal(manifest.capabilities.streaming, true);
    assert.deepEqual(
      manifest.capabilities.skills.map((skill) => skill.id),
      ['test.echo', 'test.fail', 'test.pair', 'test.slow'],
    );
    const echo = manifest.capabilities.skills[0]!;
    assert.deepEqual(echo, {
      id: 'test.echo',
      description: 'Echoes its input',
      input_schema: { type: 'object', properties: { message: { type: 'string' } } },
      output_schema: null,
    });
    assert.deepEqual(server.app.asap.manifest(), manifest);
  });

  test('a new template changes the ETag', async () => {
    const first = await server.app.inject({ url: MANIFEST });
    const etag = String(first.headers.etag);
    server.engine.registerTemplate({
      namespace: 'test',
      name: 'echo',
      version: '2.0.0',
      description: 'Echoes, version 2',
      steps: [{ name: 'echo', handler: 'test/echo' }],
    });
    const changed = await server.app.inject({ url: MANIFEST, headers: { 'if-none-match': etag } });
    assert.equal(changed.statusCode, 200);
    assert.notEqual(changed.headers.etag, etag);
    const skills = changed.json<Manifest>().capabilities.skills;
    assert.equal(skills.length, 4, 'still one skill per namespace.name');
    assert.equal(skills[0]!.description, 'Echoes, version 2', 'the highest version describes it');
  });
});

describe('health routes', () => {
  const server = serverFixture();

  test('/.well-known/asap/health describes the agent', async () => {
    const response = await server.app.inject({ url: '/.well-known/asap/health' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^application\/json/);
    const body = response.json<Record<string, unknown>>();
    assert.deepEqual(Object.keys(body), [
      'status',
      'agent_id',
      'version',
      'asap_version',
      'uptime_seconds',
      'load',
    ]);
    assert.equal(body.status, 'healthy');
    assert.equal(body.agent_id, AGENT);
    assert.equal(body.version, server.app.asap.manifest().version);
    assert.equal(body.asap_version, '0.1');
    assert.equal(typeof body.uptime_seconds, 'number');
    assert.match(String(body.uptime_seconds), /^\d+(\.\d{1,2})?$/, 'rounded to hundredths');
    assert.equal(body.load, null);
  });
});
