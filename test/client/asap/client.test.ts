import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { createAsapClient, SseParser, type AsapClient } from '../../../src/client/index.ts';
import { HttpStatusError, type RequestEvent, type ResponseEvent } from '../../../src/client/index.ts';
import { AsapError, type Envelope, type JsonObject } from '../../../src/protocol/index.ts';
import { AGENT, serverFixture } from '../../server/helpers.ts';
import { rpcError, status, StubAgent, STUB_AGENT, taskReply } from './stub.ts';

const ME = 'urn:asap:agent:client-test';
const fastRetry = { maxAttempts: 3, backoff: { base_ms: 5, max_ms: 20, jitter: 0 } };

function taskRequest(skill: string, input: JsonObject, config: JsonObject | null = null) {
  return {
    payload_type: 'task.request',
    payload: { conversation_id: 'conv-1', skill_id: skill, input, config },
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection');
}

describe('ASAP client against a Baton agent', () => {
  const agent = serverFixture({ listen: true });
  const requests: RequestEvent[] = [];
  const responses: ResponseEvent[] = [];
  let now = Date.now();
  let client: AsapClient;
  before(() => {
    client = createAsapClient({
      baseUrl: `${agent.url}/`,
      agentId: ME,
      http: {
        hooks: { onRequest: (event) => requests.push(event), onResponse: (event) => responses.push(event) },
      },
      now: () => now,
    });
  });
  after(() => client.close());

  test('discover caches the manifest by max-age, then revalidates with If-None-Match (304)', async () => {
    const manifest = await client.discover();
    assert.equal(manifest.id, AGENT);
    assert.ok(manifest.capabilities.skills.some((skill) => skill.id === 'test.echo'));
    const count = requests.length;
    assert.equal(await client.discover(), manifest, 'fresh: served from the cache');
    assert.equal(requests.length, count, 'no request while fresh');

    now += 301_000; // past max-age=300
    assert.equal(await client.discover(), manifest);
    const revalidation = requests.at(-1)!;
    assert.match(String(revalidation.headers['if-none-match']), /^"[0-9a-f]{64}"$/);
    assert.equal(responses.at(-1)!.status, 304);
    const after304 = requests.length;
    await client.discover();
    assert.equal(requests.length, after304, 'a 304 makes the copy fresh again');
  });

  test('send: a task.request answered with a completed task.response bound to the request', async () => {
    const reply = await client.send(taskRequest('test.echo', { message: 'hi' }));
    assert.equal(reply.payload_type, 'task.response');
    assert.equal(reply.sender, AGENT, 'recipient defaulted from the manifest');
    assert.equal(reply.recipient, ME);
    const payload = reply.payload as { status: string; result: JsonObject };
    assert.equal(payload.status, 'completed');
    assert.deepEqual(payload.result, { echo: { echoed: { message: 'hi' } } });
    assert.equal(client.negotiatedVersion, '2.2');
  });

  test('send: a body over 1 KiB goes gzip-compressed and the agent decodes it', async () => {
    const message = 'x'.repeat(4000);
    const reply = await client.send(taskRequest('test.echo', { message }));
    assert.deepEqual((reply.payload as { result: JsonObject }).result, { echo: { echoed: { message } } });
    assert.equal(requests.at(-1)!.headers['content-encoding'], 'gzip');
  });

  test('send: an unknown skill is a typed, non-recoverable remote error', async () => {
    const error = await rejection(client.send(taskRequest('test.nope', {})));
    assert.ok(error instanceof AsapError);
    assert.equal(error.wireCode, -32602);
    assert.equal(error.recoverable, false);
    assert.equal(error.retryable, false);
    assert.match(String(error.details.error), /unknown skill "test\.nope"/);
  });

  test('send: an unknown payload_type is -32012 with its taxonomy', async () => {
    const error = await rejection(client.send({ payload_type: 'no.such', payload: {} }));
    assert.ok(error instanceof AsapError);
    assert.equal(error.wireCode, -32012);
    assert.equal(error.taxonomy, 'asap:transport/handler_not_found');
  });

  test('send: an invalid envelope is refused before anything is sent', async () => {
    const count = requests.length;
    await assert.rejects(
      client.send({ ...taskRequest('test.echo', {}), recipient: 'not-a-urn' }),
      (error: Error) => error.name === 'ValidationError' && /recipient/.test(error.message),
    );
    assert.equal(requests.length, count);
  });

  test('stream: TaskStream chunks bound to the request, ending with a final chunk', async () => {
    const chunks: Envelope[] = [];
    for await (const chunk of client.stream(taskRequest('test.echo', { message: 'hi' }))) chunks.push(chunk);
    assert.ok(chunks.length >= 2);
    const last = chunks.at(-1)!;
    assert.equal(last.payload_type, 'TaskStream');
    assert.deepEqual(
      { final: (last.payload as JsonObject).final, status: (last.payload as JsonObject).status },
      { final: true, status: 'completed' },
    );
    assert.ok(chunks.every((chunk) => chunk.correlation_id === chunks[0]!.correlation_id));
  });

  test('stream: an error before the stream starts (JSON, HTTP 200) is raised, not an empty stream', async () => {
    const consume = async () => {
      for await (const chunk of client.stream(taskRequest('test.nope', {}))) void chunk;
    };
    await assert.rejects(
      consume(),
      (error: unknown) => error instanceof AsapError && error.wireCode === -32602,
    );
  });
});

describe('ASAP client retry rules, against a stub agent', () => {
  const stub = new StubAgent();
  let client: AsapClient;
  before(async () => {
    await stub.start();
    client = createAsapClient({ baseUrl: stub.url, agentId: ME, retry: fastRetry });
  });
  after(async () => {
    await client.close();
    await stub.stop();
  });
  const send = (input: JsonObject = { n: 1 }) =>
    client.send({ ...taskRequest('s', input), recipient: STUB_AGENT });

  test('503 and 429 are retried; every attempt sends the same bytes and idempotency key', async () => {
    stub.script(status(503), status(429, { 'retry-after': '0' }), taskReply());
    const reply = await send();
    assert.equal((reply.payload as JsonObject).status, 'completed');
    assert.equal(stub.received.length, 3);
    const [first, ...rest] = stub.received;
    const key = first!.headers['x-idempotency-key'];
    assert.match(String(key), /^[0-9A-Z]{26}$/);
    assert.equal(first!.rpc!.params.idempotency_key, key);
    for (const attempt of rest) {
      assert.deepEqual(
        attempt.raw,
        first!.raw,
        'identical body (JSON-RPC id, envelope id, timestamp, nonce)',
      );
      assert.equal(attempt.headers['x-idempotency-key'], key);
    }
    assert.equal(first!.headers['asap-version'], '2.2, 2.1');
    assert.match(first!.rpc!.id, /^req-\d+$/);
    assert.equal(typeof (first!.rpc!.params.envelope.extensions as JsonObject).nonce, 'string');
  });

  test('after the last attempt a 5xx is a retryable failure carrying Retry-After', async () => {
    stub.script(status(503), status(502), status(503, { 'retry-after': '7' }));
    const error = await rejection(send());
    assert.equal(stub.received.length, 3);
    assert.equal((error as { retryable: boolean }).retryable, true);
    assert.equal((error as { retryAfterMs: number }).retryAfterMs, 7000);
  });

  test('other 4xx are not retried', async () => {
    stub.script(status(413, { 'content-type': 'application/json' }, '{"detail":"too large"}'));
    const error = await rejection(send());
    assert.ok(error instanceof HttpStatusError);
    assert.equal(error.status, 413);
    assert.equal(error.retryable, false);
    assert.equal(stub.received.length, 1);
  });

  test('a recoverable JSON-RPC error with retry_after_ms is resent after that delay', async () => {
    const data = { code: 'asap:protocol/invalid_timestamp', recoverable: true, retry_after_ms: 30 };
    stub.script(rpcError(-32002, 'too old', data), taskReply());
    const started = Date.now();
    await send();
    assert.ok(Date.now() - started >= 25);
    assert.equal(stub.received.length, 2);
    assert.deepEqual(stub.received[1]!.raw, stub.received[0]!.raw);
  });

  test('a fatal JSON-RPC error, or a recoverable one without retry_after_ms, is raised at once', async () => {
    stub.script(rpcError(-32003, 'Duplicate nonce', { recoverable: false, details: { nonce: 'n' } }));
    const fatal = await rejection(send());
    assert.ok(fatal instanceof AsapError);
    assert.equal(fatal.rpcCode, -32003);
    assert.equal(stub.received.length, 1);

    stub.script(rpcError(-32031, 'busy', { recoverable: true }));
    const noHint = await rejection(send());
    assert.ok(noHint instanceof AsapError);
    assert.equal(noHint.recoverable, true);
    assert.equal(noHint.retryAfterMs, undefined);
    assert.equal(stub.received.length, 1);
  });

  test('a reply with the wrong correlation_id is -32001 and not retried', async () => {
    stub.script(taskReply('completed', {}, '01JWRONGWRONGWRONGWRONGWRO'));
    const error = await rejection(send());
    assert.ok(error instanceof AsapError);
    assert.equal(error.rpcCode, -32001);
    assert.match(error.message, /correlation_id/);
    assert.equal(stub.received.length, 1);
  });

  test('a non-JSON answer is a remote -32700; one without result.envelope a remote -32603', async () => {
    stub.script(status(200, { 'content-type': 'text/html' }, '<html>'));
    const html = await rejection(send());
    assert.ok(html instanceof AsapError);
    assert.equal(html.wireCode, -32700);
    stub.script(
      status(200, { 'content-type': 'application/json' }, '{"jsonrpc":"2.0","result":{},"id":"x"}'),
    );
    const empty = await rejection(send());
    assert.ok(empty instanceof AsapError);
    assert.equal(empty.wireCode, -32603);
  });

  test('compression: gzip at or above 1 KiB only, and only when smaller', async () => {
    stub.script(taskReply());
    await send({ text: 'small' });
    assert.equal(stub.received[0]!.headers['content-encoding'], undefined);
    stub.script(taskReply());
    await send({ text: 'a'.repeat(2000) });
    const big = stub.received[0]!;
    assert.equal(big.headers['content-encoding'], 'gzip');
    assert.ok(big.raw.length < 1024);
    assert.equal(
      (
        JSON.parse(gunzipSync(big.raw).toString()) as {
          params: { envelope: Envelope<{ input: { text: string } }> };
        }
      ).params.envelope.payload.input.text,
      'a'.repeat(2000),
    );
  });

  test('manifest: no-store is never cached; ETag revalidation once max-age has passed', async () => {
    const manifest = {
      id: STUB_AGENT,
      name: 'stub',
      version: '1.0.0',
      description: 'a stub',
      capabilities: { skills: [] },
      endpoints: { asap: `${stub.url}/asap` },
    };
    const serve = status(
      200,
      { 'content-type': 'application/json', 'cache-control': 'no-store' },
      JSON.stringify(manifest),
    );
    stub.script(serve);
    await client.discover();
    await client.discover();
    assert.equal(stub.received.length, 2);

    const etag = '"v1"';
    stub.script(
      status(
        200,
        { 'content-type': 'application/json', 'cache-control': 'max-age=0', etag },
        JSON.stringify(manifest),
      ),
      (res, request) =>
        request.headers['if-none-match'] === etag
          ? res.writeHead(304, { etag }).end()
          : res.writeHead(500).end(),
    );
    const first = await client.discover();
    const second = await client.discover();
    assert.equal(second, first);
    assert.equal(stub.received[1]!.headers['if-none-match'], etag);
  });
});

describe('SSE parser', () => {
  test('events split anywhere, CRLF and CR line ends, multi-line data, comments and other fields', () => {
    const parser = new SseParser();
    const text =
      ': hello\r\ndata: {"a":\r\ndata: 1}\r\n\r\nevent: x\nid: 3\ndata:2\n\ndata: 3\r\rdata: unfinished';
    const events: string[] = [];
    for (let i = 0; i < text.length; i += 3) events.push(...parser.push(text.slice(i, i + 3)));
    assert.deepEqual(events, ['{"a":\n1}', '2', '3']);
  });
});
