/**
 * Request bodies of `POST /asap` and `POST /asap/stream`: a single JSON-RPC request or, at
 * `/asap`, a batch (a JSON array of up to 50 requests), decoded the way the reference decodes them.
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { MAX_BATCH_SIZE } from './constants.ts';
import {
  batchErrorResponse,
  checkJsonRpcRequest,
  invalidBatchItemResponse,
  parseErrorResponse,
  type JsonRpcErrorResponse,
  type JsonRpcRequest,
  type RequestCheck,
} from './jsonrpc.ts';
import { isObject } from './lax.ts';
import { pythonJsonError, utf8DecodeError } from './python-json.ts';

export type ParsedBody =
  /** A well-formed `asap.send` request; its envelope is still to be validated. */
  | { kind: 'request'; request: JsonRpcRequest }
  /** A single request that fails before the envelope: answer `response` (HTTP 200). */
  | { kind: 'error'; response: JsonRpcErrorResponse }
  /** A batch: one check per item, answered as an array in the same order. */
  | { kind: 'batch'; items: RequestCheck[] }
  /** An empty or oversized batch: one error object, and no item is processed. */
  | { kind: 'batch_error'; response: JsonRpcErrorResponse };

export interface ParseBodyOptions {
  /**
   * Whether a JSON array is a batch: `true` at `/asap` for an uncompressed body. The reference
   * spots a batch before decompressing, so a compressed array, or any array at `/asap/stream`, is
   * answered "JSON-RPC request must be an object".
   */
  allowBatch?: boolean;
  maxBatchSize?: number;
}

/** UTF-8 bytes already checked by `isUtf8` as text, BOM kept (Buffer's decoder beats TextDecoder). */
function utf8Text(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/**
 * Decodes a request body (after decompression). Bytes must be UTF-8 (a leading BOM is kept, and
 * then refused as Python refuses it, except when detecting a batch, where Python skips it).
 */
export function parseRequestBody(body: Uint8Array | string, options: ParseBodyOptions = {}): ParsedBody {
  if (options.allowBatch === true) {
    const batch = parseBatch(body, options.maxBatchSize ?? MAX_BATCH_SIZE);
    if (batch !== undefined) return batch;
  }
  let text: string;
  if (typeof body === 'string') {
    text = body;
  } else {
    if (!isUtf8(body)) {
      const reason = utf8DecodeError(body) ?? 'invalid UTF-8';
      return { kind: 'error', response: parseErrorResponse(`Invalid UTF-8 encoding: ${reason}`) };
    }
    text = utf8Text(body);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = pythonJsonError(text) ?? (error as Error).message;
    return { kind: 'error', response: parseErrorResponse(`Invalid JSON: ${reason}`) };
  }
  const check = checkJsonRpcRequest(value, {
    numberIsFloat: typeof value === 'number' && /[.eE]/.test(text),
  });
  return check.ok ? { kind: 'request', request: check.request } : { kind: 'error', response: check.response };
}

/** `json.loads(raw)` (which skips a UTF-8 BOM) yielding a list: checks each item on its own. */
function parseBatch(body: Uint8Array | string, maxBatchSize: number): ParsedBody | undefined {
  const start = batchStart(body);
  if (start === -1) return undefined;
  let items: unknown;
  try {
    if (typeof body === 'string') items = JSON.parse(body.slice(start));
    else if (isUtf8(body)) items = JSON.parse(utf8Text(body.subarray(start)));
    else return undefined;
  } catch {
    return undefined;
  }
  if (!Array.isArray(items)) return undefined;
  if (items.length === 0) return { kind: 'batch_error', response: batchErrorResponse('empty batch') };
  if (items.length > maxBatchSize) {
    return {
      kind: 'batch_error',
      response: batchErrorResponse(`batch size ${items.length} exceeds max ${maxBatchSize}`),
    };
  }
  return {
    kind: 'batch',
    items: items.map((item: unknown) =>
      isObject(item) ? checkJsonRpcRequest(item) : { ok: false, response: invalidBatchItemResponse() },
    ),
  };
}

/**
 * Where a body's `[` is, after an optional UTF-8 BOM and JSON whitespace; -1 when it does not
 * start with `[`. Reads bytes directly, so single requests are not decoded twice.
 */
function batchStart(body: Uint8Array | string): number {
  const at = typeof body === 'string' ? (i: number) => body.charCodeAt(i) : (i: number) => body[i] ?? -1;
  let i = 0;
  if (typeof body === 'string') {
    if (at(0) === 0xfeff) i = 1;
  } else if (at(0) === 0xef && at(1) === 0xbb && at(2) === 0xbf) {
    i = 3;
  }
  for (let c = at(i); c === 32 || c === 9 || c === 10 || c === 13; c = at(++i));
  return at(i) === 91 ? i : -1;
}
