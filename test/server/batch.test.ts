// JSON-RPC batches at POST /asap (asap-wire §2.6).
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { describe, test } from 'node:test';
import type { JsonObject } from '../../src/protocol/index.ts';
import { envelope, errorOf, post, resultOf, rpc, serverFixture } from './helpers.ts';

describe('POST /asap batches', () => {
  const server = serverFixture();
  const ping = (n: number) =>
    rpc(envelope({ id: `env-${n}`, payload_type: 'ping', payload: { n } }), `req-${n}`);

  test('50 requests are answered in order, each bound to its request', async () => {
    server.app.asap.register('ping', (request, context) => context.reply('pong', request.payload));
    const answer = await post(
      server.app,
      Array.from({ length: 50 }, (_, n) => ping(n)),
    );
    assert.equal(answer.status, 200);
    const items = answer.body as JsonObject[];
    assert.equal(items.length, 50);
    items.forEach((item, n) => {
      assert.equal(item.id, `req-${n}`);
      const reply = resultOf(item);
      assert.deepEqual([reply.correlation_id, reply.payload], [`env-${n}`, { n }]);
    });
  });

  test('51 requests, or none, are one -32600 error with id null', async () => {
    const tooMany = await post(
      server.app,
      Array.from({ length: 51 }, (_, n) => ping(n)),
    );
    assert.deepEqual(tooMany.body, {
      jsonrpc: '2.0',
      error: { code: -32600, message: 'Invalid request', data: { reason: 'batch size 51 exceeds max 50' } },
      id: null,
    });
    const empty = await post(server.app, '[]');
    assert.deepEqual(errorOf(empty).data, { reason: 'empty batch' });
  });

  test('each item runs the whole pipeline on its own', async () => {
    const answer = await post(server.app, [
      ping(1),
      42,
      { jsonrpc: '2.0', method: 'other', params: {}, id: 'm' },
      rpc(envelope({ sender: 'not-a-urn' }), 'bad-envelope'),
      rpc(envelope({ payload_type: 'unknown.type', payload: {} }), 'no-handler'),
      rpc(envelope({ timestamp: '2020-01-01T00:00:00Z' }), 'stale'),
      ping(2),
    ]);
    const items = answer.body as JsonObject[];
    assert.equal(items.length, 7);
    assert.equal(resultOf(items[0]).payload_type, 'pong');
    assert.deepEqual(items[1], {
      jsonrpc: '2.0',
      error: { code: -32600, message: 'Invalid request', data: null },
      id: null,
    });
    assert.deepEqual([errorOf(items[2]).code, items[2]!.id], [-32601, 'm']);
    assert.deepEqual([errorOf(items[3]).code, items[3]!.id], [-32602, 'bad-envelope']);
    assert.deepEqual([errorOf(items[4]).code, items[4]!.id], [-32012, 'no-handler']);
    assert.deepEqual([errorOf(items[5]).code, items[5]!.id], [-32002, 'stale']);
    assert.equal(resultOf(items[6]).payload_type, 'pong');
  });

  test('a compressed array is not a batch: -32600 "must be an object"', async () => {
    const body = gzipSync(JSON.stringify([ping(1)]));
    const answer = await post(server.app, body, { 'content-encoding': 'gzip' });
    assert.deepEqual(errorOf(answer).data, {
      error: 'JSON-RPC request must be an object',
      received_type: 'list',
    });
  });
});
