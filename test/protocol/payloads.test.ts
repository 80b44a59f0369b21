import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  canTransition,
  CORRELATED_PAYLOAD_KINDS,
  invalidTransitionError,
  TASK_STATUSES,
  TERMINAL_TASK_STATUSES,
  normalizePayloadType,
  payloadKindOf,
  requiresCorrelation,
  validatePayload,
  type JsonObject,
} from '../../src/protocol/index.ts';
import { summary, URL_PREFIX } from './fixtures.ts';

/** [payload_type, payload, normalised output]: valid payloads, defaults filled in. */
const VALID: [string, JsonObject, JsonObject][] = [
  [
    'task.request',
    { conversation_id: 'c', skill_id: 's', input: { a: 1 } },
    { conversation_id: 'c', parent_task_id: null, skill_id: 's', input: { a: 1 }, config: null },
  ],
  [
    'task.request',
    {
      conversation_id: 'c',
      parent_task_id: 'task_1',
      skill_id: 's',
      input: {},
      config: {
        timeout_seconds: '30',
        priority: 'high',
        streaming: 'no',
        temperature: '1.5',
        persist_state: 1,
      },
    },
    {
      conversation_id: 'c',
      parent_task_id: 'task_1',
      skill_id: 's',
      input: {},
      config: {
        timeout_seconds: 30,
        priority: 'high',
        idempotency_key: null,
        streaming: false,
        persist_state: true,
        model: null,
        temperature: 1.5,
      },
    },
  ],
  [
    'task.response',
    { task_id: 't', status: 'working' },
    { task_id: 't', status: 'working', result: null, final_state: null, metrics: null },
  ],
  [
    'task.response',
    {
      task_id: 't',
      status: 'completed',
      result: { x: 1 },
      metrics: { tokens_in: 3, cost_usd: 0.1, model: 'm' },
    },
    {
      task_id: 't',
      status: 'completed',
      result: { x: 1 },
      final_state: null,
      metrics: {
        duration_ms: null,
        tokens_in: 3,
        tokens_out: null,
        tokens_used: null,
        api_calls: null,
        cost_usd: 0.1,
        model: 'm',
      },
    },
  ],
  ['TaskStream', {}, { chunk: '', progress: null, final: false, status: null }],
  [
    'TaskStream',
    { chunk: 'step 1', progress: 0.5, final: 'true', status: 'working' },
    { chunk: 'step 1', progress: 0.5, final: true, status: 'working' },
  ],
  [
    'task.update',
    { task_id: 't', update_type: 'progress', status: 'working', progress: { percent: 45, message: 'x' } },
    {
      task_id: 't',
      update_type: 'progress',
      status: 'working',
      progress: { percent: 45, message: 'x' },
      input_request: null,
    },
  ],
  [
    'task.update',
    { task_id: 't', update_type: 'status_change', status: 'input_required', progress: { percent: true } },
    {
      task_id: 't',
      update_type: 'status_change',
      status: 'input_required',
      progress: { percent: true },
      input_request: null,
    },
  ],
  ['task.cancel', { task_id: 't' }, { task_id: 't', reason: null }],
  [
    'message.send',
    { task_id: 't', message_id: 'm', sender: 'not-a-urn', role: 'assistant', parts: ['p1', 'p2'] },
    { task_id: 't', message_id: 'm', sender: 'not-a-urn', role: 'assistant', parts: ['p1', 'p2'] },
  ],
  ['state_query', { task_id: 't' }, { task_id: 't', version: null }],
  ['state_query', { task_id: 't', version: '3' }, { task_id: 't', version: 3 }],
  ['state_restore', { task_id: 't', snapshot_id: 's' }, { task_id: 't', snapshot_id: 's' }],
  ['artifact.notify', { artifact_id: 'a', task_id: 't' }, { artifact_id: 'a', task_id: 't', name: null }],
  [
    'mcp_tool_call',
    { request_id: 'r', tool_name: 'search', arguments: { q: 'x' } },
    { request_id: 'r', tool_name: 'search', arguments: { q: 'x' }, mcp_context: null },
  ],
  [
    'mcp_tool_result',
    { request_id: 'r', success: true, result: { hits: 1 } },
    { request_id: 'r', success: true, result: { hits: 1 }, error: null },
  ],
  [
    'mcp_tool_result',
    { request_id: 'r', success: false, error: 'boom' },
    { request_id: 'r', success: false, result: null, error: 'boom' },
  ],
  ['mcp.resource_fetch', { resource_uri: 'file:///x' }, { resource_uri: 'file:///x' }],
  ['McpResourceData', { resource_uri: 'u', content: {} }, { resource_uri: 'u', content: {} }],
  [
    'MessageAck',
    { original_envelope_id: 'e', status: 'processed' },
    { original_envelope_id: 'e', status: 'processed', error: null },
  ],
];

