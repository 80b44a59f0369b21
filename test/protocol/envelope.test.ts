import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  describeEnvelopeFailure,
  isAgentUrn,
  validateEnvelope,
  type JsonObject,
} from '../../src/protocol/index.ts';
import {
  invalidIssues,
  requestWith,
  SHEET_ECHO_RESPONSE,
  SHEET_REQUEST,
  summary,
  URL_PREFIX,
} from './fixtures.ts';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const MODEL_NAMES = [
  'TaskRequest',
  'TaskResponse',
  'TaskUpdate',
  'TaskCancel',
  'MessageSend',
  'StateQuery',
  'StateRestore',
  'ArtifactNotify',
  'McpToolCall',
  'McpToolResult',
  'McpResourceFetch',
  'McpResourceData',
  'MessageAck',
  'TaskStream',
];

describe('the sheet example envelopes (§1)', () => {
  test('the example request is valid, typed as taskrequest, and comes back unchanged', () => {
    const result = validateEnvelope(SHEET_REQUEST);
    assert.ok(result.ok);
    assert.equal(result.kind, 'taskrequest');
    assert.deepEqual(result.envelope, SHEET_REQUEST);
    assert.deepEqual(
      Object.keys(result.envelope),
      Object.keys(SHEET_REQUEST),
      'fields in the reference order',
    );
  });

  test('the example echo response is valid (the format of ids is not checked)', () => {
    const result = validateEnvelope(SHEET_ECHO_RESPONSE);
    assert.ok(result.ok);
    assert.equal(result.kind, 'taskresponse');
    assert.deepEqual(result.envelope, SHEET_ECHO_RESPONSE);
  });
});

