import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { currentContext, runWithContext } from '../../src/client/index.ts';
import { clientFor as client, serve } from './servers.ts';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function parts(header: unknown): { traceId: string; spanId: string; flags: string } {
  const match = TRACEPARENT.exec(String(header));
  assert.ok(match, `not a traceparent: ${String(header)}`);
  return { traceId: match[1] as string, spanId: match[2] as string, flags: match[3] as string };
}

describe('correlation id and W3C trace context', () => {
  test('generated when absent: one correlation id and one trace per call, a new span per attempt', async (t) => {
    const server = await serve(t, [{ status: 503 }, { status: 503 }, { status: 200 }]);
    await client(t).get(server.origin);
    const ids = server.requests.map((r) => r.headers['x-correlation-id']);
    assert.match(String(ids[0]), UUID);
    assert.deepEqual(ids, [ids[0], ids[0], ids[0]]);
    const traces = server.requests.map((r) => parts(r.headers.traceparent));
    assert.equal(new Set(traces.map((p) => p.traceId)).size, 1);
    assert.equal(new Set(traces.map((p) => p.spanId)).size, 3);
    assert.notEqual(traces[0]?.traceId, '0'.repeat(32));
    assert.equal(traces[0]?.flags, '01');
  });

  test('separate calls get separate ids', async (t) => {
    const server = await serve(t, [{ status: 200 }]);
    const http = client(t);
    await http.get(server.origin);
    await http.get(server.origin);
    const [a, b] = server.requests;
    assert.notEqual(a?.headers['x-correlation-id'], b?.headers['x-correlation-id']);
    assert.notEqual(parts(a?.headers.traceparent).traceId, parts(b?.headers.traceparent).traceId);
  });

  test('taken from the current context, keeping its trace id and flags', async (t) => {
    const server = await serve(t, [{ status: 502 }, { status: 200 }]);
    const http = client(t);
    const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00';
    await runWithContext({ correlationId: 'req-123', traceparent: parent }, async () => {
      assert.equal(currentContext()?.correlationId, 'req-123');
      await http.get(server.origin);
    });
    for (const request of server.requests) {
      assert.equal(request.headers['x-correlation-id'], 'req-123');
      const { traceId, spanId, flags } = parts(request.headers.traceparent);
      assert.equal(traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
      assert.equal(flags, '00');
      assert.notEqual(spanId, '00f067aa0ba902b7');
    }
    assert.equal(currentContext(), undefined);
  });

  test('nested contexts inherit what they do not set', async (t) => {
    const server = await serve(t, [{ status: 200 }]);
    const http = client(t);
    const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await runWithContext({ correlationId: 'outer', traceparent: parent }, () =>
      runWithContext({ correlationId: 'inner' }, () => http.get(server.origin)),
    );
    assert.equal(server.requests[0]?.headers['x-correlation-id'], 'inner');
    assert.equal(parts(server.requests[0]?.headers.traceparent).traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
  });

  test('a per-call id wins over the context; an invalid traceparent is replaced', async (t) => {
    const server = await serve(t, [{ status: 200 }]);
    const http = client(t);
    await runWithContext({ correlationId: 'ctx', traceparent: '00-zz-nothex-01' }, () =>
      http.get(server.origin, { correlationId: 'mine' }),
    );
    assert.equal(server.requests[0]?.headers['x-correlation-id'], 'mine');
    parts(server.requests[0]?.headers.traceparent);
  });

  test('ids given as headers are kept; the header name is configurable', async (t) => {
    const server = await serve(t, [{ status: 200 }]);
    const http = client(t, { correlationHeader: 'X-Request-ID' });
    const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await http.get(server.origin, { headers: { 'x-request-id': 'from-header', TraceParent: parent } });
    const request = server.requests[0];
    assert.equal(request?.headers['x-request-id'], 'from-header');
    assert.equal(request?.headers['x-correlation-id'], undefined);
    assert.equal(parts(request?.headers.traceparent).traceId, '0af7651916cd43dd8448eb211c80319c');
    assert.notEqual(parts(request?.headers.traceparent).spanId, 'b7ad6b7169203331');
  });
});
