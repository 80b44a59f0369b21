// POST /asap through every step of the reference's pipeline (asap-wire §2.3), one error path each.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AsapError, ASAP_ERRORS, type JsonObject } from '../../src/protocol/index.ts';
import { AGENT, CLIENT, envelope, errorOf, post, resultOf, rpc, serverFixture } from './helpers.ts';

describe('POST /asap pipeline', () => {
  const server = serverFixture();

  test('a valid request is answered with a result envelope bound to the request', async () => {
    const request = envelope({ id: 'env-1', trace_id: 'trace-1' });
    const answer = await post(server.app, rpc(request, 7));
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['asap-version'], '2.2');
    assert.match(String(answer.headers['content-type']), /^application\/json/);
    const body = answer.body as JsonObject;
    assert.deepEqual(Object.keys(body), ['jsonrpc', 'result', 'id']);
    assert.equal(body.id, 7);
    const reply = resultOf(answer);
    assert.equal(reply.payload_type, 'task.response');
    assert.equal(reply.correlation_id, 'env-1');
    assert.equal(reply.trace_id, 'trace-1');
    assert.equal(reply.sender, AGENT);
    assert.equal(reply.recipient, CLIENT);
    assert.equal(reply.payload.status, 'completed');
  });

  test('step 1: an unsupported ASAP-Version is -32000 with id null at HTTP 200', async () => {
    const answer = await post(server.app, rpc(envelope()), { 'asap-version': ' 3.0, 2.2.0 ' });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['asap-version'], '2.2');
    assert.deepEqual(answer.body, {
      jsonrpc: '2.0',
      error: {
        code: -32000,
        message: 'ASAP protocol version incompatible',
        data: { requested: '3.0, 2.2.0', supported: ['2.1', '2.2'] },
      },
      id: null,
    });
  });

  test('the negotiated ASAP-Version is echoed; other routes carry the default', async () => {
    const answer = await post(server.app, rpc(envelope()), { 'asap-version': '2.1, 2.2' });
    assert.equal(answer.headers['asap-version'], '2.1');
    assert.equal(resultOf(answer).payload.status, 'completed');
    const health = await server.app.inject({ url: '/health', headers: { 'asap-version': '9.9' } });
    assert.equal(health.headers['asap-version'], '2.2');
    const missing = await server.app.inject({ url: '/nowhere' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.headers['asap-version'], '2.2');
  });

  test('step 5: an unsupported Content-Encoding is 415 with the reference detail', async () => {
    for (const [encoding, shown] of [
      ['deflate', 'deflate'],
      [' GZIP, br', 'gzip, br'],
    ] as const) {
      const answer = await post(server.app, rpc(envelope()), { 'content-encoding': encoding });
      assert.equal(answer.status, 415);
      assert.deepEqual(answer.body, {
        detail: `Unsupported Content-Encoding: ${shown}. Supported: br, gzip`,
      });
      assert.equal(answer.headers['asap-version'], '2.2');
    }
    const identity = await post(server.app, rpc(envelope()), { 'content-encoding': 'Identity' });
    assert.equal(resultOf(identity).payload.status, 'completed');
  });

  test('step 8: a body that is not JSON or not UTF-8 is -32700', async () => {
    const cases: [string | Buffer, string][] = [
      ['', 'Invalid JSON: Expecting value: line 1 column 1 (char 0)'],
      [
        '{"jsonrpc": "2.0",',
        'Invalid JSON: Expecting property name enclosed in double quotes: line 1 column 19 (char 18)',
      ],
    ];
    for (const [body, reason] of cases) {
      assert.deepEqual((await post(server.app, body)).body, {
        jsonrpc: '2.0',
        error: { code: -32700, message: 'Parse error', data: { error: reason } },
        id: null,
      });
    }
    const latin1 = errorOf(await post(server.app, Buffer.from([0x7b, 0xff, 0x7d])));
    assert.equal(latin1.code, -32700);
    assert.match(String(latin1.data?.error), /^Invalid UTF-8 encoding: /);
  });

  test('the request Content-Type is ignored', async () => {
    const answer = await post(server.app, JSON.stringify(rpc(envelope())), { 'content-type': 'text/plain' });
    assert.equal(resultOf(answer).payload.status, 'completed');
  });

  test('step 9: JSON that is not an object is -32600 with received_type', async () => {
    assert.deepEqual((await post(server.app, '"hello"')).body, {
      jsonrpc: '2.0',
      error: {
        code: -32600,
        message: 'Invalid request',
        data: { error: 'JSON-RPC request must be an object', received_type: 'str' },
      },
      id: null,
    });
  });

  test('step 10: an invalid JSON-RPC structure is -32600 (-32602 for params) with validation errors', async () => {
    const noId = errorOf(await post(server.app, { jsonrpc: '2.0', method: 'asap.send', params: {} }));
    assert.equal(noId.code, -32600);
    assert.equal(noId.data?.error, 'Invalid JSON-RPC structure');
    const issues = noId.data?.validation_errors as { type: string; loc: unknown[] }[];
    assert.deepEqual(
      issues.map((issue) => [issue.type, issue.loc]),
      [['missing', ['id']]],
    );
    const extra = await post(server.app, { ...rpc(envelope()), extra: 1 });
    assert.equal(errorOf(extra).code, -32600);
    assert.equal((extra.body as JsonObject).id, 'req-1');
    const params = await post(server.app, { jsonrpc: '2.0', method: 'asap.send', params: [1], id: 3 });
    assert.equal(errorOf(params).code, -32602);
    assert.equal(errorOf(params).data?.error, "JSON-RPC 'params' must be an object");
    assert.equal((params.body as JsonObject).id, 3);
  });

  test('step 11: a method other than asap.send is -32601 with the method', async () => {
    const answer = await post(server.app, { jsonrpc: '2.0', method: 'asap.sned', params: {}, id: 'x' });
    assert.deepEqual(answer.body, {
      jsonrpc: '2.0',
      error: { code: -32601, message: 'Method not found', data: { method: 'asap.sned' } },
      id: 'x',
    });
  });

  test('step 13: a missing, non-object or invalid envelope is -32602', async () => {
    const missing = errorOf(
      await post(server.app, { jsonrpc: '2.0', method: 'asap.send', params: {}, id: 1 }),
    );
    assert.deepEqual(
      [missing.code, missing.message, missing.data],
      [-32602, 'Invalid params', { error: "Missing 'envelope' in params" }],
    );
    const scalar = errorOf(await post(server.app, rpc('nope')));
    assert.deepEqual(scalar.data, { error: "'envelope' must be a JSON object" });
    const invalid = errorOf(await post(server.app, rpc(envelope({ sender: 'urn:asap:agent:Bad_Name' }))));
    assert.equal(invalid.code, -32602);
    assert.equal(invalid.data?.error, 'Invalid envelope structure');
    const issues = invalid.data?.validation_errors as { loc: unknown[]; msg: string }[];
    assert.deepEqual(issues[0]?.loc, ['sender']);
    assert.match(issues[0].msg, /Agent ID must follow URN format/);
    const payload = errorOf(await post(server.app, rpc(envelope({ payload: { skill_id: 'test.echo' } }))));
    assert.equal(payload.code, -32602);
    assert.deepEqual(
      (payload.data?.validation_errors as { loc: unknown[] }[]).map((issue) => issue.loc),
      [['conversation_id'], ['input']],
      'payload issues are located inside the payload, without a payload prefix',
    );
  });

  test('step 17: a payload_type without a handler is -32012', async () => {
    const answer = await post(server.app, rpc(envelope({ payload_type: 'weather.query', payload: {} }), 5));
    assert.deepEqual(answer.body, {
      jsonrpc: '2.0',
      error: {
        code: -32012,
        message: 'No handler registered for payload type: weather.query',
        data: {
          code: 'asap:transport/handler_not_found',
          rpc_code: -32012,
          message: 'No handler registered for payload type: weather.query',
          details: { payload_type: 'weather.query' },
          recoverable: false,
          asap_taxonomy_code: 'asap:transport/handler_not_found',
          error: 'No handler registered for payload type: weather.query',
        },
      },
      id: 5,
    });
  });

  test('handlers are looked up by exact type, then by normalised type', async () => {
    const answer = await post(server.app, rpc(envelope({ payload_type: 'TaskRequest' })));
    assert.equal(resultOf(answer).payload.status, 'completed');
  });

  test('users register handlers; an ASAP error keeps its code, anything else is -32603', async () => {
    server.app.asap.register('ping', (request, context) => context.reply('pong', { echo: request.payload }));
    const pong = resultOf(await post(server.app, rpc(envelope({ payload_type: 'ping', payload: { n: 1 } }))));
    assert.deepEqual([pong.payload_type, pong.payload, pong.sender], ['pong', { echo: { n: 1 } }, AGENT]);

    server.app.asap.register('ping', () => {
      throw new AsapError(ASAP_ERRORS.timeout, {
        message: 'upstream too slow',
        details: { timeout_seconds: 3 },
      });
    });
    const timeout = errorOf(await post(server.app, rpc(envelope({ payload_type: 'ping', payload: {} }))));
    assert.equal(timeout.code, -32033);
    assert.equal(timeout.message, 'upstream too slow');
    assert.deepEqual(timeout.data, {
      code: 'asap:transport/timeout',
      rpc_code: -32033,
      message: 'upstream too slow',
      details: { timeout_seconds: 3 },
      fallback_action: 'retry_with_backoff',
      recoverable: true,
      asap_taxonomy_code: 'asap:transport/timeout',
      error: 'upstream too slow',
    });

    server.app.asap.register('ping', () => {
      throw new Error('secret internals');
    });
    const internal = errorOf(await post(server.app, rpc(envelope({ payload_type: 'ping', payload: {} }))));
    assert.deepEqual(internal, {
      code: -32603,
      message: 'Internal error',
      data: { error: 'Internal server error' },
    });
  });
});

