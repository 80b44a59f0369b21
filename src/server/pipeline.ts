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
import type { Tracer } from '@opentelemetry/api';
import { failSpan, runInSpan } from '../observability/tracing.ts';
import { endDispatchSpan, startDispatchSpan } from './tracing.ts';
import { runWithContext, type BatonContext } from '../util/context.ts';

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
  /** Set when tracing is on: each dispatch gets an `asap.dispatch` span. */
  tracer?: Tracer;
}

/** A request whose envelope passed every check (steps 13–16). */
export type Prepared =
  { ok: true; request: JsonRpcRequest; envelope: Envelope } | { ok: false; response: JsonRpcErrorResponse };

export class AsapPipeline {
  readonly #options: PipelineOptions;

  constructor(options: PipelineOptions) {
    this.#options = options;
  }

  /**
   * The answer to a decoded `/asap` body: one response, or an array for a batch. Synchronous
   * when every step was (no nonce store to ask, a handler that answered at once): a request
   * then costs no promise and no microtask turn. `correlationId` is the HTTP request's
   * (`X-Correlation-ID`), when it sent one.
   */
  answer(body: ParsedBody, correlationId?: string): MaybePromise<JsonRpcResponse | JsonRpcResponse[]> {
    switch (body.kind) {
      case 'error':
      case 'batch_error':
        this.#options.metrics?.request(body.response, OTHER_PAYLOAD_TYPE, 0);
        return body.response;
      case 'request':
        return this.#dispatch(body.request, correlationId);
      case 'batch':
        return Promise.all(
          body.items.map(async (item) => {
            if (item.ok) return this.#dispatch(item.request, correlationId);
            this.#options.metrics?.request(item.response, OTHER_PAYLOAD_TYPE, 0);
            return item.response;
          }),
        );
    }
  }

  /** Steps 13–16: envelope, timestamp window, nonce. */
  async prepare(request: JsonRpcRequest): Promise<Prepared> {
    const checked = this.#checkEnvelope(request);
    if (!checked.ok) return checked;
    const refused = await this.#checkNonce(request, checked.envelope);
    return refused ? { ok: false, response: refused } : checked;
  }

