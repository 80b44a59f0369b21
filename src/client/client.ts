/** `createHttpClient`: the resilient HTTP client (SPEC §4). */
import type { Tracer } from '@opentelemetry/api';
import { resolveTracer } from '../observability/tracing.ts';
import { BatonError, coerceError } from '../util/errors.ts';
import { runCall } from './attempts.ts';
import { Call, type HeaderMap, type RequestOptions } from './call.ts';
import type { HttpClientHooks } from './hooks.ts';
import { ClientMetrics } from './metrics.ts';
import {
  DEFAULT_MAX_CONNECTIONS,
  resolveCircuit,
  resolveClientSettings,
  resolveRateLimit,
  resolveSettings,
  type CallSettings,
  type HttpClientOptions,
} from './options.ts';
import { Origins } from './origin.ts';
import type { HttpResponse } from './response.ts';
import { joinUrl, parseTarget } from './target.ts';

/** A call's options without method and URL, for `get`, `post`, …. */
export type MethodOptions = Omit<RequestOptions, 'method' | 'url'>;

interface Environment {
  readonly hooks: HttpClientHooks;
  readonly defaultHeaders: HeaderMap | undefined;
  readonly now: () => number;
  readonly random: () => number;
  readonly tracer: Tracer | undefined;
}

export class HttpClient {
  readonly #settings: CallSettings;
  readonly #origins: Origins;
  readonly #env: Environment;
  readonly #baseUrl: string | undefined;
  #closed = false;

  constructor(options: HttpClientOptions = {}) {
    this.#settings = resolveClientSettings(options);
    const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    if (!Number.isInteger(maxConnections) || maxConnections < 1) {
      throw new RangeError(`maxConnections should be an integer ≥ 1, got ${maxConnections}`);
    }
    const now = options.now ?? Date.now;
    const hooks = options.hooks ?? {};
    this.#env = {
      hooks,
      defaultHeaders: options.headers,
      now,
      random: options.random ?? Math.random,
      tracer: resolveTracer(options.tracerProvider),
    };
    this.#baseUrl = options.baseUrl;
    this.#origins = new Origins({
      maxConnections,
      connectMs: this.#settings.timeouts.connectMs,
      circuit: resolveCircuit(options.circuit),
      rateLimit: resolveRateLimit(options.rateLimit),
      metrics: options.metrics && ClientMetrics.of(options.metrics),
      hooks,
      now,
    });
  }

  /**
   * Sends a request with retries, timeouts, circuit breaker and rate limit, and buffers the
   * response. Rejects with the typed errors of `errors.ts` (4xx/5xx included, unless
   * `throwHttpErrors: false`); never with a secret in the error.
   */
  request(options: RequestOptions): Promise<HttpResponse> {
    if (this.#closed) return Promise.reject(new BatonError('shutting_down', 'the HTTP client is closed'));
    let call: Call;
    try {
      const url = joinUrl(this.#baseUrl, options.url);
      const target = parseTarget(url);
      const settings = resolveSettings(this.#settings, options);
      call = new Call(this.#env, settings, this.#origins.get(target.prefix), target, url, options);
    } catch (error) {
      return Promise.reject(coerceError(error));
    }
    return runCall(call, this.#env);
  }

  get(url: string, options?: MethodOptions): Promise<HttpResponse> {
    return this.request(withMethod(options, 'GET', url));
  }

  head(url: string, options?: MethodOptions): Promise<HttpResponse> {
    return this.request(withMethod(options, 'HEAD', url));
  }

  delete(url: string, options?: MethodOptions): Promise<HttpResponse> {
    return this.request(withMethod(options, 'DELETE', url));
  }

  post(url: string, options?: MethodOptions): Promise<HttpResponse> {
    return this.request(withMethod(options, 'POST', url));
  }

  put(url: string, options?: MethodOptions): Promise<HttpResponse> {
    return this.request(withMethod(options, 'PUT', url));
  }

  patch(url: string, options?: MethodOptions): Promise<HttpResponse> {
    return this.request(withMethod(options, 'PATCH', url));
  }

  /** Closes every origin's connection pool once its requests in flight are done. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#origins.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

// Convenience methods without options skip the spread: GET with a URL alone is the common call.
function withMethod(options: MethodOptions | undefined, method: string, url: string): RequestOptions {
  return options === undefined ? { method, url } : { ...options, method, url };
}

export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  return new HttpClient(options);
}
