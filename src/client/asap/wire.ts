/**
 * The client's side of the wire (asap-wire §2, §6), without I/O: the JSON-RPC request body built
 * once per send (so every attempt sends the same bytes), request compression, and reading an
 * answer into a validated, correlated reply envelope or a typed `AsapError`.
 */
import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync, gzipSync } from 'node:zlib';
import {
  ASAP_METHOD,
  asapErrorFromWire,
  checkCorrelation,
  CLIENT_ASAP_VERSION_HEADER,
  describeEnvelopeFailure,
  INTERNAL_ERROR,
  malformedEnvelopeError,
  PARSE_ERROR,
  validateEnvelope,
  type AsapError,
  type Envelope,
} from '../../protocol/index.ts';

/** `gzip` (level 6) or `br` (quality 4), as the reference client compresses; `false` never. */
export type Compression = 'gzip' | 'br' | false;

/** The reference client sends the idempotency key in this header (and in `params`). */
export const IDEMPOTENCY_HEADER = 'X-Idempotency-Key';

/** The reference client compresses bodies of at least this many bytes. */
export const COMPRESSION_THRESHOLD_BYTES = 1024;

export interface PreparedRequest {
  readonly envelope: Envelope;
  readonly rpcId: string;
  readonly idempotencyKey: string;
  /** The bytes every attempt sends. */
  readonly body: Buffer;
  /** Headers every attempt sends (the idempotency key is added by the transport). */
  readonly headers: Record<string, string>;
}

/** The JSON-RPC request for `envelope`, compressed when it is large enough and it helps. */
export function prepareRequest(
  envelope: Envelope,
  init: { rpcId: string; idempotencyKey: string; compression: Compression; threshold: number },
): PreparedRequest {
  const json = JSON.stringify({
    jsonrpc: '2.0',
    method: ASAP_METHOD,
    params: { envelope, idempotency_key: init.idempotencyKey },
    id: init.rpcId,
  });
  const raw = Buffer.from(json, 'utf8');
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json',
    'asap-version': CLIENT_ASAP_VERSION_HEADER,
  };
  let body: Buffer = raw;
  if (init.compression !== false && raw.length >= init.threshold) {
    const packed = compress(raw, init.compression);
    // The reference keeps the compressed body only when it is smaller.
    if (packed.length < raw.length) {
      body = packed;
      headers['content-encoding'] = init.compression;
    }
  }
  return { envelope, rpcId: init.rpcId, idempotencyKey: init.idempotencyKey, body, headers };
}

function compress(bytes: Buffer, encoding: 'gzip' | 'br'): Buffer {
  if (encoding === 'gzip') return gzipSync(bytes, { level: 6 });
  return brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } });
}

/** A response body in a `Content-Encoding` the server chose (the reference never compresses). */
export function decodeBody(body: Buffer, encoding: string | undefined): Buffer {
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return gunzipSync(body);
    case 'br':
      return brotliDecompressSync(body);
    default:
      return body;
  }
}

export type Reply = { ok: true; envelope: Envelope } | { ok: false; error: AsapError };

/**
 * Reads a JSON-RPC answer to `request`: the error as a typed `AsapError` (taxonomy, recoverable,
 * retry hint, wire code), or the reply envelope validated and bound to the request. A body that
 * is not JSON is a remote -32700, one without `result.envelope` a remote -32603 (as the reference
 * client reports them); an invalid or uncorrelated envelope is -32001.
 */
export function readReply(text: string, requestEnvelopeId: string): Reply {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      error: asapErrorFromWire({ code: PARSE_ERROR, message: `Invalid JSON response: ${reason}` }),
    };
  }
  if (isObject(body) && isObject(body.error)) {
    const { code, message, data } = body.error;
    if (typeof code === 'number') {
      return {
        ok: false,
        error: asapErrorFromWire({ code, message: typeof message === 'string' ? message : '', data }),
      };
    }
  }
  const result = isObject(body) ? body.result : undefined;
  if (!isObject(result) || result.envelope === undefined) {
    const message = 'Invalid response: missing result.envelope';
    return { ok: false, error: asapErrorFromWire({ code: INTERNAL_ERROR, message }) };
  }
  return checkReplyEnvelope(result.envelope, requestEnvelopeId);
}

/**
 * Validates a reply envelope (a unary answer or a stream chunk) and checks that it answers the
 * request: a type that needs `correlation_id` must carry the request id, and any other reply that
 * names a `correlation_id` must name that one.
 */
export function checkReplyEnvelope(raw: unknown, requestEnvelopeId: string): Reply {
  const checked = validateEnvelope(raw);
  if (!checked.ok) {
    const problems = describeEnvelopeFailure(checked);
    return {
      ok: false,
      error: malformedEnvelopeError(`invalid reply envelope: ${problems.join('; ')}`, { problems }),
    };
  }
  const reply = checked.envelope;
  // The reference checks the types that need a correlation_id; a reply naming another request is
  // as wrong, whatever its type.
  const mismatch =
    checkCorrelation(requestEnvelopeId, reply) ??
    (reply.correlation_id === null || reply.correlation_id === requestEnvelopeId
      ? undefined
      : malformedEnvelopeError('correlation_id does not match the request envelope id', {
          request_id: requestEnvelopeId,
          correlation_id: reply.correlation_id,
        }));
  return mismatch === undefined ? { ok: true, envelope: reply } : { ok: false, error: mismatch };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
