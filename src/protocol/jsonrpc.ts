/**
 * JSON-RPC 2.0 as the reference server speaks it (asap-wire §2.2–2.6): request structure checks,
 * and every answer it builds, with `data` shaped exactly as it shapes it. Errors are HTTP 200.
 */
import { ASAP_METHOD, ASAP_SUPPORTED_TRANSPORT_VERSIONS } from './constants.ts';
import type { Envelope, EnvelopeFailure } from './envelope.ts';
import {
  asapErrorData,
  handlerNotFoundError,
  INTERNAL_ERROR,
  INVALID_PARAMS,
  INVALID_REQUEST,
  jsonRpcErrorMessage,
  METHOD_NOT_FOUND,
  PARSE_ERROR,
  VERSION_INCOMPATIBLE,
  type AsapError,
} from './errors.ts';
import { choicesIssue, fixedIssue, type ValidationIssue } from './issues.ts';
import { dict, INVALID, isObject, str, type JsonObject } from './lax.ts';
import { pyTypeName } from './python.ts';

/** A request id: a string or an integer (booleans and integral floats become integers). */
export type JsonRpcId = string | number;

export interface JsonRpcRequest {
  jsonrpc: '2.0';
  method: string;
  /** Extra keys are allowed (the Python client adds `idempotency_key`, which is ignored). */
  params: JsonObject;
  id: JsonRpcId;
}

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  /** The reference always sends `data`, `null` when there is none. */
  data: JsonObject | null;
}

export interface JsonRpcErrorResponse {
  jsonrpc: '2.0';
  error: JsonRpcErrorObject;
  id: JsonRpcId | null;
}

export interface JsonRpcSuccessResponse<R = { envelope: Envelope }> {
  jsonrpc: '2.0';
  result: R;
  id: JsonRpcId;
}

export type JsonRpcResponse = JsonRpcSuccessResponse | JsonRpcErrorResponse;

export type RequestCheck =
  { ok: true; request: JsonRpcRequest } | { ok: false; response: JsonRpcErrorResponse };

const REQUEST_FIELDS: ReadonlySet<string> = new Set(['jsonrpc', 'method', 'params', 'id']);

/**
 * Checks a parsed request body as the reference does (its `JsonRpcRequest` model, lax, strict
 * keys), then the method. `numberIsFloat` says whether a top-level number was written as a float
 * (`1.0`), which only changes `received_type`.
 */
export function checkJsonRpcRequest(body: unknown, options: { numberIsFloat?: boolean } = {}): RequestCheck {
  if (!isObject(body)) {
    return {
      ok: false,
      response: jsonRpcError(
        INVALID_REQUEST,
        {
          error: 'JSON-RPC request must be an object',
          received_type: pyTypeName(body, options.numberIsFloat),
        },
        null,
      ),
    };
  }
  const issues: ValidationIssue[] = [];
  if (body.jsonrpc !== undefined && body.jsonrpc !== '2.0') {
    issues.push(choicesIssue('literal_error', ['jsonrpc'], ['2.0'], body.jsonrpc));
  }
  const method =
    body.method === undefined ? missing(body, 'method', issues) : str(body.method, [], 'method', issues);
  let paramsNotObject = false;
  let params: JsonObject | typeof INVALID;
  if (body.params === undefined) {
    params = missing(body, 'params', issues);
  } else {
    params = dict(body.params, [], 'params', issues);
    paramsNotObject = params === INVALID;
  }
  const id = body.id === undefined ? missing(body, 'id', issues) : parseId(body.id, issues);
  for (const key of Object.keys(body)) {
    if (!REQUEST_FIELDS.has(key) && body[key] !== undefined)
      issues.push(fixedIssue('extra_forbidden', [key], body[key]));
  }

  if (issues.length > 0 || method === INVALID || params === INVALID || id === INVALID) {
    const responseId = responseIdOf(body.id);
    // The reference builds this answer with the raw id; an id it cannot represent (1.5, a list, an
    // object) makes that fail, and the request ends as an internal error with `id: ""`.
    if (responseId === undefined) return { ok: false, response: internalErrorResponse('') };
    const data = paramsNotObject
      ? { error: "JSON-RPC 'params' must be an object", validation_errors: issues }
      : { error: 'Invalid JSON-RPC structure', validation_errors: issues };
    return {
      ok: false,
      response: jsonRpcError(paramsNotObject ? INVALID_PARAMS : INVALID_REQUEST, data, responseId),
    };
  }
  if (method !== ASAP_METHOD) {
    return { ok: false, response: jsonRpcError(METHOD_NOT_FOUND, { method }, id) };
  }
  return { ok: true, request: { jsonrpc: '2.0', method, params, id } };
}

function missing(body: JsonObject, name: string, issues: ValidationIssue[]): typeof INVALID {
  issues.push(fixedIssue('missing', [name], body));
  return INVALID;
}

/** `id: str | int` in pydantic's smart-union mode: both members' failures are reported. */
function parseId(value: unknown, issues: ValidationIssue[]): JsonRpcId | typeof INVALID {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' && Number.isInteger(value)) return value === 0 ? 0 : value;
  issues.push(fixedIssue('string_type', ['id', 'str'], value));
  const intType =
    typeof value === 'number' ? (Number.isFinite(value) ? 'int_from_float' : 'finite_number') : 'int_type';
  issues.push(fixedIssue(intType, ['id', 'int'], value));
  return INVALID;
}

/**
 * The id an error answer carries when the request was malformed: the raw id as the reference's
 * response model coerces it; `null` when absent; `undefined` when it cannot be represented.
 */
export function responseIdOf(raw: unknown): JsonRpcId | null | undefined {
  if (raw === undefined || raw === null) return null;
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'boolean') return raw ? 1 : 0;
  if (typeof raw === 'number' && Number.isInteger(raw)) return raw;
  return undefined;
}

