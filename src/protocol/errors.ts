/**
 * The error table of asap-wire §2.4: standard JSON-RPC codes with their fixed messages, the ASAP
 * application band (-32000 … -32059) with taxonomy codes and recovery hints, and `AsapError`, the
 * typed error a handler throws (or a client raises for a remote error) that renders itself as the
 * reference shapes `error.data`.
 */
import type { JsonObject } from './lax.ts';

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;
/** `-32000` doubles as the incompatible `ASAP-Version` answer (and as invalid task state). */
export const VERSION_INCOMPATIBLE = -32000;

/** The fixed `error.message` of each standard code (`JsonRpcError.from_code`). */
export const JSON_RPC_ERROR_MESSAGES: Readonly<Record<number, string>> = {
  [PARSE_ERROR]: 'Parse error',
  [INVALID_REQUEST]: 'Invalid request',
  [METHOD_NOT_FOUND]: 'Method not found',
  [INVALID_PARAMS]: 'Invalid params',
  [INTERNAL_ERROR]: 'Internal error',
  [VERSION_INCOMPATIBLE]: 'ASAP protocol version incompatible',
};

export function jsonRpcErrorMessage(code: number): string {
  return JSON_RPC_ERROR_MESSAGES[code] ?? 'Unknown error';
}

export const ASAP_RPC_CODE_MIN = -32059;
export const ASAP_RPC_CODE_MAX = -32000;

export function isAsapRpcCode(code: number): boolean {
  return Number.isInteger(code) && code >= ASAP_RPC_CODE_MIN && code <= ASAP_RPC_CODE_MAX;
}

export interface AsapErrorSpec {
  readonly rpcCode: number;
  /** `data.code` and `data.asap_taxonomy_code`. */
  readonly taxonomy: string;
  readonly recoverable: boolean;
  readonly retryAfterMs?: number;
  readonly fallbackAction?: string;
}

/** Every row of the §2.4 table that has a taxonomy code. */
export const ASAP_ERRORS = {
  invalidState: { rpcCode: -32000, taxonomy: 'asap:protocol/invalid_state', recoverable: false },
  malformedEnvelope: { rpcCode: -32001, taxonomy: 'asap:protocol/malformed_envelope', recoverable: false },
  invalidTimestamp: {
    rpcCode: -32002,
    taxonomy: 'asap:protocol/invalid_timestamp',
    recoverable: true,
    retryAfterMs: 5000,
    fallbackAction: 'resend_with_fresh_timestamp',
  },
  invalidNonce: { rpcCode: -32003, taxonomy: 'asap:protocol/invalid_nonce', recoverable: false },
  taskNotFound: { rpcCode: -32010, taxonomy: 'asap:task/not_found', recoverable: false },
  circuitOpen: {
    rpcCode: -32011,
    taxonomy: 'asap:transport/circuit_open',
    recoverable: true,
    retryAfterMs: 5000,
    fallbackAction: 'retry_later_or_failover',
  },
  handlerNotFound: { rpcCode: -32012, taxonomy: 'asap:transport/handler_not_found', recoverable: false },
  unsupportedAuthScheme: { rpcCode: -32020, taxonomy: 'asap:auth/unsupported_scheme', recoverable: false },
  taskAlreadyCompleted: { rpcCode: -32030, taxonomy: 'asap:task/already_completed', recoverable: false },
  threadPoolExhausted: {
    rpcCode: -32031,
    taxonomy: 'asap:transport/thread_pool_exhausted',
    recoverable: true,
    retryAfterMs: 1000,
    fallbackAction: 'retry_later',
  },
  connectionError: {
    rpcCode: -32032,
    taxonomy: 'asap:transport/connection_error',
    recoverable: true,
    fallbackAction: 'retry_or_check_connectivity',
  },
  timeout: {
    rpcCode: -32033,
    taxonomy: 'asap:transport/timeout',
    recoverable: true,
    fallbackAction: 'retry_with_backoff',
  },
  remoteError: { rpcCode: -32034, taxonomy: 'asap:rpc/remote_error', recoverable: false },
  webhookUrlRejected: {
    rpcCode: -32050,
    taxonomy: 'asap:transport/webhook_url_rejected',
    recoverable: false,
  },
  agentRevoked: { rpcCode: -32051, taxonomy: 'asap:agent/revoked', recoverable: false },
  signatureVerification: {
    rpcCode: -32052,
    taxonomy: 'asap:error/signature-verification',
    recoverable: false,
  },
} as const satisfies Record<string, AsapErrorSpec>;