describe('POST /asap timestamp window (always on)', () => {
  const NOW = Date.parse('2026-07-21T12:05:00.123Z');
  const server = serverFixture({ server: { now: () => NOW } });
  const at = (timestamp: string, id = 'env-ts') =>
    post(server.app, rpc(envelope({ id, timestamp, payload_type: 'ping', payload: {} })));

  test('exactly 300 s old and exactly 30 s ahead pass', async () => {
    server.app.asap.register('ping', (_request, context) => context.reply('pong', {}));
    assert.equal(resultOf(await at('2026-07-21T12:00:00.123Z')).payload_type, 'pong');
    assert.equal(resultOf(await at('2026-07-21T12:05:30.123000+00:00')).payload_type, 'pong');
    assert.equal(resultOf(await at('2026-07-21T12:05:00.123')).payload_type, 'pong', 'naive is UTC');
  });

  test('older than 300 s is -32002 with the reference data', async () => {
    const answer = await at('2026-07-21T12:00:00.122Z', 'env-old');
    assert.equal(answer.status, 200);
    const error = errorOf(answer);
    assert.equal(error.code, -32002);
    const message = 'Envelope timestamp is too old: 300.0 seconds (max: 300 seconds)';
    assert.equal(error.message, message);
    assert.deepEqual(error.data, {
      code: 'asap:protocol/invalid_timestamp',
      rpc_code: -32002,
      message,
      details: {
        timestamp: '2026-07-21T12:00:00.122000+00:00',
        age_seconds: 300.001,
        envelope_id: 'env-old',
        max_age_seconds: 300,
      },
      retry_after_ms: 5000,
      fallback_action: 'resend_with_fresh_timestamp',
      recoverable: true,
      asap_taxonomy_code: 'asap:protocol/invalid_timestamp',
      error: 'Invalid envelope timestamp',
    });
  });

  test('more than 30 s ahead is -32002 with the future offset', async () => {
    const error = errorOf(await at('2026-07-21T12:05:30.124Z', 'env-future'));
    assert.equal(error.code, -32002);
    assert.equal(
      error.message,
      'Envelope timestamp is too far in the future: 30.0 seconds (max tolerance: 30 seconds)',
    );
    assert.deepEqual(error.data?.details, {
      timestamp: '2026-07-21T12:05:30.124000+00:00',
      future_offset_seconds: 30.001,
      envelope_id: 'env-future',
      max_future_tolerance_seconds: 30,
    });
  });

  test('a missing timestamp is "now" and passes', async () => {
    const answer = await post(
      server.app,
      rpc(envelope({ timestamp: undefined, payload_type: 'ping', payload: {} })),
    );
    assert.equal(resultOf(answer).payload_type, 'pong');
  });
});

