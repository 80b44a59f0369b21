/**
 * Payload handlers by `payload_type` (asap-wire §5.1): unary handlers answer `/asap` with one
 * envelope, streaming handlers answer `/asap/stream` with a sequence of envelopes. Registering a
 * type again replaces its handler, as the reference does.
 */
import type { Logger } from 'pino';
import { normalizePayloadType, type Envelope, type Manifest } from '../protocol/index.ts';

/** What a handler gets besides the request envelope. */
export interface AsapHandlerContext {
  /** This agent's manifest, as served. */
  readonly manifest: Manifest;
  /** Aborted when the server closes (and, for a stream, when the client goes away). */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /**
   * The reply to the request envelope: sender = this agent, recipient = the request's sender,
   * `correlation_id` = the request's id, `asap_version` and `trace_id` copied.
   */
  reply<P extends object>(payloadType: string, payload: P): Envelope<P>;
}

/**
 * Answers one envelope. Throw an `AsapError` (baton/protocol) to answer with its code; a Baton
 * `validation_failed` or `not_found` error is answered -32602, `conflict` -32000, anything else
 * -32603.
 */
export type AsapHandler = (envelope: Envelope, context: AsapHandlerContext) => Envelope | Promise<Envelope>;

/**
 * Answers one envelope with a stream. Errors thrown before the iterable is returned are answered
 * as JSON-RPC errors; an error while iterating aborts the response (as the reference does).
 */
export type AsapStreamingHandler = (
  envelope: Envelope,
  context: AsapHandlerContext,
) => AsyncIterable<Envelope> | Promise<AsyncIterable<Envelope>>;

class HandlerTable<H> {
  readonly #exact = new Map<string, H>();
  readonly #normalised = new Map<string, H>();

  set(payloadType: string, handler: H): void {
    if (typeof payloadType !== 'string' || payloadType === '') {
      throw new TypeError('payload_type must be a non-empty string');
    }
    if (typeof handler !== 'function')
      throw new TypeError(`the handler of ${payloadType} must be a function`);
    this.#exact.set(payloadType, handler);
    this.#normalised.set(normalizePayloadType(payloadType), handler);
  }

  /** The exact type first, then its normalised form (`TaskRequest` finds `task.request`). */
  get(payloadType: string): H | undefined {
    return this.#exact.get(payloadType) ?? this.#normalised.get(normalizePayloadType(payloadType));
  }

  types(): string[] {
    return [...this.#exact.keys()];
  }
}

export class PayloadHandlerRegistry {
  readonly #unary = new HandlerTable<AsapHandler>();
  readonly #streaming = new HandlerTable<AsapStreamingHandler>();

  /** Registers (or replaces) the `/asap` handler of `payloadType`. */
  register(payloadType: string, handler: AsapHandler): void {
    this.#unary.set(payloadType, handler);
  }

  /** Registers (or replaces) the `/asap/stream` handler of `payloadType`. */
  registerStreaming(payloadType: string, handler: AsapStreamingHandler): void {
    this.#streaming.set(payloadType, handler);
  }

  handler(payloadType: string): AsapHandler | undefined {
    return this.#unary.get(payloadType);
  }

  streamingHandler(payloadType: string): AsapStreamingHandler | undefined {
    return this.#streaming.get(payloadType);
  }

  /** The registered payload types: `{ unary, streaming }`. */
  types(): { unary: string[]; streaming: string[] } {
    return { unary: this.#unary.types(), streaming: this.#streaming.types() };
  }
}