/** Reserved in the band without a taxonomy (§2.4). */
export const RPC_RESOURCE_EXHAUSTED = -32040;

/** A details key an ASAP error may carry to set `WWW-Authenticate` on the answer; never sent. */
export const WWW_AUTHENTICATE_DETAIL = '_www_authenticate_asap';

export interface AsapErrorInit {
  message: string;
  details?: JsonObject;
  /** Overrides the spec's hint; `null` removes it. */
  retryAfterMs?: number | null;
  alternativeAgents?: string[];
  fallbackAction?: string | null;
  /** The code seen on the wire when it differs from the band slot (remote errors). */
  wireCode?: number;
  cause?: unknown;
}

/**
 * An ASAP protocol error. The server answers it as JSON-RPC with `code = rpcCode` (HTTP 200) and
 * `data` from `asapErrorData`. `retryable` mirrors `recoverable` and `retryAfterMs` the hint, so
 * the engine's retry logic reads an `AsapError` thrown by a step handler correctly.
 */
export class AsapError extends Error {
  /** The code in the ASAP band (-32000 … -32059). */
  readonly rpcCode: number;
  /** The JSON-RPC code on the wire: `rpcCode`, or the remote code when outside the band. */
  readonly wireCode: number;
  readonly taxonomy: string;
  readonly details: JsonObject;
  readonly recoverable: boolean;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly alternativeAgents: string[] | undefined;
  readonly fallbackAction: string | undefined;

  constructor(spec: AsapErrorSpec, init: AsapErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    if (!isAsapRpcCode(spec.rpcCode)) {
      throw new RangeError(
        `rpc_code must be in [${ASAP_RPC_CODE_MIN}, ${ASAP_RPC_CODE_MAX}], got ${spec.rpcCode}`,
      );
    }
    this.name = 'AsapError';
    this.rpcCode = spec.rpcCode;
    this.wireCode = init.wireCode ?? spec.rpcCode;
    this.taxonomy = spec.taxonomy;
    this.details = init.details ?? {};
    this.recoverable = spec.recoverable;
    this.retryable = spec.recoverable;
    this.retryAfterMs = pick(init.retryAfterMs, spec.retryAfterMs);
    this.alternativeAgents = init.alternativeAgents;
    this.fallbackAction = pick(init.fallbackAction, spec.fallbackAction);
  }
}

function pick<T>(override: T | null | undefined, fallback: T | undefined): T | undefined {
  if (override === null) return undefined;
  return override ?? fallback;
}

/** Recognises ASAP errors by shape, not `instanceof`, so copies of the package still match. */
export function isAsapError(error: unknown): error is AsapError {
  if (!(error instanceof Error)) return false;
  const { rpcCode, taxonomy, recoverable } = error as Partial<AsapError>;
  return typeof rpcCode === 'number' && typeof taxonomy === 'string' && typeof recoverable === 'boolean';
}

/**
 * `error.data` for an ASAP error, keys in the reference's order: `code`, `rpc_code`, `message`,
 * `details`, then `retry_after_ms`, `alternative_agents`, `fallback_action` when set, then
 * `recoverable`, `asap_taxonomy_code`, and the short `error` string the server adds.
 */
export function asapErrorData(error: AsapError, errorText?: string): JsonObject {
  const details = { ...error.details };
  delete details[WWW_AUTHENTICATE_DETAIL];
  const data: JsonObject = {
    code: error.taxonomy,
    rpc_code: error.rpcCode,
    message: error.message,
    details,
  };
  if (error.retryAfterMs !== undefined) data.retry_after_ms = error.retryAfterMs;
  if (error.alternativeAgents !== undefined) data.alternative_agents = error.alternativeAgents;
  if (error.fallbackAction !== undefined) data.fallback_action = error.fallbackAction;
  data.recoverable = error.recoverable;
  data.asap_taxonomy_code = error.taxonomy;
  if (errorText !== undefined) data.error = errorText;
  return data;
}

