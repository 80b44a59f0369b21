/**
 * What a handler's error becomes on the wire (asap-wire §2.3 steps 19–20): an `AsapError` keeps
 * its code and data; Baton's engine errors map to the closest JSON-RPC or ASAP code; anything else
 * is -32603 without details (with the message, type and stack in debug mode).
 */
import {
  ASAP_ERRORS,
  AsapError,
  asapErrorResponse,
  internalErrorResponse,
  INVALID_PARAMS,
  isAsapError,
  jsonRpcError,
  type JsonObject,
  type JsonRpcErrorResponse,
  type JsonRpcId,
} from '../protocol/index.ts';
import { isBatonError } from '../util/errors.ts';

export function handlerErrorResponse(id: JsonRpcId, error: unknown, debug = false): JsonRpcErrorResponse {
  if (isAsapError(error)) return asapErrorResponse(id, error);
  if (isBatonError(error)) {
    switch (error.code) {
      case 'validation_failed':
      case 'not_found': {
        const data: JsonObject = { error: error.message };
        if (error.details !== undefined) data.details = error.details.map((detail) => ({ ...detail }));
        return jsonRpcError(INVALID_PARAMS, data, id);
      }
      case 'conflict':
        return asapErrorResponse(id, new AsapError(ASAP_ERRORS.invalidState, { message: error.message }));
    }
  }
  if (!debug) return internalErrorResponse(id);
  const thrown = error instanceof Error ? error : new Error(String(error));
  return internalErrorResponse(id, {
    error: thrown.message,
    type: thrown.name,
    traceback: thrown.stack ?? '',
  });
}