/** [payload_type, payload, issues as [type, loc]]. */
const INVALID: [string, JsonObject, [string, string][]][] = [
  [
    'task.request',
    {},
    [
      ['missing', 'conversation_id'],
      ['missing', 'skill_id'],
      ['missing', 'input'],
    ],
  ],
  ['task.request', { conversation_id: 'c', skill_id: 's', input: [] }, [['dict_type', 'input']]],
  [
    'task.request',
    { conversation_id: 'c', skill_id: 's', input: {}, config: 'fast' },
    [['model_type', 'config']],
  ],
  [
    'task.request',
    {
      conversation_id: 'c',
      skill_id: 's',
      input: {},
      config: { timeout_seconds: 0, retries: 3, temperature: 2.5 },
    },
    [
      ['greater_than_equal', 'config.timeout_seconds'],
      ['less_than_equal', 'config.temperature'],
      ['extra_forbidden', 'config.retries'],
    ],
  ],
  [
    'task.request',
    {
      conversation_id: 'c',
      skill_id: 's',
      input: {},
      config: { timeout_seconds: 1.5, streaming: 'sometimes' },
    },
    [
      ['int_from_float', 'config.timeout_seconds'],
      ['bool_parsing', 'config.streaming'],
    ],
  ],
  [
    'task.request',
    {
      conversation_id: 'c',
      skill_id: 's',
      input: {},
      config: { timeout_seconds: 'soon', temperature: 'hot' },
    },
    [
      ['int_parsing', 'config.timeout_seconds'],
      ['float_parsing', 'config.temperature'],
    ],
  ],
  [
    'task.request',
    { conversation_id: 'c', skill_id: 's', input: {}, config: { temperature: -0.1, model: 4 } },
    [
      ['string_type', 'config.model'],
      ['greater_than_equal', 'config.temperature'],
    ],
  ],
  [
    'task.request',
    { conversation_id: 'c', skill_id: 's', input: {}, parent: 'x' },
    [['extra_forbidden', 'parent']],
  ],
  ['task.response', { task_id: 't', status: 'done' }, [['enum', 'status']]],
  ['task.response', { task_id: 't', status: 'COMPLETED' }, [['enum', 'status']]],
  [
    'task.response',
    { task_id: 't', status: 'completed', metrics: { tokens_in: -1, duration_ms: 'x' } },
    [
      ['int_parsing', 'metrics.duration_ms'],
      ['greater_than_equal', 'metrics.tokens_in'],
    ],
  ],
  ['task.response', { task_id: 't', status: 'completed', metrics: [] }, [['model_type', 'metrics']]],
  [
    'TaskStream',
    { progress: 1.5, final: null, status: 'x' },
    [
      ['less_than_equal', 'progress'],
      ['bool_type', 'final'],
      ['enum', 'status'],
    ],
  ],
  ['TaskStream', { chunk: null }, [['string_type', 'chunk']]],
  ['task.update', { task_id: 't', update_type: 'other', status: 'working' }, [['enum', 'update_type']]],
  [
    'task.update',
    { task_id: 't', update_type: 'progress', status: 'working', progress: { percent: '45' } },
    [['value_error', 'progress']],
  ],
  [
    'task.update',
    { task_id: 't', update_type: 'progress', status: 'working', progress: { percent: 101 } },
    [['value_error', 'progress']],
  ],
  [
    'message.send',
    { task_id: 't', message_id: 'm', sender: 's', role: 'bot', parts: ['a', 1] },
    [
      ['enum', 'role'],
      ['string_type', 'parts.1'],
    ],
  ],
  [
    'message.send',
    { task_id: 't', message_id: 'm', sender: 's', role: 'user', parts: 'a' },
    [['list_type', 'parts']],
  ],
  ['state_query', { task_id: 't', version: 1.5 }, [['int_from_float', 'version']]],
  ['mcp_tool_call', { request_id: 'r', tool_name: 't', arguments: null }, [['dict_type', 'arguments']]],
  ['mcp_tool_result', { request_id: 'r', success: true }, [['value_error', '']]],
  ['mcp_tool_result', { request_id: 'r', success: true, result: {}, error: 'e' }, [['value_error', '']]],
  ['mcp_tool_result', { request_id: 'r', success: false }, [['value_error', '']]],
  ['mcp_tool_result', { request_id: 'r', success: false, error: 'e', result: {} }, [['value_error', '']]],
  ['McpResourceFetch', { resource_uri: 'u', mime: 'x' }, [['extra_forbidden', 'mime']]],
  ['MessageAck', { original_envelope_id: 'e', status: 'done' }, [['literal_error', 'status']]],
];

