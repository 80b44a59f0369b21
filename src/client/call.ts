/**
 * One `request()` call: its resolved settings, the headers every attempt shares, the ids that
 * stay the same across attempts, and the two ways it can be stopped from outside (the caller's
 * signal, the total timeout). Stopping aborts whatever is in progress: an attempt in undici or a
 * wait (backoff, rate limit).
 */
import { randomUUID } from 'node:crypto';
import { SpanKind, SpanStatusCode, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { failSpan, parentContext, traceparentOf } from '../observability/tracing.ts';
import { currentContext } from '../util/context.ts';
import { redactHeaders, redactUrl, requestSecrets } from '../util/redact.ts';
import { AbortError, TimeoutError, type ClientFailure, type RequestInfo } from './errors.ts';
import { Exchange } from './exchange.ts';
import { callHook, type HttpClientHooks } from './hooks.ts';
import type { CallOverrides, CallSettings } from './options.ts';
import type { Origin } from './origin.ts';
import { timedHere } from './precise-timeouts.ts';
import { childTraceparent, newCorrelationId, newTraceId, parseTraceparent } from './trace.ts';
import type { Target } from './target.ts';

export type HeaderMap = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface RequestOptions extends CallOverrides {
  /** Default `GET`. */
  method?: string;
  /** Absolute, or relative to the client's `baseUrl`. */
  url: string;
  headers?: HeaderMap;
  /** Sent as is. Streams are not accepted: a retry must be able to send the body again. */
  body?: string | Uint8Array | null;
  /** Serialised as the body, with `Content-Type: application/json` unless one is given. */
  json?: unknown;
  signal?: AbortSignal;
  /**
   * Sent in the idempotency header on every attempt; `true` makes one per call. Makes POST and
   * PATCH retryable. A key given in `headers` counts too.
   */
  idempotencyKey?: string | true;
  /** Default: the current context's, else a new UUID. The same on every attempt. */
  correlationId?: string;
}

// RFC 9110 §9.2.2: repeating these has the effect of doing them once.
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** What a call needs from its client. */
export interface CallEnvironment {
  readonly hooks: HttpClientHooks;
  readonly defaultHeaders: HeaderMap | undefined;
  readonly now: () => number;
  /** Set when tracing is on: each attempt gets a `CLIENT` span. */
  readonly tracer: Tracer | undefined;
}

export class Call {
  readonly settings: CallSettings;
  readonly origin: Origin;
  readonly method: string;
  readonly path: string;
  readonly body: string | Uint8Array | null;
  readonly correlationId: string;
  /** POST/PATCH without an idempotency key may not be sent twice. */
  readonly mayRepeat: boolean;
  readonly startedAt: number;
  /** When the total timeout ends (`Infinity` without one). */
  readonly deadline: number;
  attempt = 0;
  /** Set once the call is stopped (aborted or out of time); every later step throws it. */
  stopReason: ClientFailure | null = null;
  /** The failure of the previous attempt. */
  lastFailure: ClientFailure | undefined;
  readonly #env: CallEnvironment;
  readonly #url: string;
  readonly #headers: string[];
  readonly #traceId: string;
  readonly #traceFlags: string;
  readonly #signal: AbortSignal | undefined;
  #timer: NodeJS.Timeout | undefined;
  #exchange: Exchange | null = null;
  #wake: ((reason: ClientFailure) => void) | null = null;
  #info: RequestInfo | undefined;
  /** The parent of the attempts' spans (only when tracing is on). */
  readonly #spanParent: Context | undefined;
  /** The span of the attempt in progress. */
  #span: Span | undefined;

  constructor(
    env: CallEnvironment,
    settings: CallSettings,
    origin: Origin,
    target: Target,
    url: string,
    options: RequestOptions,
  ) {
    this.#env = env;
    this.settings = settings;
    this.origin = origin;
    this.#url = url;
    this.method = options.method === undefined ? 'GET' : options.method.toUpperCase();
    this.path = target.path;
    this.startedAt = env.now();
    this.deadline = settings.timeouts.totalMs > 0 ? this.startedAt + settings.timeouts.totalMs : Infinity;
    this.#signal = options.signal;

    const context = currentContext();
    const composed = composeHeaders(env.defaultHeaders, options, settings, target);
    this.body = composed.body;
    this.correlationId =
      composed.correlationId ?? options.correlationId ?? context?.correlationId ?? newCorrelationId();
    this.mayRepeat = composed.hasIdempotencyKey || IDEMPOTENT_METHODS.has(this.method);
    const given = composed.traceparent ?? context?.traceparent;
    this.#spanParent = env.tracer === undefined ? undefined : parentContext(given);
    const parent = parseTraceparent(given);
    this.#traceId = parent?.traceId ?? newTraceId();
    this.#traceFlags = parent?.flags ?? '01';
    const headers = composed.list;
    if (composed.correlationId === undefined) headers.push(settings.correlationHeader, this.correlationId);
    headers.push('traceparent', ''); // filled per attempt: a new span id each time
    this.#headers = headers;
  }

  /** Arms the total timeout and listens to the caller's signal; throws when already aborted. */
  start(): void {
    const signal = this.#signal;
    if (signal !== undefined) {
      if (signal.aborted) throw new AbortError(this.info, signal.reason);
      signal.addEventListener('abort', this, { once: true });
    }
    const totalMs = this.settings.timeouts.totalMs;
    if (totalMs > 0) this.#timer = setTimeout(stopOnTotalTimeout, totalMs, this);
  }

  /** Method and redacted URL, for errors and hooks. */
  get info(): RequestInfo {
    return (this.#info ??= { method: this.method, url: redactUrl(this.#url) });
  }

  /** Credentials of this request, so that an echo of them in a response can be hidden. */
  secrets(): string[] {
    return requestSecrets(this.#url, this.#headers);
  }

  /** Sends attempt `this.attempt`; the exchange settles when the response is fully read. */
  send(): Exchange {
    const headers = this.attempt === 1 ? this.#headers : this.#headers.slice();
    const tracer = this.#env.tracer;
    headers[headers.length - 1] =
      tracer === undefined ? childTraceparent(this.#traceId, this.#traceFlags) : this.#startSpan(tracer);
    const { timeouts } = this.settings;
    const headersHere = timedHere(timeouts.headersMs);
    const bodyHere = timedHere(timeouts.bodyMs);
    const exchange = new Exchange(
      // A HEAD response's content-length describes a body that never comes.
      this.method === 'HEAD' ? Infinity : this.settings.maxResponseBytes,
      headersHere ? timeouts.headersMs : 0,
      bodyHere ? timeouts.bodyMs : 0,
    );
    this.#exchange = exchange;
    if (this.stopReason !== null) {
      exchange.abort(this.stopReason);
      return exchange;
    }
    if (this.#env.hooks.onRequest !== undefined) {
      const { method, url } = this.info;
      const event = { method, url, attempt: this.attempt, correlationId: this.correlationId };
      callHook(this.#env.hooks.onRequest, { ...event, headers: redactHeaders(headers) });
    }
    this.origin.pool(timeouts.connectMs).dispatch(
      {
        path: this.path,
        method: this.method,
        headers,
        body: this.body,
        headersTimeout: headersHere ? 0 : timeouts.headersMs,
        bodyTimeout: bodyHere ? 0 : timeouts.bodyMs,
      },
      exchange,
    );
    return exchange;
  }

  /** Starts the attempt's span; returns the `traceparent` that names it. */
  #startSpan(tracer: Tracer): string {
    const { method, url } = this.info;
    const { hostname, port, protocol } = new URL(this.origin.name);
    this.#span?.end();
    const span = tracer.startSpan(
      method,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': method,
          'url.full': url,
          'server.address': hostname.replace(/^\[|\]$/g, ''),
          'server.port': port === '' ? (protocol === 'https:' ? 443 : 80) : Number(port),
          ...(this.attempt > 1 ? { 'http.request.resend_count': this.attempt - 1 } : {}),
        },
      },
      this.#spanParent,
    );
    this.#span = span;
    return traceparentOf(span);
  }

  /** Ends the attempt's span (when tracing) with a response status or a failure. */
  endAttempt(outcome: number | Error): void {
    const span = this.#span;
    if (span === undefined) return;
    this.#span = undefined;
    if (typeof outcome !== 'number') {
      const status = (outcome as { status?: unknown }).status;
      if (typeof status === 'number') span.setAttribute('http.response.status_code', status);
      failSpan(span, outcome);
      return;
    }
    span.setAttribute('http.response.status_code', outcome);
    if (outcome >= 400) {
      span.setAttribute('error.type', String(outcome));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  }

  /** Resolves after `ms`, or rejects as soon as the call is stopped. */
  wait(ms: number): Promise<void> {
    if (this.stopReason !== null) return Promise.reject(this.stopReason);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = (reason) => {
        clearTimeout(timer);
        this.#wake = null;
        reject(reason);
      };
    });
  }

  /** Stops the call: the attempt or wait in progress fails with `reason`, and so does any later one. */
  stop(reason: ClientFailure): void {
    if (this.stopReason !== null) return;
    this.stopReason = reason;
    this.#exchange?.abort(reason);
    this.#wake?.(reason);
  }

  /** The caller's signal fired (this object is the abort listener: no closure per call). */
  handleEvent(): void {
    this.stop(new AbortError(this.info, this.#signal?.reason));
  }

  dispose(): void {
    this.#span?.end();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#signal?.removeEventListener('abort', this);
    this.#exchange = null;
  }
}

function stopOnTotalTimeout(call: Call): void {
  call.stop(new TimeoutError('total', call.settings.timeouts.totalMs, call.info));
}

interface ComposedHeaders {
  /** Flat `[name, value, …]`, as undici takes them. */
  list: string[];
  body: string | Uint8Array | null;
  /** Set when the caller's headers already carry these. */
  correlationId: string | undefined;
  traceparent: string | undefined;
  hasIdempotencyKey: boolean;
}

/**
 * The headers every attempt shares: the client's defaults, the call's own (which win, names
 * compared without case), a JSON content type, the idempotency key, Basic auth from the URL.
 */
function composeHeaders(
  defaults: HeaderMap | undefined,
  options: RequestOptions,
  settings: CallSettings,
  target: Target,
): ComposedHeaders {
  const list: string[] = [];
  const own = options.headers;
  const seen = own === undefined ? undefined : new Set<string>();
  const idempotencyName = settings.idempotencyHeader.toLowerCase();
  const correlationName = settings.correlationHeader.toLowerCase();
  const result: ComposedHeaders = {
    list,
    body: options.body ?? null,
    correlationId: undefined,
    traceparent: undefined,
    hasIdempotencyKey: false,
  };
  const add = (name: string, value: string | readonly string[] | undefined): void => {
    if (value === undefined) return;
    const lower = name.toLowerCase();
    if (seen !== undefined) seen.add(lower);
    const first = typeof value === 'string' ? value : (value[0] ?? '');
    if (lower === correlationName) result.correlationId = first;
    else if (lower === 'traceparent') {
      result.traceparent = first;
      return; // replaced per attempt by a child span of it
    } else if (lower === idempotencyName) result.hasIdempotencyKey = true;
    if (typeof value === 'string') list.push(name, value);
    else for (const item of value) list.push(name, item);
  };
  if (own !== undefined) for (const name in own) add(name, own[name]);
  if (defaults !== undefined) {
    for (const name in defaults)
      if (seen === undefined || !seen.has(name.toLowerCase())) add(name, defaults[name]);
  }
  if (options.json !== undefined) {
    result.body = JSON.stringify(options.json);
    if (!hasHeader(list, 'content-type')) list.push('content-type', 'application/json');
  }
  const key = options.idempotencyKey;
  if (key !== undefined && !result.hasIdempotencyKey) {
    list.push(settings.idempotencyHeader, key === true ? randomUUID() : key);
    result.hasIdempotencyKey = true;
  }
  if (target.userInfo !== undefined && !hasHeader(list, 'authorization')) {
    list.push('authorization', `Basic ${Buffer.from(target.userInfo).toString('base64')}`);
  }
  return result;
}

function hasHeader(list: readonly string[], lowerName: string): boolean {
  for (let i = 0; i < list.length; i += 2) if ((list[i] as string).toLowerCase() === lowerName) return true;
  return false;
}