/** The `WWW-Authenticate` value an error asks for (details key `_www_authenticate_asap`). */
export function wwwAuthenticateOf(error: AsapError): string | undefined {
  const value = error.details[WWW_AUTHENTICATE_DETAIL];
  return typeof value === 'string' ? value : undefined;
}

// ── The reference's errors, with its messages and details ────────────────────

export function invalidTransitionError(from: string, to: string, details?: JsonObject): AsapError {
  return new AsapError(ASAP_ERRORS.invalidState, {
    message: `Invalid transition from '${from}' to '${to}'`,
    details: { from_state: from, to_state: to, ...details },
  });
}

export function malformedEnvelopeError(reason: string, details?: JsonObject): AsapError {
  return new AsapError(ASAP_ERRORS.malformedEnvelope, { message: `Malformed envelope: ${reason}`, details });
}

export function invalidTimestampError(init: {
  timestamp: string;
  message: string;
  ageSeconds?: number;
  futureOffsetSeconds?: number;
  details?: JsonObject;
}): AsapError {
  const details: JsonObject = { timestamp: init.timestamp };
  if (init.ageSeconds !== undefined) details.age_seconds = init.ageSeconds;
  if (init.futureOffsetSeconds !== undefined) details.future_offset_seconds = init.futureOffsetSeconds;
  return new AsapError(ASAP_ERRORS.invalidTimestamp, {
    message: init.message,
    details: { ...details, ...init.details },
  });
}

export function invalidNonceError(nonce: string, message: string, details?: JsonObject): AsapError {
  return new AsapError(ASAP_ERRORS.invalidNonce, { message, details: { nonce, ...details } });
}

export function taskNotFoundError(taskId: string, details?: JsonObject): AsapError {
  return new AsapError(ASAP_ERRORS.taskNotFound, {
    message: `Task not found: ${taskId}`,
    details: { task_id: taskId, ...details },
  });
}

export function circuitOpenError(
  baseUrl: string,
  consecutiveFailures: number,
  details?: JsonObject,
): AsapError {
  return new AsapError(ASAP_ERRORS.circuitOpen, {
    message:
      `Circuit breaker is OPEN for ${baseUrl}. Too many consecutive failures (${consecutiveFailures}). ` +
      'Service temporarily unavailable.',
    details: { base_url: baseUrl, consecutive_failures: consecutiveFailures, ...details },
  });
}

export function handlerNotFoundError(payloadType: string): AsapError {
  return new AsapError(ASAP_ERRORS.handlerNotFound, {
    message: `No handler registered for payload type: ${payloadType}`,
    details: { payload_type: payloadType },
  });
}

/** The schemes a manifest may declare (case-insensitive); `basic` is declared but unimplemented. */
export const SUPPORTED_AUTH_SCHEMES = ['basic', 'bearer'] as const;

export function unsupportedAuthSchemeError(scheme: string, details?: JsonObject): AsapError {
  const supported = [...SUPPORTED_AUTH_SCHEMES];
  return new AsapError(ASAP_ERRORS.unsupportedAuthScheme, {
    message: `Unsupported authentication scheme '${scheme}'. Supported schemes: ${supported.join(', ')}`,
    details: { scheme, supported_schemes: supported, ...details },
  });
}

export function taskAlreadyCompletedError(
  taskId: string,
  currentStatus: string,
  details?: JsonObject,
): AsapError {
  return new AsapError(ASAP_ERRORS.taskAlreadyCompleted, {
    message: `Task already completed: ${taskId} (status: ${currentStatus})`,
    details: { task_id: taskId, current_status: currentStatus, ...details },
  });
}

export function threadPoolExhaustedError(maxThreads: number, activeThreads: number): AsapError {
  return new AsapError(ASAP_ERRORS.threadPoolExhausted, {
    message: `Thread pool exhausted: ${activeThreads}/${maxThreads} threads in use. Service temporarily unavailable.`,
    details: { max_threads: maxThreads, active_threads: activeThreads },
  });
}