describe('POST /asap nonce replay protection (requireNonce)', () => {
  const server = serverFixture({ server: { config: { requireNonce: true } } });
  const withNonce = (nonce: unknown, id: string) =>
    envelope({ id, payload_type: 'ping', payload: {}, extensions: { nonce } });

  test('a repeated nonce is -32003; new nonces and envelopes without one pass', async () => {
    server.app.asap.register('ping', (_request, context) => context.reply('pong', {}));
    assert.equal(resultOf(await post(server.app, rpc(withNonce('n-1', 'e-1')))).payload_type, 'pong');
    assert.equal(resultOf(await post(server.app, rpc(withNonce('n-2', 'e-2')))).payload_type, 'pong');
    const noNonce = envelope({ payload_type: 'ping', payload: {} });
    assert.equal(resultOf(await post(server.app, rpc(noNonce))).payload_type, 'pong');
    assert.equal(resultOf(await post(server.app, rpc(noNonce))).payload_type, 'pong');

    const replay = errorOf(await post(server.app, rpc(withNonce('n-1', 'e-3'), 'r-3')));
    assert.equal(replay.code, -32003);
    assert.equal(replay.message, 'Duplicate nonce detected: n-1');
    assert.deepEqual(replay.data, {
      code: 'asap:protocol/invalid_nonce',
      rpc_code: -32003,
      message: 'Duplicate nonce detected: n-1',
      details: { nonce: 'n-1', envelope_id: 'e-3' },
      recoverable: false,
      asap_taxonomy_code: 'asap:protocol/invalid_nonce',
      error: 'Invalid envelope nonce',
    });
  });

  test('an empty or non-string nonce is -32003', async () => {
    const empty = errorOf(await post(server.app, rpc(withNonce('', 'e-4'))));
    assert.equal(empty.code, -32003);
    assert.equal(empty.message, 'Nonce must be a non-empty string, got empty string');
    const number = errorOf(await post(server.app, rpc(withNonce(42, 'e-5'))));
    assert.equal(number.code, -32003);
    assert.deepEqual(number.data?.details, { nonce: '42', envelope_id: 'e-5' });
  });
});

