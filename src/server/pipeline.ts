/**
 * The ASAP request pipeline after the body is read (asap-wire §2.3 steps 8–20): JSON-RPC decoding,
 * envelope validation, the timestamp window, the nonce, then dispatch to the payload handler. A
 * batch runs every item through the same steps, concurrently.
 */
import type { Logger } from 'pino';
import {
  ASAP_ERROR_TEXT,
  asapErrorResponse,
  checkTimestampWindow,
  createReplyEnvelope,
  duplicateNonceError,
  envelopeErrorResponse,
  handlerNotFoundResponse,
  jsonRpcResult,
  NONCE_TTL_SECONDS,
  readNonce,
  validateEnvelope,
  type Envelope,
  type JsonRpcErrorResponse,
  type JsonRpcRequest,
  type JsonRpcResponse,
  type Manifest,
  type ParsedBody,
} from '../protocol/index.ts';
import type { AsapServerMetrics } from './metrics.ts';
import type { NonceStore } from './replay.ts';
import type { AsapHandlerContext, PayloadHandlerRegistry } from './registry.ts';
import { handlerErrorResponse } from './rpc-errors.ts';

export interface PipelineOptions {
  registry: PayloadHandlerRegistry;
  /** This agent's URN: the sender of every reply. */
  agentId: string;
  manifest: () => Manifest;
  /** Set when nonces are required (`requireNonce`). */
  nonces: NonceStore | undefined;
  now: () => number;
  debug: boolean;
  logger: Logger;
  /** Aborted when the server closes. */
  signal: AbortSignal;
  metrics?: AsapServerMetrics;
}

/** A request whose envelope passed every check (steps 13–16). */
export type Prepared =
  { ok: true; request: JsonRpcRequest; envelope: Envelope } | { ok: false; response: JsonRpcErrorResponse };

export class AsapPipeline {
  readonly #options: PipelineOptions;

  constructor(options: PipelineOptions) {
    this.#options = options;
  }

  /** The answer to a decoded `/asap` body: one response, or an array for a batch. */
  async answer(body: ParsedBody): Promise<JsonRpcResponse | JsonRpcResponse[]> {
    switch (body.kind) {
      case 'error':
      case 'batch_error':
        this.#options.metrics?.request(body.response, OTHER_PAYLOAD_TYPE, 0);
        return body.response;
      case 'request':
        return this.#dispatch(body.request);
      case 'batch':
        return Promise.all(
          body.items.map(async (item) => {
            if (item.ok) return this.#dispatch(item.request);
            this.#options.metrics?.request(item.response, OTHER_PAYLOAD_TYPE, 0);
            return item.response;
          }),
        );
    }
  }

  /** Steps 13–16: envelope, timestamp window, nonce. */
  async prepare(request: JsonRpcRequest): Promise<Prepared> {
    const { now, nonces } = this.#options;
    const checked = validateEnvelope(request.params.envelope, { now: now() });
    if (!checked.ok) return { ok: false, response: envelopeErrorResponse(request.id, checked) };
    const envelope = checked.envelope;
    const stale = checkTimestampWindow(envelope, now());
    if (stale) {
      return { ok: false, response: asapErrorResponse(request.id, stale, ASAP_ERROR_TEXT.invalidTimestamp) };
    }
    if (nonces) {
      const nonce = readNonce(envelope);
      if (nonce.kind === 'invalid') {
        return {
          ok: false,
          response: asapErrorResponse(request.id, nonce.error, ASAP_ERROR_TEXT.invalidNonce),
        };
      }
      if (nonce.kind === 'present' && !(await nonces.checkAndMark(nonce.nonce, NONCE_TTL_SECONDS * 1000))) {
        const error = duplicateNonceError(nonce.nonce, envelope.id);
        return { ok: false, response: asapErrorResponse(request.id, error, ASAP_ERROR_TEXT.invalidNonce) };
      }
    }
    return { ok: true, request, envelope };
  }

  /** The context a handler of `envelope` runs with. */
  context(envelope: Envelope, signal: AbortSignal = this.#options.signal): AsapHandlerContext {
    return new HandlerContext(envelope, signal, this.#options);
  }

  /** The JSON-RPC answer to a handler's failure. */
  errorResponse(request: JsonRpcRequest, envelope: Envelope, error: unknown): JsonRpcErrorResponse {
    const response = handlerErrorResponse(request.id, error, this.#options.debug);
    const level = response.error.code === -32603 ? 'error' : 'debug';
    this.#options.logger[level](
      {
        err: error,
        envelope_id: envelope.id,
        payload_type: envelope.payload_type,
        code: response.error.code,
      },
      'asap.handler.error',
    );
    return response;
  }

  async #dispatch(request: JsonRpcRequest): Promise<JsonRpcResponse> {
    const started = performance.now();
    const prepared = await this.prepare(request);
    if (!prepared.ok) return this.#answered(prepared.response, OTHER_PAYLOAD_TYPE, started);
    const { envelope } = prepared;
    const handler = this.#options.registry.handler(envelope.payload_type);
    if (!handler) {
      return this.#answered(
        handlerNotFoundResponse(request.id, envelope.payload_type),
        OTHER_PAYLOAD_TYPE,
        started,
      );
    }
    let response: JsonRpcResponse;
    const handlerStarted = performance.now();
    try {
      response = jsonRpcResult(request.id, await handler(envelope, this.context(envelope)));
    } catch (error) {
      response = this.errorResponse(request, envelope, error);
    }
    this.#options.metrics?.handler(envelope.payload_type, 'result' in response, seconds(handlerStarted));
    return this.#answered(response, envelope.payload_type, started);
  }

  #answered(response: JsonRpcResponse, payloadType: string, started: number): JsonRpcResponse {
    this.#options.metrics?.request(response, payloadType, seconds(started));
    return response;
  }
}

/** One envelope's handler context; the manifest and the logger are only made when asked for. */
class HandlerContext implements AsapHandlerContext {
  readonly signal: AbortSignal;
  readonly #envelope: Envelope;
  readonly #options: PipelineOptions;
  #logger: Logger | undefined;

  constructor(envelope: Envelope, signal: AbortSignal, options: PipelineOptions) {
    this.signal = signal;
    this.#envelope = envelope;
    this.#options = options;
  }

  get manifest(): Manifest {
    return this.#options.manifest();
  }

  // A pino child costs more than most handlers that never log.
  get logger(): Logger {
    const { id, payload_type, trace_id } = this.#envelope;
    this.#logger ??= this.#options.logger.child({
      envelope_id: id,
      payload_type,
      trace_id: trace_id ?? undefined,
    });
    return this.#logger;
  }

  reply<P extends object>(payloadType: string, payload: P): Envelope<P> {
    return createReplyEnvelope(this.#envelope, {
      sender: this.#options.agentId,
      payload_type: payloadType,
      payload,
    });
  }
}

/** The `payload_type` label of requests without a handled envelope (asap-wire §5.7). */
const OTHER_PAYLOAD_TYPE = 'other';

function seconds(since: number): number {
  return (performance.now() - since) / 1000;
}