describe('payload models', () => {
  for (const [payloadType, payload, expected] of VALID) {
    test(`${payloadType} ${JSON.stringify(payload)} is valid`, () => {
      const result = validatePayload(payloadType, payload);
      assert.ok(result.ok);
      assert.deepEqual(result.payload, expected);
      assert.deepEqual(Object.keys(result.payload), Object.keys(expected), 'fields in the reference order');
    });
  }
  for (const [payloadType, payload, expected] of INVALID) {
    test(`${payloadType} ${JSON.stringify(payload)} → ${expected.map(([type]) => type).join(', ')}`, () => {
      const result = validatePayload(payloadType, payload);
      assert.ok(!result.ok);
      assert.deepEqual(summary(result.issues), expected);
    });
  }
});

describe('issue wording, as pydantic words it', () => {
  function firstIssue(payloadType: string, payload: JsonObject) {
    const result = validatePayload(payloadType, payload);
    assert.ok(!result.ok);
    return result.issues[0];
  }

  test('enum lists the members', () => {
    const expected = "'submitted', 'working', 'completed', 'failed', 'cancelled' or 'input_required'";
    assert.deepEqual(firstIssue('task.response', { task_id: 't', status: 'done' }), {
      type: 'enum',
      loc: ['status'],
      msg: `Input should be ${expected}`,
      input: 'done',
      ctx: { expected },
      url: `${URL_PREFIX}enum`,
    });
  });

  test('Literal lists the choices', () => {
    const issue = firstIssue('MessageAck', { original_envelope_id: 'e', status: 'x' });
    assert.equal(issue?.msg, "Input should be 'received', 'processed' or 'rejected'");
    assert.deepEqual(issue?.ctx, { expected: "'received', 'processed' or 'rejected'" });
  });

  test('bounds print as the reference declares them', () => {
    const tooLow = firstIssue('task.request', {
      conversation_id: 'c',
      skill_id: 's',
      input: {},
      config: { timeout_seconds: 0 },
    });
    assert.deepEqual(tooLow, {
      type: 'greater_than_equal',
      loc: ['config', 'timeout_seconds'],
      msg: 'Input should be greater than or equal to 1',
      input: 0,
      ctx: { ge: 1 },
      url: `${URL_PREFIX}greater_than_equal`,
    });
    assert.equal(
      firstIssue('TaskStream', { progress: -1 })?.msg,
      'Input should be greater than or equal to 0.0',
    );
    assert.equal(firstIssue('TaskStream', { progress: 2 })?.msg, 'Input should be less than or equal to 1.0');
    const hot = firstIssue('task.request', {
      conversation_id: 'c',
      skill_id: 's',
      input: {},
      config: { temperature: 3 },
    });
    assert.equal(hot?.msg, 'Input should be less than or equal to 2');
  });

  test('a nested model given a non-object is model_type with its class name', () => {
    assert.deepEqual(
      firstIssue('task.request', { conversation_id: 'c', skill_id: 's', input: {}, config: [] }),
      {
        type: 'model_type',
        loc: ['config'],
        msg: 'Input should be a valid dictionary or instance of TaskRequestConfig',
        input: [],
        ctx: { class_name: 'TaskRequestConfig' },
        url: `${URL_PREFIX}model_type`,
      },
    );
  });

  test('TaskUpdate.progress.percent messages', () => {
    const notNumber = firstIssue('task.update', {
      task_id: 't',
      update_type: 'progress',
      status: 'working',
      progress: { percent: null },
    });
    assert.deepEqual(notNumber, {
      type: 'value_error',
      loc: ['progress'],
      msg: 'Value error, progress.percent must be a number',
      input: { percent: null },
      ctx: { error: 'progress.percent must be a number' },
      url: `${URL_PREFIX}value_error`,
    });
    const outOfRange = firstIssue('task.update', {
      task_id: 't',
      update_type: 'progress',
      status: 'working',
      progress: { percent: -5 },
    });
    assert.equal(outOfRange?.msg, 'Value error, progress.percent must be between 0 and 100');
  });

  test('McpToolResult: the model rule reports at the model with the payload as input', () => {
    const payload = { request_id: 'r', success: true };
    assert.deepEqual(firstIssue('mcp_tool_result', payload), {
      type: 'value_error',
      loc: [],
      msg: 'Value error, result must be provided when success=True',
      input: payload,
      ctx: { error: 'result must be provided when success=True' },
      url: `${URL_PREFIX}value_error`,
    });
    const messages = [
      [{ request_id: 'r', success: true, result: {}, error: 'e' }, 'error must be None when success=True'],
      [{ request_id: 'r', success: false }, 'error must be provided when success=False'],
      [{ request_id: 'r', success: 'no', error: 'e', result: {} }, 'result must be None when success=False'],
    ] as const;
    for (const [body, text] of messages)
      assert.equal(firstIssue('mcp_tool_result', body)?.msg, `Value error, ${text}`);
  });

  test('the model rule runs only when the fields are valid', () => {
    const result = validatePayload('mcp_tool_result', { request_id: 5, success: true });
    assert.ok(!result.ok);
    assert.deepEqual(summary(result.issues), [['string_type', 'request_id']]);
  });

  test('TaskMetrics keeps unknown keys (even `__proto__`) as own keys, after the declared ones', () => {
    const metrics = JSON.parse('{"__proto__": 1, "custom": {"a": 1}, "api_calls": 2}') as JsonObject;
    const result = validatePayload('task.response', { task_id: 't', status: 'completed', metrics });
    assert.ok(result.ok);
    const out = (result.payload as { metrics: JsonObject }).metrics;
    assert.deepEqual(Object.keys(out), [
      'duration_ms',
      'tokens_in',
      'tokens_out',
      'tokens_used',
      'api_calls',
      '__proto__',
      'custom',
    ]);
    assert.equal(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, 1);
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
  });
});