describe('envelope fields', () => {
  test('only sender, recipient, payload_type, payload and asap_version are required; the rest default', () => {
    const now = Date.parse('2026-07-21T12:00:00.5Z');
    const result = validateEnvelope(
      {
        asap_version: '0.1',
        sender: 'urn:asap:agent:a',
        recipient: 'urn:asap:agent:b',
        payload_type: 'custom.thing',
        payload: {},
      },
      { now },
    );
    assert.ok(result.ok);
    assert.match(result.envelope.id, ULID);
    assert.equal(result.envelope.timestamp, '2026-07-21T12:00:00.500000Z');
    assert.equal(result.envelope.correlation_id, null);
    assert.equal(result.envelope.trace_id, null);
    assert.equal(result.envelope.requires_ack, false);
    assert.equal(result.envelope.extensions, null);
    assert.equal(result.kind, null, 'an unknown payload_type stays a free-form object');
  });

  test('every required field, when absent, is a `missing` issue whose input is the whole envelope', () => {
    const raw = { payload: {} };
    const issues = invalidIssues(validateEnvelope(raw), 'envelope');
    assert.deepEqual(summary(issues), [
      ['missing', 'asap_version'],
      ['missing', 'sender'],
      ['missing', 'recipient'],
      ['missing', 'payload_type'],
    ]);
    assert.deepEqual(issues[0], {
      type: 'missing',
      loc: ['asap_version'],
      msg: 'Field required',
      input: raw,
      url: `${URL_PREFIX}missing`,
    });
  });

  const idCases: [string, unknown, boolean][] = [
    ['a ULID', '01JQ9Y8R6C2K3M4N5P6Q7R8S9T', true],
    ['a UUID (the format is not checked)', '2f1c6b1e-8d7a-4c4e-9a5e-0c1d2e3f4a5b', true],
    ['a prefixed id', 'env_123', true],
    ['an empty string', '', true],
    ['an integer', 123, false],
    ['a boolean', true, false],
  ];
  for (const [label, id, ok] of idCases) {
    test(`id: ${label} is ${ok ? 'accepted as is' : 'a string_type issue'}`, () => {
      const result = validateEnvelope(requestWith({ id }));
      if (ok) {
        assert.ok(result.ok);
        assert.equal(result.envelope.id, id);
      } else {
        assert.deepEqual(summary(invalidIssues(result)), [['string_type', 'id']]);
      }
    });
  }

  test('id: absent or null is generated as a ULID', () => {
    for (const id of [undefined, null]) {
      const result = validateEnvelope(requestWith({ id }));
      assert.ok(result.ok);
      assert.match(result.envelope.id, ULID);
    }
  });

  test('asap_version: any string is accepted and kept; a number is not a string', () => {
    for (const version of ['0.1', '2.2', 'anything', '']) {
      const result = validateEnvelope(requestWith({ asap_version: version }));
      assert.ok(result.ok);
      assert.equal(result.envelope.asap_version, version);
    }
    assert.deepEqual(summary(invalidIssues(validateEnvelope(requestWith({ asap_version: 0.1 })))), [
      ['string_type', 'asap_version'],
    ]);
  });

  test('timestamp: kept as the reference prints it (offsets kept, +00:00 printed Z, naive kept)', () => {
    const cases: [unknown, string][] = [
      ['2026-07-21T12:00:00.123456Z', '2026-07-21T12:00:00.123456Z'],
      ['2026-07-21T12:00:00+00:00', '2026-07-21T12:00:00Z'],
      ['2026-07-21T14:00:00.5+02:00', '2026-07-21T14:00:00.500000+02:00'],
      ['2026-07-21T12:00:00', '2026-07-21T12:00:00'],
      [1_784_635_200, '2026-07-21T12:00:00Z'],
    ];
    for (const [input, printed] of cases) {
      const result = validateEnvelope(requestWith({ timestamp: input }));
      assert.ok(result.ok, String(input));
      assert.equal(result.envelope.timestamp, printed);
    }
  });

  test('timestamp: null is filled in with now', () => {
    const result = validateEnvelope(requestWith({ timestamp: null }), {
      now: Date.parse('2026-01-02T03:04:05Z'),
    });
    assert.ok(result.ok);
    assert.equal(result.envelope.timestamp, '2026-01-02T03:04:05Z');
  });

  test('correlation_id and trace_id: free strings or null; anything else is a string_type issue', () => {
    const ok = validateEnvelope(
      requestWith({ correlation_id: 'x', trace_id: '0af7651916cd43dd8448eb211c80319c' }),
    );
    assert.ok(ok.ok);
    assert.equal(ok.envelope.trace_id, '0af7651916cd43dd8448eb211c80319c');
    assert.deepEqual(
      summary(invalidIssues(validateEnvelope(requestWith({ correlation_id: 1, trace_id: {} })))),
      [
        ['string_type', 'correlation_id'],
        ['string_type', 'trace_id'],
      ],
    );
  });

  const ackCases: [unknown, boolean | string][] = [
    [true, true],
    [false, false],
    ['yes', true],
    ['On', true],
    ['t', true],
    ['1', true],
    [1, true],
    ['off', false],
    ['F', false],
    ['0', false],
    [0, false],
    [2, 'bool_parsing'],
    ['maybe', 'bool_parsing'],
    [1.5, 'bool_type'],
    [null, 'bool_type'],
    [[], 'bool_type'],
  ];
  for (const [input, expected] of ackCases) {
    test(`requires_ack: ${JSON.stringify(input)} → ${String(expected)} (lax bool)`, () => {
      const result = validateEnvelope(requestWith({ requires_ack: input }));
      if (typeof expected === 'boolean') {
        assert.ok(result.ok);
        assert.equal(result.envelope.requires_ack, expected);
      } else {
        assert.deepEqual(summary(invalidIssues(result)), [[expected, 'requires_ack']]);
      }
    });
  }

  test('extensions: any object or null; anything else is a dict_type issue', () => {
    for (const extensions of [{}, null, { nonce: 'n', custom: { deep: [1] } }]) {
      const result = validateEnvelope(requestWith({ extensions }));
      assert.ok(result.ok);
      assert.deepEqual(result.envelope.extensions, extensions);
    }
    for (const extensions of [[], 'x', 1]) {
      assert.deepEqual(summary(invalidIssues(validateEnvelope(requestWith({ extensions })))), [
        ['dict_type', 'extensions'],
      ]);
    }
  });

  test('strict: each unknown key is an extra_forbidden issue, after the field issues, in input order', () => {
    const issues = invalidIssues(
      validateEnvelope(requestWith({ zeta: 1, sender: 5, alpha: null, version: '1' })),
    );
    assert.deepEqual(summary(issues), [
      ['string_type', 'sender'],
      ['extra_forbidden', 'zeta'],
      ['extra_forbidden', 'alpha'],
      ['extra_forbidden', 'version'],
    ]);
    assert.deepEqual(issues[1], {
      type: 'extra_forbidden',
      loc: ['zeta'],
      msg: 'Extra inputs are not permitted',
      input: 1,
      url: `${URL_PREFIX}extra_forbidden`,
    });
  });

  test('params.envelope absent or null is `missing`; a non-object is `not_object`', () => {
    assert.deepEqual(validateEnvelope(undefined), { ok: false, kind: 'missing' });
    assert.deepEqual(validateEnvelope(null), { ok: false, kind: 'missing' });
    for (const raw of ['x', 5, [], true])
      assert.deepEqual(validateEnvelope(raw), { ok: false, kind: 'not_object' });
  });
});

