/**
 * One attempt over an undici dispatcher, as a dispatch handler that buffers the response. Using
 * the dispatcher API directly (instead of `pool.request`) skips the per-response Readable stream
 * and AsyncResource, and lets the client abort an attempt through undici's controller without an
 * AbortController per request.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { errors, type Dispatcher } from 'undici';

/** Rejection reason when the body outgrows the limit; the caller turns it into a typed error. */
export class BodyLimitExceeded extends Error {
  override name = 'BodyLimitExceeded';
}

const NO_HEADERS: IncomingHttpHeaders = Object.freeze({});
const EMPTY = Buffer.alloc(0);

export class Exchange implements Dispatcher.DispatchHandler {
  status = 0;
  headers: IncomingHttpHeaders = NO_HEADERS;
  /** Resolves with this exchange once the whole body is in, rejects with undici's error. */
  readonly done: Promise<Exchange>;
  #resolve!: (exchange: Exchange) => void;
  #reject!: (error: unknown) => void;
  #settled = false;
  #first: Buffer | null = null;
  #chunks: Buffer[] | null = null;
  #size = 0;
  readonly #limit: number;
  #controller: Dispatcher.DispatchController | null = null;
  #abortReason: Error | null = null;
  // Headers and body-idle timeouts timed here (see precise-timeouts.ts); 0 leaves them to undici.
  readonly #headersMs: number;
  readonly #bodyMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(limitBytes: number, headersMs: number, bodyMs: number) {
    this.#limit = limitBytes;
    this.#headersMs = headersMs;
    this.#bodyMs = bodyMs;
    this.done = new Promise<Exchange>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** The response body; valid once `done` resolved. */
  get body(): Buffer {
    if (this.#chunks !== null) return Buffer.concat(this.#chunks, this.#size);
    return this.#first ?? EMPTY;
  }

  /**
   * Stops the attempt with `reason`: `done` rejects with it at once, even when the request still
   * waits in the pool's queue (undici then drops it when its turn comes).
   */
  abort(reason: Error): void {
    if (this.#settled) return;
    this.#fail(reason);
    if (this.#controller !== null) this.#controller.abort(reason);
    else this.#abortReason = reason;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.#abortReason !== null) {
      controller.abort(this.#abortReason);
      return;
    }
    this.#controller = controller;
    if (this.#headersMs > 0) this.#timer = setTimeout(headersTimedOut, this.#headersMs, this);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
  ): void {
    if (statusCode < 200) return; // 1xx informational: the real response follows
    this.status = statusCode;
    this.headers = headers;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#bodyMs > 0) this.#timer = setTimeout(bodyTimedOut, this.#bodyMs, this);
    const length = Number(headers['content-length']);
    if (length > this.#limit) this.abort(new BodyLimitExceeded());
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#settled) return;
    this.#size += chunk.length;
    if (this.#size > this.#limit) {
      this.abort(new BodyLimitExceeded());
      return;
    }
    if (this.#bodyMs > 0) this.#timer?.refresh();
    if (this.#first === null) this.#first = chunk;
    else if (this.#chunks === null) this.#chunks = [this.#first, chunk];
    else this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.#settled) return;
    this.#settled = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#controller = null;
    this.#resolve(this);
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, error: Error): void {
    this.#fail(error);
  }

  #fail(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#first = null;
    this.#chunks = null;
    this.#reject(error);
  }
}

// The same errors undici raises for its own timers, so classification has one path.
function headersTimedOut(exchange: Exchange): void {
  exchange.abort(new errors.HeadersTimeoutError());
}

function bodyTimedOut(exchange: Exchange): void {
  exchange.abort(new errors.BodyTimeoutError());
}