describe('payload_type normalisation (§3)', () => {
  const cases: [string, string][] = [
    ['task.request', 'taskrequest'],
    ['TaskRequest', 'taskrequest'],
    ['task_request', 'taskrequest'],
    ['TASK-REQUEST', 'taskrequest'],
    ['mcp.tool_call', 'mcptoolcall'],
    ['state.query', 'statequery'],
    ['state_restore.ack', 'staterestoreack'],
    ['Tâche', 'tâche'],
    ['', ''],
  ];
  for (const [input, key] of cases) {
    test(`${JSON.stringify(input)} → ${JSON.stringify(key)}`, () =>
      assert.equal(normalizePayloadType(input), key));
  }

  test('payloadKindOf: known names select a model, others none', () => {
    assert.equal(payloadKindOf('TaskStream'), 'taskstream');
    assert.equal(payloadKindOf('message_ack'), 'messageack');
    assert.equal(payloadKindOf('state_restore.ack'), undefined);
    assert.equal(payloadKindOf('constructor'), undefined);
    assert.equal(payloadKindOf('__proto__'), undefined);
  });

  test('correlation is required for taskresponse, taskstream, mcptoolresult, mcpresourcedata only', () => {
    assert.deepEqual([...CORRELATED_PAYLOAD_KINDS].sort(), [
      'mcpresourcedata',
      'mcptoolresult',
      'taskresponse',
      'taskstream',
    ]);
    assert.equal(requiresCorrelation('task.response'), true);
    assert.equal(requiresCorrelation('Task_Stream'), true);
    assert.equal(requiresCorrelation('task.request'), false);
    assert.equal(requiresCorrelation('state_restore.ack'), false);
  });

  test('an unknown type validates to itself, untyped', () => {
    const payload = { anything: true };
    assert.deepEqual(validatePayload('custom', payload), { ok: true, kind: null, payload });
  });
});

describe('the task state machine (§3)', () => {
  const allowed = new Set([
    'submitted>working',
    'submitted>cancelled',
    'working>completed',
    'working>failed',
    'working>cancelled',
    'working>input_required',
    'input_required>working',
    'input_required>cancelled',
  ]);
  test('exactly the listed transitions are allowed; terminal states allow none', () => {
    for (const from of TASK_STATUSES) {
      for (const to of TASK_STATUSES)
        assert.equal(canTransition(from, to), allowed.has(`${from}>${to}`), `${from}>${to}`);
    }
    assert.deepEqual([...TERMINAL_TASK_STATUSES].sort(), ['cancelled', 'completed', 'failed']);
  });

  test('a refused transition is -32000 asap:protocol/invalid_state', () => {
    const error = invalidTransitionError('completed', 'cancelled');
    assert.equal(error.rpcCode, -32000);
    assert.equal(error.message, "Invalid transition from 'completed' to 'cancelled'");
  });
});