// ── Answers ──────────────────────────────────────────────────────────────────

export function jsonRpcResult(id: JsonRpcId, envelope: Envelope): JsonRpcSuccessResponse {
  return { jsonrpc: '2.0', result: { envelope }, id };
}

/** An error answer; `message` defaults to the code's fixed message (`Unknown error` otherwise). */
export function jsonRpcError(
  code: number,
  data: JsonObject | null,
  id: JsonRpcId | null,
  message: string = jsonRpcErrorMessage(code),
): JsonRpcErrorResponse {
  return { jsonrpc: '2.0', error: { code, message, data }, id };
}

/** -32700. `reason` is `Invalid JSON: …` or `Invalid UTF-8 encoding: …` (see `parseRequestBody`). */
export function parseErrorResponse(reason: string): JsonRpcErrorResponse {
  return jsonRpcError(PARSE_ERROR, { error: reason }, null);
}

/** -32603; `debug` adds what the reference adds with `ASAP_DEBUG=true`. */
export function internalErrorResponse(
  id: JsonRpcId | null,
  debug?: { error: string; type: string; traceback: string },
): JsonRpcErrorResponse {
  return jsonRpcError(INTERNAL_ERROR, debug ?? { error: 'Internal server error' }, id);
}

/** The answer to an envelope that failed `validateEnvelope`. */
export function envelopeErrorResponse(id: JsonRpcId, failure: EnvelopeFailure): JsonRpcErrorResponse {
  switch (failure.kind) {
    case 'missing':
      return jsonRpcError(INVALID_PARAMS, { error: "Missing 'envelope' in params" }, id);
    case 'not_object':
      return jsonRpcError(INVALID_PARAMS, { error: "'envelope' must be a JSON object" }, id);
    case 'invalid':
      return jsonRpcError(
        INVALID_PARAMS,
        { error: 'Invalid envelope structure', validation_errors: failure.issues },
        id,
      );
    case 'internal':
      return internalErrorResponse('');
  }
}

/** The short `data.error` texts the server adds to ASAP errors at each pipeline step. */
export const ASAP_ERROR_TEXT = {
  invalidTimestamp: 'Invalid envelope timestamp',
  invalidNonce: 'Invalid envelope nonce',
  noStreamingHandler: 'No streaming handler registered for payload type',
} as const;

/**
 * An ASAP error as JSON-RPC: `code` is its `rpcCode`, `message` its message, `data` from
 * `asapErrorData`. `errorText` defaults to the message (`str(exc)` in the reference).
 */
export function asapErrorResponse(
  id: JsonRpcId | null,
  error: AsapError,
  errorText: string = error.message,
): JsonRpcErrorResponse {
  return jsonRpcError(error.rpcCode, asapErrorData(error, errorText), id, error.message);
}

/** -32012 for a `payload_type` without a handler (`streaming` on `/asap/stream`). */
export function handlerNotFoundResponse(
  id: JsonRpcId,
  payloadType: string,
  options: { streaming?: boolean } = {},
): JsonRpcErrorResponse {
  const error = handlerNotFoundError(payloadType);
  return asapErrorResponse(
    id,
    error,
    options.streaming === true ? ASAP_ERROR_TEXT.noStreamingHandler : undefined,
  );
}

/** -32000 for an `ASAP-Version` header with no supported version (`requested`: the stripped value). */
export function versionIncompatibleResponse(requested: string): JsonRpcErrorResponse {
  return jsonRpcError(
    VERSION_INCOMPATIBLE,
    { requested, supported: [...ASAP_SUPPORTED_TRANSPORT_VERSIONS] },
    null,
  );
}

/** Manifest bearer auth failed (HTTP 200): 401 → -32600, anything else → -32602. */
export function authErrorResponse(id: JsonRpcId, detail: string, statusCode: number): JsonRpcErrorResponse {
  return jsonRpcError(
    statusCode === 401 ? INVALID_REQUEST : INVALID_PARAMS,
    { error: detail, status_code: statusCode },
    id,
  );
}

export function senderMismatchResponse(id: JsonRpcId): JsonRpcErrorResponse {
  return authErrorResponse(id, 'Sender does not match authenticated identity', 403);
}

/** A batch that is empty or longer than the limit: one error object, `id: null`. */
export function batchErrorResponse(reason: string): JsonRpcErrorResponse {
  return jsonRpcError(INVALID_REQUEST, { reason }, null);
}

/** A batch item that is not an object. */
export function invalidBatchItemResponse(): JsonRpcErrorResponse {
  return jsonRpcError(INVALID_REQUEST, null, null);
}

/** The HTTP 429 body (not a JSON-RPC error code: `code` is 429). */
export function rateLimitBody(retryAfterSeconds: number, limit: string): JsonObject {
  return {
    jsonrpc: '2.0',
    id: null,
    error: { code: 429, message: 'Rate limit exceeded', data: { retry_after: retryAfterSeconds, limit } },
  };
}

/** The HTTP 503 body for an exhausted worker pool (not JSON-RPC). */
export function threadPoolExhaustedBody(error: AsapError): JsonObject {
  return {
    error: 'Service Temporarily Unavailable',
    code: error.taxonomy,
    rpc_code: error.rpcCode,
    message: error.message,
    details: error.details,
    recoverable: true,
    retry_after_ms: error.retryAfterMs ?? null,
    fallback_action: error.fallbackAction ?? null,
  };
}

/** One server-sent event: `data: <one-line JSON envelope>\n\n` (§2.7). */
export function sseEvent(envelope: Envelope): string {
  return `data: ${JSON.stringify(envelope)}\n\n`;
}
