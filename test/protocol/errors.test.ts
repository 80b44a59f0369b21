import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classifyFailure } from '../../src/engine/errors.ts';
import {
  agentRevokedError,
  ASAP_ERRORS,
  asapErrorData,
  asapErrorFromWire,
  asapErrorResponse,
  AsapError,
  authErrorResponse,
  circuitOpenError,
  connectionError,
  handlerNotFoundResponse,
  internalErrorResponse,
  invalidTransitionError,
  isAsapError,
  JSON_RPC_ERROR_MESSAGES,
  jsonRpcError,
  malformedEnvelopeError,
  rateLimitBody,
  senderMismatchResponse,
  signatureVerificationError,
  taskAlreadyCompletedError,
  taskNotFoundError,
  threadPoolExhaustedBody,
  threadPoolExhaustedError,
  timeoutError,
  unsupportedAuthSchemeError,
  versionIncompatibleResponse,
  webhookUrlRejectedError,
  wwwAuthenticateOf,
  type JsonObject,
} from '../../src/protocol/index.ts';
import { SHEET_RATE_LIMIT_BODY } from './fixtures.ts';

describe('the error table (§2.4)', () => {
  test('standard codes have their fixed messages; -32000 doubles as version incompatible', () => {
    assert.deepEqual(JSON_RPC_ERROR_MESSAGES, {
      [-32700]: 'Parse error',
      [-32600]: 'Invalid request',
      [-32601]: 'Method not found',
      [-32602]: 'Invalid params',
      [-32603]: 'Internal error',
      [-32000]: 'ASAP protocol version incompatible',
    });
    assert.equal(jsonRpcError(-31999, null, 1).error.message, 'Unknown error');
  });

  /** [error, code, taxonomy, recoverable, retry_after_ms, fallback_action, message, details]. */
  const table: [
    AsapError,
    number,
    string,
    boolean,
    number | undefined,
    string | undefined,
    string,
    JsonObject,
  ][] = [
    [
      invalidTransitionError('completed', 'working', { task_id: 't1' }),
      -32000,
      'asap:protocol/invalid_state',
      false,
      undefined,
      undefined,
      "Invalid transition from 'completed' to 'working'",
      { from_state: 'completed', to_state: 'working', task_id: 't1' },
    ],
    [
      malformedEnvelopeError('bad', { request_id: 'r' }),
      -32001,
      'asap:protocol/malformed_envelope',
      false,
      undefined,
      undefined,
      'Malformed envelope: bad',
      { request_id: 'r' },
    ],
    [
      taskNotFoundError('task_1'),
      -32010,
      'asap:task/not_found',
      false,
      undefined,
      undefined,
      'Task not found: task_1',
      { task_id: 'task_1' },
    ],
    [
      circuitOpenError('http://a', 5),
      -32011,
      'asap:transport/circuit_open',
      true,
      5000,
      'retry_later_or_failover',
      'Circuit breaker is OPEN for http://a. Too many consecutive failures (5). Service temporarily unavailable.',
      { base_url: 'http://a', consecutive_failures: 5 },
    ],
    [
      unsupportedAuthSchemeError('oauth2'),
      -32020,
      'asap:auth/unsupported_scheme',
      false,
      undefined,
      undefined,
      "Unsupported authentication scheme 'oauth2'. Supported schemes: basic, bearer",
      { scheme: 'oauth2', supported_schemes: ['basic', 'bearer'] },
    ],
    [
      taskAlreadyCompletedError('task_1', 'completed'),
      -32030,
      'asap:task/already_completed',
      false,
      undefined,
      undefined,
      'Task already completed: task_1 (status: completed)',
      { task_id: 'task_1', current_status: 'completed' },
    ],
    [
      threadPoolExhaustedError(8, 8),
      -32031,
      'asap:transport/thread_pool_exhausted',
      true,
      1000,
      'retry_later',
      'Thread pool exhausted: 8/8 threads in use. Service temporarily unavailable.',
      { max_threads: 8, active_threads: 8 },
    ],
    [
      connectionError('refused'),
      -32032,
      'asap:transport/connection_error',
      true,
      undefined,
      'retry_or_check_connectivity',
      'refused',
      {},
    ],
    [
      timeoutError('timed out', 60),
      -32033,
      'asap:transport/timeout',
      true,
      undefined,
      'retry_with_backoff',
      'timed out',
      { timeout_seconds: 60 },
    ],
    [
      webhookUrlRejectedError('http://10.0.0.1', 'private address'),
      -32050,
      'asap:transport/webhook_url_rejected',
      false,
      undefined,
      undefined,
      'Webhook URL rejected: private address',
      { url: 'http://10.0.0.1', reason: 'private address' },
    ],
    [
      agentRevokedError('urn:asap:agent:x'),
      -32051,
      'asap:agent/revoked',
      false,
      undefined,
      undefined,
      'Agent revoked: urn:asap:agent:x',
      { urn: 'urn:asap:agent:x' },
    ],
    [
      signatureVerificationError('bad signature'),
      -32052,
      'asap:error/signature-verification',
      false,
      undefined,
      undefined,
      'bad signature',
      {},
    ],
  ];
  for (const [error, code, taxonomy, recoverable, retryAfterMs, fallbackAction, message, details] of table) {
    test(`${code} ${taxonomy}: data shaped as the reference shapes it`, () => {
      assert.equal(error.rpcCode, code);
      assert.equal(error.wireCode, code);
      const expected: JsonObject = { code: taxonomy, rpc_code: code, message, details };
      if (retryAfterMs !== undefined) expected.retry_after_ms = retryAfterMs;
      if (fallbackAction !== undefined) expected.fallback_action = fallbackAction;
      expected.recoverable = recoverable;
      expected.asap_taxonomy_code = taxonomy;
      expected.error = message;
      const answer = asapErrorResponse('req-1', error);
      assert.deepEqual(answer, { jsonrpc: '2.0', error: { code, message, data: expected }, id: 'req-1' });
      assert.deepEqual(
        Object.keys(answer.error.data ?? {}),
        Object.keys(expected),
        'keys in the reference order',
      );
    });
  }

  test('every row of ASAP_ERRORS lies in the band and has a taxonomy', () => {
    for (const spec of Object.values(ASAP_ERRORS)) {
      assert.ok(spec.rpcCode >= -32059 && spec.rpcCode <= -32000);
      assert.match(spec.taxonomy, /^asap:/);
    }
    assert.throws(
      () => new AsapError({ rpcCode: -32602, taxonomy: 'x', recoverable: false }, { message: 'm' }),
      RangeError,
    );
  });

  test('-32012: handler not found, and its streaming variant', () => {
    const data = {
      code: 'asap:transport/handler_not_found',
      rpc_code: -32012,
      message: 'No handler registered for payload type: TaskRequest',
      details: { payload_type: 'TaskRequest' },
      recoverable: false,
      asap_taxonomy_code: 'asap:transport/handler_not_found',
      error: 'No handler registered for payload type: TaskRequest',
    };
    assert.deepEqual(handlerNotFoundResponse('req-1', 'TaskRequest'), {
      jsonrpc: '2.0',
      error: { code: -32012, message: 'No handler registered for payload type: TaskRequest', data },
      id: 'req-1',
    });
    const streaming = handlerNotFoundResponse(2, 'task.request', { streaming: true });
    assert.equal(
      (streaming.error.data as JsonObject).error,
      'No streaming handler registered for payload type',
    );
  });

  test('-32000: incompatible ASAP-Version', () => {
    assert.deepEqual(versionIncompatibleResponse('2.2.0'), {
      jsonrpc: '2.0',
      error: {
        code: -32000,
        message: 'ASAP protocol version incompatible',
        data: { requested: '2.2.0', supported: ['2.1', '2.2'] },
      },
      id: null,
    });
  });

  test('-32603: generic, and with the debug fields', () => {
    assert.deepEqual(internalErrorResponse(4), {
      jsonrpc: '2.0',
      error: { code: -32603, message: 'Internal error', data: { error: 'Internal server error' } },
      id: 4,
    });
    const debug = { error: 'boom', type: 'TypeError', traceback: 'TypeError: boom\n    at x' };
    assert.deepEqual(internalErrorResponse(4, debug).error.data, debug);
  });

  test('manifest auth failures are HTTP-200 JSON-RPC errors with status_code', () => {
    assert.deepEqual(authErrorResponse('r', 'Authentication required', 401).error, {
      code: -32600,
      message: 'Invalid request',
      data: { error: 'Authentication required', status_code: 401 },
    });
    assert.deepEqual(authErrorResponse('r', 'Invalid authentication token', 401).error.code, -32600);
    assert.deepEqual(senderMismatchResponse('r').error, {
      code: -32602,
      message: 'Invalid params',
      data: { error: 'Sender does not match authenticated identity', status_code: 403 },
    });
  });

  test('429 body (§5.4) and 503 thread-pool body (§2.4)', () => {
    assert.deepEqual(rateLimitBody(1, '10 per 1 second'), SHEET_RATE_LIMIT_BODY);
    const error = threadPoolExhaustedError(4, 4);
    assert.deepEqual(threadPoolExhaustedBody(error), {
      error: 'Service Temporarily Unavailable',
      code: 'asap:transport/thread_pool_exhausted',
      rpc_code: -32031,
      message: 'Thread pool exhausted: 4/4 threads in use. Service temporarily unavailable.',
      details: { max_threads: 4, active_threads: 4 },
      recoverable: true,
      retry_after_ms: 1000,
      fallback_action: 'retry_later',
    });
  });

  test('hints can be overridden or removed; alternative_agents appears when set', () => {
    const error = new AsapError(ASAP_ERRORS.circuitOpen, {
      message: 'm',
      retryAfterMs: null,
      alternativeAgents: ['urn:asap:agent:b'],
    });
    assert.deepEqual(asapErrorData(error, 'm'), {
      code: 'asap:transport/circuit_open',
      rpc_code: -32011,
      message: 'm',
      details: {},
      alternative_agents: ['urn:asap:agent:b'],
      fallback_action: 'retry_later_or_failover',
      recoverable: true,
      asap_taxonomy_code: 'asap:transport/circuit_open',
      error: 'm',
    });
  });

  test('a details key _www_authenticate_asap becomes a header, never part of data', () => {
    const error = taskNotFoundError('t', {
      _www_authenticate_asap: 'ASAP discovery="https://a/.well-known/asap/manifest.json"',
    });
    assert.equal(wwwAuthenticateOf(error), 'ASAP discovery="https://a/.well-known/asap/manifest.json"');
    assert.deepEqual(asapErrorData(error).details, { task_id: 't' });
    assert.equal(wwwAuthenticateOf(taskNotFoundError('t')), undefined);
  });

  test('a connection error with a URL gains the reference troubleshooting text', () => {
    const error = connectionError('Connection refused', {
      url: 'http://a/asap',
      cause: new Error('ECONNREFUSED'),
    });
    assert.match(
      error.message,
      /^Connection refused\nTroubleshooting: Connection failed to http:\/\/a\/asap\. Verify/,
    );
    assert.deepEqual(error.details, { url: 'http://a/asap', cause: 'ECONNREFUSED' });
    assert.equal(connectionError('Verify it', { url: 'http://a' }).message, 'Verify it');
  });
});