/** Client side: the connection failed. With a URL the message gains the reference's advice. */
export function connectionError(
  message: string,
  init: { url?: string; cause?: unknown; retryAfterMs?: number; alternativeAgents?: string[] } = {},
): AsapError {
  const advise =
    init.url !== undefined &&
    !message.includes('Verify') &&
    !message.toLowerCase().includes('troubleshooting');
  const details: JsonObject = {};
  if (init.url !== undefined) details.url = init.url;
  if (init.cause !== undefined)
    details.cause = init.cause instanceof Error ? init.cause.message : JSON.stringify(init.cause);
  return new AsapError(ASAP_ERRORS.connectionError, {
    message: advise
      ? `${message}\nTroubleshooting: Connection failed to ${init.url}. Verify the agent is running and accessible. ` +
        'Check the URL format, network connectivity, and firewall settings.'
      : message,
    details,
    retryAfterMs: init.retryAfterMs,
    alternativeAgents: init.alternativeAgents,
    cause: init.cause,
  });
}

export function timeoutError(message: string, timeoutSeconds?: number): AsapError {
  return new AsapError(ASAP_ERRORS.timeout, {
    message,
    details: timeoutSeconds === undefined ? {} : { timeout_seconds: timeoutSeconds },
  });
}

export function webhookUrlRejectedError(url: string, reason: string): AsapError {
  return new AsapError(ASAP_ERRORS.webhookUrlRejected, {
    message: `Webhook URL rejected: ${reason}`,
    details: { url, reason },
  });
}

export function agentRevokedError(urn: string): AsapError {
  return new AsapError(ASAP_ERRORS.agentRevoked, { message: `Agent revoked: ${urn}`, details: { urn } });
}

export function signatureVerificationError(message: string, details?: JsonObject): AsapError {
  return new AsapError(ASAP_ERRORS.signatureVerification, { message, details });
}

/**
 * Client side: a JSON-RPC error answer as a typed error, read as the reference clients read it:
 * taxonomy from `data.asap_taxonomy_code` (or `data.code` when it starts with `asap:`),
 * recoverable only when `data.recoverable === true`, hints from `retry_after_ms`,
 * `alternative_agents`, `fallback_action`; every other key of `data` goes into `details`. A code
 * outside the ASAP band keeps its wire code and takes the `-32034` slot.
 */
export function asapErrorFromWire(error: { code: number; message: string; data?: unknown }): AsapError {
  const rest: JsonObject =
    typeof error.data === 'object' && error.data !== null && !Array.isArray(error.data)
      ? { ...(error.data as JsonObject) }
      : {};
  let taxonomy =
    'asap_taxonomy_code' in rest ? String(rest.asap_taxonomy_code) : ASAP_ERRORS.remoteError.taxonomy;
  const recoverable = rest.recoverable === true;
  const retryAfter = rest.retry_after_ms;
  const agents = rest.alternative_agents;
  const fallback = rest.fallback_action;
  const alternate = rest.code;
  for (const key of [
    'asap_taxonomy_code',
    'recoverable',
    'retry_after_ms',
    'alternative_agents',
    'fallback_action',
    'rpc_code',
    'code',
  ]) {
    delete rest[key];
  }
  if (typeof alternate === 'string' && alternate.startsWith('asap:')) taxonomy = alternate;
  const retryAfterMs =
    retryAfter === undefined || retryAfter === null ? undefined : Math.trunc(Number(retryAfter));
  return new AsapError(
    {
      rpcCode: isAsapRpcCode(error.code) ? error.code : ASAP_ERRORS.remoteError.rpcCode,
      taxonomy,
      recoverable,
    },
    {
      message: error.message,
      details: rest,
      wireCode: error.code,
      retryAfterMs: Number.isFinite(retryAfterMs) ? retryAfterMs : undefined,
      alternativeAgents: Array.isArray(agents) ? agents.map(String) : undefined,
      fallbackAction: typeof fallback === 'string' ? fallback : undefined,
    },
  );
}