describe('POST /asap without requireNonce', () => {
  const server = serverFixture();

  test('a repeated nonce passes', async () => {
    server.app.asap.register('ping', (_request, context) => context.reply('pong', {}));
    const repeated = envelope({ payload_type: 'ping', payload: {}, extensions: { nonce: 'same' } });
    assert.equal(resultOf(await post(server.app, rpc(repeated))).payload_type, 'pong');
    assert.equal(resultOf(await post(server.app, rpc(repeated))).payload_type, 'pong');
  });
});

describe('POST /asap size limits', () => {
  const server = serverFixture({ server: { config: { maxRequestBytes: 2048 } } });

  test('step 3: a Content-Length over the limit is 413, after the version check', async () => {
    const big = JSON.stringify(rpc(envelope({ payload: { pad: 'x'.repeat(3000) }, payload_type: 'ping' })));
    const answer = await post(server.app, big);
    assert.equal(answer.status, 413);
    assert.deepEqual(answer.body, {
      detail: `Request size (${Buffer.byteLength(big)} bytes) exceeds maximum (2048 bytes)`,
    });
    assert.equal(answer.headers['asap-version'], '2.2');
    const version = await post(server.app, big, { 'asap-version': '1.0' });
    assert.equal(errorOf(version).code, -32000, 'the version check comes first');
    const encoding = await post(server.app, big, { 'content-encoding': 'zstd' });
    assert.equal(encoding.status, 413, 'the size check comes before the encoding check');
  });
});