describe('AsapError', () => {
  test('is recognised by shape, and the engine retries exactly the recoverable ones', () => {
    const fatal = taskNotFoundError('t');
    const recoverable = circuitOpenError('http://a', 5);
    assert.equal(isAsapError(fatal), true);
    assert.equal(
      isAsapError(Object.assign(new Error('x'), { rpcCode: -32010, taxonomy: 'asap:x', recoverable: false })),
      true,
    );
    assert.equal(isAsapError(new Error('x')), false);
    assert.equal(isAsapError({ rpcCode: -32010, taxonomy: 'asap:x', recoverable: false }), false);
    assert.deepEqual(classifyFailure(fatal), { retryable: false, retryAfterMs: undefined });
    assert.deepEqual(classifyFailure(recoverable), { retryable: true, retryAfterMs: 5000 });
    assert.equal(fatal.name, 'AsapError');
    assert.ok(fatal instanceof Error);
  });

  test('asapErrorFromWire reads an ASAP error answer as the reference clients read it', () => {
    const error = asapErrorFromWire({
      code: -32002,
      message: 'Envelope timestamp is too old',
      data: {
        code: 'asap:protocol/invalid_timestamp',
        rpc_code: -32002,
        message: 'Envelope timestamp is too old',
        details: { age_seconds: 400 },
        retry_after_ms: 5000,
        fallback_action: 'resend_with_fresh_timestamp',
        recoverable: true,
        asap_taxonomy_code: 'asap:protocol/invalid_timestamp',
        error: 'Invalid envelope timestamp',
      },
    });
    assert.equal(error.rpcCode, -32002);
    assert.equal(error.wireCode, -32002);
    assert.equal(error.taxonomy, 'asap:protocol/invalid_timestamp');
    assert.equal(error.recoverable, true);
    assert.equal(error.retryAfterMs, 5000);
    assert.equal(error.fallbackAction, 'resend_with_fresh_timestamp');
    assert.deepEqual(error.details, {
      message: 'Envelope timestamp is too old',
      details: { age_seconds: 400 },
      error: 'Invalid envelope timestamp',
    });
  });

  test('a standard JSON-RPC error keeps its wire code and takes the -32034 slot, fatal', () => {
    const error = asapErrorFromWire({
      code: -32602,
      message: 'Invalid params',
      data: { error: 'Invalid envelope structure' },
    });
    assert.equal(error.wireCode, -32602);
    assert.equal(error.rpcCode, -32034);
    assert.equal(error.taxonomy, 'asap:rpc/remote_error');
    assert.equal(error.recoverable, false);
    assert.deepEqual(error.details, { error: 'Invalid envelope structure' });
    const bare = asapErrorFromWire({ code: 429, message: 'Rate limit exceeded' });
    assert.equal(bare.wireCode, 429);
    assert.equal(bare.recoverable, false);
    assert.equal(bare.retryAfterMs, undefined);
  });

  test('recoverable only when data.recoverable is exactly true; a code that is not asap: stays in details', () => {
    const error = asapErrorFromWire({
      code: -32010,
      message: 'm',
      data: { recoverable: 'yes', code: 'custom' },
    });
    assert.equal(error.recoverable, false);
    assert.equal(error.taxonomy, 'asap:rpc/remote_error');
    assert.deepEqual(error.details, {});
  });
});