  /** Steps 13–15: the envelope and the timestamp window. */
  #checkEnvelope(request: JsonRpcRequest): Prepared {
    const { now } = this.#options;
    const checked = validateEnvelope(request.params.envelope, { now: now() });
    if (!checked.ok) return { ok: false, response: envelopeErrorResponse(request.id, checked) };
    const envelope = checked.envelope;
    const stale = checkTimestampWindow(envelope, now());
    if (stale) {
      return { ok: false, response: asapErrorResponse(request.id, stale, ASAP_ERROR_TEXT.invalidTimestamp) };
    }
    return { ok: true, request, envelope };
  }

  /** Step 16, when nonces are required: the refusal, or `undefined` when the envelope may pass. */
  #checkNonce(request: JsonRpcRequest, envelope: Envelope): MaybePromise<JsonRpcErrorResponse | undefined> {
    const { nonces } = this.#options;
    if (!nonces) return undefined;
    const nonce = readNonce(envelope);
    if (nonce.kind === 'absent') return undefined;
    if (nonce.kind === 'invalid') {
      return asapErrorResponse(request.id, nonce.error, ASAP_ERROR_TEXT.invalidNonce);
    }
    const refuse = (isNew: boolean): JsonRpcErrorResponse | undefined =>
      isNew
        ? undefined
        : asapErrorResponse(
            request.id,
            duplicateNonceError(nonce.nonce, envelope.id),
            ASAP_ERROR_TEXT.invalidNonce,
          );
    const marked = nonces.checkAndMark(nonce.nonce, NONCE_TTL_SECONDS * 1000);
    return typeof marked === 'boolean' ? refuse(marked) : Promise.resolve(marked).then(refuse);
  }

  /**
   * The ambient context (logs, outbound calls) of `envelope`'s dispatch: its id, and as the
   * correlation id the HTTP request's, else the envelope's `correlation_id`, else its id.
   */
  dispatchContext(envelope: Envelope, correlationId?: string): BatonContext {
    return {
      envelopeId: envelope.id,
      correlationId: correlationId ?? envelope.correlation_id ?? envelope.id,
    };
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

  #dispatch(request: JsonRpcRequest, correlationId: string | undefined): MaybePromise<JsonRpcResponse> {
    const started = performance.now();
    const checked = this.#checkEnvelope(request);
    if (!checked.ok) return this.#answered(checked.response, OTHER_PAYLOAD_TYPE, started);
    const { envelope } = checked;
    const refused = this.#checkNonce(request, envelope);
    if (isPromise(refused)) {
      return Promise.resolve(refused).then((response) =>
        response
          ? this.#answered(response, OTHER_PAYLOAD_TYPE, started)
          : this.#runInContext(request, envelope, started, correlationId),
      );
    }
    if (refused) return this.#answered(refused, OTHER_PAYLOAD_TYPE, started);
    return this.#runInContext(request, envelope, started, correlationId);
  }

  /** `#run` with the envelope's ids in the ambient context: every line logged meanwhile has them. */
  #runInContext(
    request: JsonRpcRequest,
    envelope: Envelope,
    started: number,
    correlationId: string | undefined,
  ): MaybePromise<JsonRpcResponse> {
    const { tracer } = this.#options;
    return runWithContext(this.dispatchContext(envelope, correlationId), () =>
      tracer === undefined
        ? this.#run(request, envelope, started)
        : this.#runTraced(tracer, request, envelope, started),
    );
  }

  /** `#run` inside an `asap.dispatch` span, which ends with the answer. */
  #runTraced(
    tracer: Tracer,
    request: JsonRpcRequest,
    envelope: Envelope,
    started: number,
  ): MaybePromise<JsonRpcResponse> {
    const span = startDispatchSpan(tracer, envelope);
    let answer: MaybePromise<JsonRpcResponse>;
    try {
      answer = runInSpan(span, () => this.#run(request, envelope, started));
    } catch (error) {
      failSpan(span, error);
      throw error;
    }
    if (!isPromise(answer)) return endDispatchSpan(span, answer);
    return answer.then(
      (response) => endDispatchSpan(span, response),
      (error: unknown) => {
        failSpan(span, error);
        throw error;
      },
    );
  }

  /** Steps 17–20: dispatch to the payload type's handler, and its answer or failure. */
  #run(request: JsonRpcRequest, envelope: Envelope, started: number): MaybePromise<JsonRpcResponse> {
    const { logger } = this.#options;
    // Per-request lines are debug: at info they would be most of a busy server's log volume.
    if (logger.isLevelEnabled('debug')) {
      logger.debug({ payload_type: envelope.payload_type, sender: envelope.sender }, 'asap.request.received');
    }
    const handler = this.#options.registry.handler(envelope.payload_type);
    if (!handler) {
      return this.#answered(
        handlerNotFoundResponse(request.id, envelope.payload_type),
        OTHER_PAYLOAD_TYPE,
        started,
      );
    }
    const handlerStarted = performance.now();
    const done = (response: JsonRpcResponse): JsonRpcResponse => {
      this.#options.metrics?.handler(envelope.payload_type, 'result' in response, seconds(handlerStarted));
      return this.#answered(response, envelope.payload_type, started);
    };
    const failed = (error: unknown): JsonRpcResponse => done(this.errorResponse(request, envelope, error));
    let reply: MaybePromise<Envelope>;
    try {
      reply = handler(envelope, this.context(envelope));
    } catch (error) {
      return failed(error);
    }
    if (isPromise(reply)) {
      // Through Promise.resolve: a handler may answer with any thenable; callers get a Promise.
      return Promise.resolve(reply).then((answer) => done(jsonRpcResult(request.id, answer)), failed);
    }
    return done(jsonRpcResult(request.id, reply));
  }

  #answered(response: JsonRpcResponse, payloadType: string, started: number): JsonRpcResponse {
    const elapsed = seconds(started);
    this.#options.metrics?.request(response, payloadType, elapsed);
    const { logger } = this.#options;
    if (logger.isLevelEnabled('debug')) {
      logger.debug(
        {
          payload_type: payloadType,
          status: 'result' in response ? 'ok' : response.error.code,
          duration_ms: Math.round(elapsed * 1e6) / 1000,
        },
        'asap.request.processed',
      );
    }
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

  // A pino child costs more than most handlers that never log. The envelope id, correlation id
  // and trace id come from the ambient context the handler runs in (see the logger's mixin).
  get logger(): Logger {
    this.#logger ??= this.#options.logger.child({ payload_type: this.#envelope.payload_type });
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

type MaybePromise<T> = T | Promise<T>;

function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** The `payload_type` label of requests without a handled envelope (asap-wire §5.7). */
const OTHER_PAYLOAD_TYPE = 'other';

function seconds(since: number): number {
  return (performance.now() - since) / 1000;
}