describe('agent URNs (§0.5), on sender and recipient', () => {
  const valid = [
    'urn:asap:agent:a',
    'urn:asap:agent:default-server',
    'urn:asap:agent:research-v1:sub-2',
    'urn:asap:agent:0',
    'urn:asap:agent:x\n', // Python's `$` matches before one final newline
    `urn:asap:agent:${'a'.repeat(241)}`, // exactly 256 characters
  ];
  const invalid = [
    'urn:asap:agent:Client',
    'urn:asap:agent:my_agent',
    'urn:asap:agent:',
    'urn:asap:agent:a:b:c',
    'urn:asap:agent:a:',
    'urn:asap:agent:a b',
    ' urn:asap:agent:a',
    'urn:asap:agent:a\n\n',
    'URN:asap:agent:a',
    'urn:asap:agents:a',
    'agent:a',
  ];
  for (const urn of valid) {
    test(`${JSON.stringify(urn).slice(0, 40)} is accepted`, () => {
      assert.equal(isAgentUrn(urn), true);
      const result = validateEnvelope(requestWith({ sender: urn, recipient: urn }));
      assert.ok(result.ok);
      assert.equal(result.envelope.sender, urn);
    });
  }
  for (const urn of invalid) {
    test(`${JSON.stringify(urn)} is a value_error on sender and on recipient`, () => {
      assert.equal(isAgentUrn(urn), false);
      const issues = invalidIssues(validateEnvelope(requestWith({ sender: urn, recipient: urn })));
      const text = `Agent ID must follow URN format 'urn:asap:agent:{name}', got: ${urn}`;
      assert.deepEqual(issues, [
        {
          type: 'value_error',
          loc: ['sender'],
          msg: `Value error, ${text}`,
          input: urn,
          ctx: { error: text },
          url: `${URL_PREFIX}value_error`,
        },
        {
          type: 'value_error',
          loc: ['recipient'],
          msg: `Value error, ${text}`,
          input: urn,
          ctx: { error: text },
          url: `${URL_PREFIX}value_error`,
        },
      ]);
    });
  }

  test('more than 256 characters is reported as a length problem (checked before the pattern)', () => {
    const urn = `urn:asap:agent:${'a'.repeat(242)}`;
    const issues = invalidIssues(validateEnvelope(requestWith({ recipient: urn })));
    assert.equal(issues.length, 1);
    assert.equal(issues[0]?.msg, 'Value error, Agent URN must be at most 256 characters, got 257');
  });

  test('the length counts code points, as Python does', () => {
    const urn = `urn:asap:agent:${'é'.repeat(200)}`; // 215 code points: not too long, but not lower-case ASCII
    const issues = invalidIssues(validateEnvelope(requestWith({ sender: urn })));
    assert.match(issues[0]?.msg ?? '', /must follow URN format/);
    const long = 'é'.repeat(257);
    assert.match(invalidIssues(validateEnvelope(requestWith({ sender: long })))[0]?.msg ?? '', /got 257$/);
  });

  test('a non-string sender is a string_type issue', () => {
    assert.deepEqual(summary(invalidIssues(validateEnvelope(requestWith({ sender: null })))), [
      ['string_type', 'sender'],
    ]);
  });
});

