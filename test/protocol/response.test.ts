import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ASAP_ENVELOPE_VERSION,
  checkCorrelation,
  createEnvelope,
  createReplyEnvelope,
  jsonRpcResult,
  parseRequestBody,
  sseEvent,
  taskResponsePayload,
  taskStreamPayload,
  validateEnvelope,
  type Envelope,
} from '../../src/protocol/index.ts';
import { SHEET_ECHO_RESPONSE, SHEET_REQUEST } from './fixtures.ts';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const SERVER = 'urn:asap:agent:default-server';

function request(): Envelope {
  const result = validateEnvelope({ ...SHEET_REQUEST, trace_id: 'trace-1', asap_version: '0.9' });
  assert.ok(result.ok);
  return result.envelope;
}

describe('reply envelopes, as the reference echo handler builds them (§1)', () => {
  test('sender/recipient swapped, correlation_id = request id, asap_version and trace_id copied', () => {
    const now = Date.parse('2026-07-21T12:00:00.130Z');
    const reply = createReplyEnvelope(
      request(),
      {
        sender: SERVER,
        payload_type: 'task.response',
        payload: taskResponsePayload({ status: 'completed', result: { echoed: { message: 'hi' } } }),
      },
      now,
    );
    assert.match(reply.id, ULID);
    assert.match(reply.payload.task_id, /^task_[0-9A-HJKMNP-TV-Z]{26}$/);
    assert.deepEqual(
      { ...reply, id: '01JQ9Y8R7...', payload: { ...reply.payload, task_id: 'task_01JQ9Y8R7...' } },
      {
        ...SHEET_ECHO_RESPONSE,
        asap_version: '0.9',
        trace_id: 'trace-1',
        timestamp: '2026-07-21T12:00:00.130000Z',
      },
    );
    assert.deepEqual(Object.keys(reply), Object.keys(SHEET_ECHO_RESPONSE));
  });

  test('a reply validates as a correlated envelope', () => {
    const reply = createReplyEnvelope(request(), {
      sender: SERVER,
      payload_type: 'TaskStream',
      payload: taskStreamPayload({ chunk: 'step 1 of 2', progress: 0.5 }),
    });
    const checked = validateEnvelope(reply);
    assert.ok(checked.ok);
    assert.equal(checked.kind, 'taskstream');
    assert.deepEqual(checked.envelope, reply);
  });

  test('payload builders fill every field, as reference peers emit them', () => {
    assert.deepEqual(taskStreamPayload(), { chunk: '', progress: null, final: false, status: null });
    assert.deepEqual(
      taskResponsePayload({ task_id: 't', status: 'working', metrics: { tokens_in: 2, cost: 1 } }),
      {
        task_id: 't',
        status: 'working',
        result: null,
        final_state: null,
        metrics: {
          duration_ms: null,
          tokens_in: 2,
          tokens_out: null,
          tokens_used: null,
          api_calls: null,
          cost: 1,
        },
      },
    );
  });

  test('createEnvelope fills the defaults of a new request', () => {
    const envelope = createEnvelope(
      { sender: 'urn:asap:agent:client', recipient: SERVER, payload_type: 'task.request', payload: { x: 1 } },
      Date.parse('2026-07-21T12:00:00Z'),
    );
    assert.match(envelope.id, ULID);
    assert.equal(envelope.asap_version, ASAP_ENVELOPE_VERSION);
    assert.equal(envelope.timestamp, '2026-07-21T12:00:00Z');
    assert.deepEqual(
      [envelope.correlation_id, envelope.trace_id, envelope.requires_ack, envelope.extensions],
      [null, null, false, null],
    );
  });
});

describe('round trips', () => {
  test('request → JSON-RPC body → parse → validate gives the same envelope', () => {
    const envelope = createEnvelope({
      sender: 'urn:asap:agent:client',
      recipient: SERVER,
      payload_type: 'task.request',
      payload: {
        conversation_id: 'c',
        parent_task_id: null,
        skill_id: 'shop.quote',
        input: { sku: 'mug' },
        config: null,
      },
      extensions: { nonce: 'n-1' },
    });
    const body = Buffer.from(
      JSON.stringify({ jsonrpc: '2.0', method: 'asap.send', params: { envelope }, id: 'req-1' }),
    );
    const parsed = parseRequestBody(body, { allowBatch: true });
    assert.ok(parsed.kind === 'request');
    const checked = validateEnvelope(parsed.request.params.envelope);
    assert.ok(checked.ok);
    assert.deepEqual(checked.envelope, envelope);
  });

  test('reply → JSON-RPC result → JSON → validate gives the same envelope', () => {
    const reply = createReplyEnvelope(request(), {
      sender: SERVER,
      payload_type: 'task.response',
      payload: taskResponsePayload({ status: 'failed', result: { error: 'x' } }),
    });
    const wire = JSON.parse(JSON.stringify(jsonRpcResult('req-1', reply))) as {
      result: { envelope: unknown };
      id: string;
    };
    assert.deepEqual(Object.keys(wire), ['jsonrpc', 'result', 'id']);
    assert.deepEqual(Object.keys(wire.result), ['envelope']);
    const checked = validateEnvelope(wire.result.envelope);
    assert.ok(checked.ok);
    assert.deepEqual(checked.envelope, reply);
  });

  test('validation is idempotent: a normalised envelope validates to itself', () => {
    const first = validateEnvelope({
      ...SHEET_REQUEST,
      requires_ack: 'yes',
      timestamp: '2026-07-21 12:00:00+00:00',
    });
    assert.ok(first.ok);
    const second = validateEnvelope(JSON.parse(JSON.stringify(first.envelope)));
    assert.ok(second.ok);
    assert.deepEqual(second.envelope, first.envelope);
  });

  test('an SSE event is one data line with the envelope and a blank line', () => {
    const reply = createReplyEnvelope(request(), {
      sender: SERVER,
      payload_type: 'TaskStream',
      payload: taskStreamPayload({ chunk: 'a\nb' }),
    });
    const event = sseEvent(reply);
    assert.match(event, /^data: \{.*\}\n\n$/);
    assert.equal(event.split('\n').length, 3);
    assert.deepEqual(JSON.parse(event.slice(6)), reply);
  });
});

describe('the client-side correlation check (§0.3, §6)', () => {
  test('a correlated reply must carry the request envelope id', () => {
    assert.equal(checkCorrelation('E1', { payload_type: 'task.response', correlation_id: 'E1' }), undefined);
    const error = checkCorrelation('E1', { payload_type: 'task.response', correlation_id: 'E2' });
    assert.equal(error?.rpcCode, -32001);
    assert.deepEqual(error?.details, { request_id: 'E1', correlation_id: 'E2' });
    assert.ok(checkCorrelation('E1', { payload_type: 'TaskStream', correlation_id: null }));
  });

  test('other reply types are not checked (e.g. state_restore.ack)', () => {
    assert.equal(
      checkCorrelation('E1', { payload_type: 'state_restore.ack', correlation_id: null }),
      undefined,
    );
  });
});