describe('payload_type and payload (§3)', () => {
  test('typing uses the normalised name: task.request, TaskRequest, task_request, TASK-REQUEST', () => {
    for (const payloadType of [
      'task.request',
      'TaskRequest',
      'task_request',
      'TASK-REQUEST',
      'Task Request!',
    ]) {
      const result = validateEnvelope(requestWith({ payload_type: payloadType }));
      assert.ok(result.ok, payloadType);
      assert.equal(result.kind, 'taskrequest');
      assert.equal(result.envelope.payload_type, payloadType, 'the exact string is kept (dispatch uses it)');
    }
  });

  test('an unknown payload_type keeps the payload as a free-form object, extra keys and all', () => {
    const payload = { anything: [1, 2], nested: { ok: true } };
    const result = validateEnvelope(requestWith({ payload_type: 'state_restore.ack', payload }));
    assert.ok(result.ok);
    assert.equal(result.kind, null);
    assert.equal(result.envelope.payload, payload);
  });

  test('a typed payload is normalised: defaults filled in, in field order', () => {
    const result = validateEnvelope(
      requestWith({
        payload: { skill_id: 'echo', conversation_id: 'c', input: {}, config: { streaming: 'true' } },
      }),
    );
    assert.ok(result.ok);
    assert.deepEqual(result.envelope.payload, {
      conversation_id: 'c',
      parent_task_id: null,
      skill_id: 'echo',
      input: {},
      config: {
        timeout_seconds: null,
        priority: null,
        idempotency_key: null,
        streaming: true,
        persist_state: null,
        model: null,
        temperature: null,
      },
    });
    assert.deepEqual(Object.keys(result.envelope.payload), [
      'conversation_id',
      'parent_task_id',
      'skill_id',
      'input',
      'config',
    ]);
  });

  test('a typed payload that fails is the whole answer: its issues, located without a payload. prefix', () => {
    const raw = requestWith({ sender: 'BAD', payload: { skill_id: 1, input: {}, extra: true } });
    const result = validateEnvelope(raw);
    const issues = invalidIssues(result, 'payload');
    assert.deepEqual(summary(issues), [
      ['missing', 'conversation_id'],
      ['string_type', 'skill_id'],
      ['extra_forbidden', 'extra'],
    ]);
    assert.deepEqual(issues[0]?.input, raw.payload, 'missing reports the payload object as input');
    assert.ok(!result.ok);
    assert.deepEqual(describeEnvelopeFailure(result), [
      'payload.conversation_id: Field required',
      'payload.skill_id: Input should be a valid string',
      'payload.extra: Extra inputs are not permitted',
    ]);
  });

  test('a payload that is not an object fails every union member: 14 models and the dict (15 issues)', () => {
    for (const payload of [[], 'x', 7, null, true]) {
      const issues = invalidIssues(validateEnvelope(requestWith({ payload })), 'envelope');
      assert.deepEqual(summary(issues), [
        ...MODEL_NAMES.map((name): [string, string] => ['model_type', `payload.${name}`]),
        ['dict_type', 'payload.dict[str,any]'],
      ]);
      assert.deepEqual(issues[0], {
        type: 'model_type',
        loc: ['payload', 'TaskRequest'],
        msg: 'Input should be a valid dictionary or instance of TaskRequest',
        input: payload,
        ctx: { class_name: 'TaskRequest' },
        url: `${URL_PREFIX}model_type`,
      });
    }
  });

  test('a missing payload is one missing issue', () => {
    assert.deepEqual(summary(invalidIssues(validateEnvelope(requestWith({ payload: undefined })))), [
      ['missing', 'payload'],
    ]);
  });

  test('a truthy payload_type that is not a string crashes the reference (-32603), with an object payload', () => {
    for (const payloadType of [5, true, ['task.request'], { a: 1 }, -1.5]) {
      const result = validateEnvelope(requestWith({ payload_type: payloadType }));
      assert.deepEqual(result, { ok: false, kind: 'internal', reason: 'payload_type is not a string' });
    }
  });

  test('a falsy non-string payload_type, or any with a non-object payload, is a plain string_type issue', () => {
    for (const payloadType of [0, false, [], {}, null]) {
      assert.deepEqual(summary(invalidIssues(validateEnvelope(requestWith({ payload_type: payloadType })))), [
        ['string_type', 'payload_type'],
      ]);
    }
    const issues = invalidIssues(validateEnvelope(requestWith({ payload_type: 5, payload: 'x' })));
    assert.equal(issues.length, 16);
    assert.deepEqual(issues[0]?.loc, ['payload_type']);
  });

  test('an empty payload_type with an object payload is valid and untyped', () => {
    const result = validateEnvelope(requestWith({ payload_type: '', payload: { free: 1 } }));
    assert.ok(result.ok);
    assert.equal(result.kind, null);
  });
});

describe('the correlation rule (§0.3)', () => {
  const correlated: [string, JsonObject][] = [
    ['task.response', { task_id: 't', status: 'completed' }],
    ['TaskResponse', { task_id: 't', status: 'failed' }],
    ['TaskStream', { chunk: 'x' }],
    ['task_stream', {}],
    ['mcp_tool_result', { request_id: 'r', success: true, result: {} }],
    ['McpResourceData', { resource_uri: 'u', content: {} }],
  ];
  for (const [payloadType, payload] of correlated) {
    test(`${payloadType} needs a non-empty correlation_id`, () => {
      for (const correlationId of [undefined, null, '']) {
        const raw = requestWith({ payload_type: payloadType, payload, correlation_id: correlationId });
        const issues = invalidIssues(validateEnvelope(raw), 'envelope');
        const text = `${payloadType} must have correlation_id for request tracking`;
        assert.equal(issues.length, 1);
        assert.deepEqual(
          { ...issues[0], input: undefined },
          {
            type: 'value_error',
            loc: [],
            msg: `Value error, ${text}`,
            input: undefined,
            ctx: { error: text },
            url: `${URL_PREFIX}value_error`,
          },
        );
      }
      const ok = validateEnvelope(
        requestWith({ payload_type: payloadType, payload, correlation_id: 'req-env-id' }),
      );
      assert.ok(ok.ok);
    });
  }

  test('the issue input is the envelope with the typed payload (defaults filled in)', () => {
    const raw = requestWith({
      payload_type: 'task.response',
      payload: { task_id: 't', status: 'completed' },
    });
    const issues = invalidIssues(validateEnvelope(raw));
    assert.deepEqual(issues[0]?.input, {
      ...raw,
      payload: { task_id: 't', status: 'completed', result: null, final_state: null, metrics: null },
    });
  });

  test('the rule is checked only once every field is valid', () => {
    const raw = requestWith({
      payload_type: 'task.response',
      payload: { task_id: 't', status: 'completed' },
      sender: 'x',
    });
    assert.deepEqual(summary(invalidIssues(validateEnvelope(raw))), [['value_error', 'sender']]);
  });

  test('requests and untyped replies need none', () => {
    for (const payloadType of ['task.request', 'state_restore.ack', 'task.cancel']) {
      const payload = payloadType === 'task.cancel' ? { task_id: 't' } : SHEET_REQUEST.payload;
      assert.ok(validateEnvelope(requestWith({ payload_type: payloadType, payload })).ok, payloadType);
    }
  });
});
