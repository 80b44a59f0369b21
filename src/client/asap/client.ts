/**
 * `createAsapClient`: an ASAP agent's client (SPEC §4, asap-wire §6) on the resilient HTTP
 * client. `send` follows the reference `ASAPClient`: up to 3 attempts in all, 429 (by
 * `Retry-After`), 5xx and network failures retried with backoff, a JSON-RPC error retried when
 * `data.recoverable` is true and it has `retry_after_ms` (after that delay), the same bytes (JSON-RPC
 * id, envelope id, timestamp, nonce, idempotency key) on every attempt, and the reply checked
 * against the request (`correlation_id`).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import { AbortError } from '../errors.ts';
import { createHttpClient, HttpClient } from '../client.ts';
import { redactUrl } from '../../util/redact.ts';
import { type HttpClientOptions, type TimeoutOptions } from '../options.ts';
import { type HttpResponse } from '../response.ts';
import {
  createEnvelope,
  describeEnvelopeFailure,
  validateEnvelope,
  validateManifest,
  type Envelope,
  type EnvelopeInit,
  type JsonObject,
  type Manifest,
} from '../../protocol/index.ts';
import type { BackoffPolicy } from '../../util/backoff.ts';
import { BatonError, ValidationError } from '../../util/errors.ts';
import { ulid } from '../../util/ids.ts';
import {
  DEFAULT_MANIFEST_TTL_MS,
  freshnessMs,
  MAX_MANIFEST_TTL_MS,
  type CachedManifest,
} from './manifest-cache.ts';
import { openStream } from './stream.ts';
import {
  COMPRESSION_THRESHOLD_BYTES,
  decodeBody,
  IDEMPOTENCY_HEADER,
  prepareRequest,
  readReply,
  type Compression,
  type PreparedRequest,
} from './wire.ts';

/** The agent id Baton uses when none is given (the server's default too). */
export const DEFAULT_AGENT_ID = 'urn:asap:agent:baton';
export const MANIFEST_PATH = '/.well-known/asap/manifest.json';

// The reference retries 429 and every 5xx; other statuses are errors at once.
const RETRIED_STATUSES: readonly number[] = [429, ...Array.from({ length: 100 }, (_, i) => 500 + i)];

export interface AsapClientOptions {
  /** The agent's base URL: requests go to `<baseUrl>/asap`, discovery to the well-known path. */
  baseUrl: string;
  /** This agent's URN, the `sender` of the envelopes it sends. */
  agentId: string;
  /** A client (yours to close) or options for one this client owns and closes. */
  http?: HttpClient | HttpClientOptions;
  /** Attempts per `send` (default 3, the first included) and the backoff between them. */
  retry?: { maxAttempts?: number; backoff?: Partial<BackoffPolicy>; maxRetryAfterMs?: number };
  /** Per-request timeouts (the HTTP client's defaults otherwise). */
  timeouts?: Partial<TimeoutOptions>;
  /** Request compression at or above `compressionThreshold` bytes (default `gzip`, 1024). */
  compression?: Compression;
  compressionThreshold?: number;
  /** Adds a random `extensions.nonce` to envelopes that have none (default true), as servers with replay protection need. */
  nonce?: boolean;
  /** Manifest freshness without `max-age` (default 300 s) and its cap (default 1 day). */
  manifestTtlMs?: { default?: number; max?: number };
  /** Clock for the manifest cache, for tests. */
  now?: () => number;
}

/** What `send` and `stream` take: an envelope, or its parts (sender and recipient may be left out). */
export type OutgoingMessage = Omit<EnvelopeInit<object>, 'sender' | 'recipient'> & {
  sender?: string;
  /** Default: the agent's manifest `id` (discovered, cached). */
  recipient?: string;
};

export interface SendOptions {
  signal?: AbortSignal;
  /** Default a new ULID per send; the same on every attempt of that send. */
  idempotencyKey?: string;
  /** Attempts for this send (default the client's); 1 leaves retries to the caller. */
  maxAttempts?: number;
  timeouts?: Partial<TimeoutOptions>;
}

export interface DiscoverOptions {
  signal?: AbortSignal;
  /** Ask the server even when the cached manifest is fresh (conditionally, with its ETag). */
  revalidate?: boolean;
}

const DEFAULT_BACKOFF: BackoffPolicy = { base_ms: 1000, factor: 2, max_ms: 60_000, jitter: 0.1 };

export class AsapClient {
  readonly baseUrl: string;
  readonly agentId: string;
  readonly #http: HttpClient;
  readonly #ownsHttp: boolean;
  readonly #maxAttempts: number;
  readonly #retry: { backoff: Partial<BackoffPolicy>; maxRetryAfterMs?: number };
  readonly #timeouts: Partial<TimeoutOptions>;
  readonly #compression: Compression;
  readonly #threshold: number;
  readonly #nonce: boolean;
  readonly #ttl: { default: number; max: number };
  readonly #now: () => number;
  #rpcCounter = 0;
  #manifest: CachedManifest | undefined;
  #discovering: Promise<Manifest> | undefined;
  #streamAgent: Agent | undefined;
  #version: string | undefined;
  #closed = false;

  constructor(options: AsapClientOptions) {
    if (!URL.canParse(options.baseUrl) || !/^https?:/i.test(options.baseUrl)) {
      throw new ValidationError(`baseUrl must be an absolute http(s) URL, got '${options.baseUrl}'`);
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.agentId = options.agentId;
    if (options.http instanceof HttpClient) {
      this.#http = options.http;
      this.#ownsHttp = false;
    } else {
      this.#http = createHttpClient(options.http ?? {});
      this.#ownsHttp = true;
    }
    this.#maxAttempts = options.retry?.maxAttempts ?? 3;
    if (!Number.isInteger(this.#maxAttempts) || this.#maxAttempts < 1) {
      throw new RangeError(`retry.maxAttempts should be an integer ≥ 1, got ${this.#maxAttempts}`);
    }
    this.#retry = {
      backoff: { ...DEFAULT_BACKOFF, ...options.retry?.backoff },
      ...(options.retry?.maxRetryAfterMs === undefined
        ? {}
        : { maxRetryAfterMs: options.retry.maxRetryAfterMs }),
    };
    this.#timeouts = options.timeouts ?? {};
    this.#compression = options.compression ?? 'gzip';
    this.#threshold = options.compressionThreshold ?? COMPRESSION_THRESHOLD_BYTES;
    this.#nonce = options.nonce ?? true;
    this.#ttl = {
      default: options.manifestTtlMs?.default ?? DEFAULT_MANIFEST_TTL_MS,
      max: options.manifestTtlMs?.max ?? MAX_MANIFEST_TTL_MS,
    };
    this.#now = options.now ?? Date.now;
  }

  /** The `ASAP-Version` the server answered last, once it has answered. */
  get negotiatedVersion(): string | undefined {
    return this.#version;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * The agent's manifest. A cached one is used while fresh (`max-age`); a stale one is
   * revalidated with `If-None-Match`, and a 304 keeps it. Concurrent calls share one request.
   */
  discover(options: DiscoverOptions = {}): Promise<Manifest> {
    const cached = this.#manifest;
    if (cached !== undefined && options.revalidate !== true && this.#now() < cached.expiresAt) {
      return Promise.resolve(cached.manifest);
    }
    this.#discovering ??= this.#fetchManifest(options.signal).finally(() => (this.#discovering = undefined));
    return this.#discovering;
  }

  async #fetchManifest(signal: AbortSignal | undefined): Promise<Manifest> {
    const cached = this.#manifest;
    const url = `${this.baseUrl}${MANIFEST_PATH}`;
    const response = await this.#http.get(url, {
      headers: { accept: 'application/json', ...(cached?.etag ? { 'if-none-match': cached.etag } : {}) },
      ...(signal === undefined ? {} : { signal }),
      // The reference gives discovery at most 10 s.
      timeouts: { ...this.#timeouts, totalMs: Math.min(this.#timeouts.totalMs ?? 10_000, 10_000) },
    });
    this.#noteVersion(response);
    const ttl = freshnessMs(response.header('cache-control'), this.#ttl.default, this.#ttl.max);
    const etag = response.header('etag') ?? cached?.etag;
    if (response.status === 304 && cached !== undefined) {
      this.#manifest = ttl === null ? undefined : { ...cached, etag, expiresAt: this.#now() + ttl };
      return cached.manifest;
    }
    if (response.status !== 200) {
      throw new BatonError(
        'http_status',
        `GET ${redactUrl(url)}: unexpected HTTP ${response.status} for the manifest`,
      );
    }
    const checked = validateManifest(
      parseJson(decodeBody(response.body, response.header('content-encoding'))),
    );
    if (!checked.ok) {
      if ('error' in checked) throw checked.error;
      const problems = checked.issues.map((issue) => `${issue.loc.join('.') || '(manifest)'}: ${issue.msg}`);
      throw new ValidationError(`invalid manifest at ${redactUrl(url)}: ${problems.join('; ')}`);
    }
    this.#manifest =
      ttl === null ? undefined : { manifest: checked.manifest, etag, expiresAt: this.#now() + ttl };
    return checked.manifest;
  }

  /**
   * Sends one envelope to `<baseUrl>/asap` and returns the reply envelope. Rejects with an
   * `AsapError` for a JSON-RPC error (wire code, taxonomy, `recoverable`/`retryable`,
   * `retryAfterMs`) or a reply that does not answer the request (-32001), and with the HTTP
   * client's typed errors for transport failures (their `retryable` says whether to try again).
   */
  async send(message: OutgoingMessage, options: SendOptions = {}): Promise<Envelope> {
    const prepared = await this.#prepare(message, options);
    const maxAttempts = options.maxAttempts ?? this.#maxAttempts;
    const url = `${this.baseUrl}/asap`;
    const correlationId = ulid();
    let used = 0;
    for (;;) {
      const response = await this.#http.request({
        method: 'POST',
        url,
        headers: prepared.headers,
        body: prepared.body,
        idempotencyKey: prepared.idempotencyKey,
        idempotencyHeader: IDEMPOTENCY_HEADER,
        correlationId,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        retry: { ...this.#retry, maxAttempts: maxAttempts - used, retryOnStatus: RETRIED_STATUSES },
        timeouts: { ...this.#timeouts, ...options.timeouts },
      });
      used += response.attempts;
      this.#noteVersion(response);
      const text = decodeBody(response.body, response.header('content-encoding')).toString('utf8');
      const reply = readReply(text, prepared.envelope.id);
      if (reply.ok) return reply.envelope;
      const { error } = reply;
      if (!error.recoverable || error.retryAfterMs === undefined || used >= maxAttempts) throw error;
      await this.#pause(error.retryAfterMs, options.signal, url);
    }
  }

  /**
   * Sends one envelope to `<baseUrl>/asap/stream` and yields the envelopes of the SSE answer,
   * each validated and bound to the request; ends after a chunk with `payload.final === true` or
   * when the server ends the stream. Not retried (nor is the reference's).
   */
  async *stream(message: OutgoingMessage, options: SendOptions = {}): AsyncGenerator<Envelope> {
    const prepared = await this.#prepare(message, options);
    this.#streamAgent ??= new Agent({ connect: { timeout: this.#timeouts.connectMs ?? 10_000 } });
    const timeouts = { ...this.#timeouts, ...options.timeouts };
    yield* openStream({
      url: `${this.baseUrl}/asap/stream`,
      prepared,
      dispatcher: this.#streamAgent,
      headersTimeoutMs: timeouts.headersMs ?? 30_000,
      bodyTimeoutMs: timeouts.bodyMs ?? 0,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      onVersion: (version) => (this.#version = version),
    });
  }

  /** Closes what this client opened (its HTTP client when it made it, the stream pool). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#streamAgent?.close();
    if (this.#ownsHttp) await this.#http.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #prepare(message: OutgoingMessage, options: SendOptions): Promise<PreparedRequest> {
    if (this.#closed) throw new BatonError('shutting_down', 'the ASAP client is closed');
    const recipient =
      message.recipient ??
      (await this.discover(options.signal === undefined ? {} : { signal: options.signal })).id;
    let extensions = message.extensions ?? null;
    if (this.#nonce && !(extensions !== null && 'nonce' in extensions)) {
      extensions = { ...extensions, nonce: randomBytes(16).toString('base64url') } satisfies JsonObject;
    }
    const draft = createEnvelope({
      ...message,
      sender: message.sender ?? this.agentId,
      recipient,
      extensions,
    });
    const checked = validateEnvelope(draft);
    if (!checked.ok) {
      throw new ValidationError(`invalid envelope: ${describeEnvelopeFailure(checked).join('; ')}`);
    }
    return prepareRequest(checked.envelope, {
      rpcId: `req-${++this.#rpcCounter}`,
      idempotencyKey: options.idempotencyKey ?? ulid(),
      compression: this.#compression,
      threshold: this.#threshold,
    });
  }

  #noteVersion(response: HttpResponse): void {
    const version = response.header('asap-version');
    if (version !== undefined) this.#version = version;
  }

  async #pause(ms: number, signal: AbortSignal | undefined, url: string): Promise<void> {
    try {
      await sleep(ms, undefined, signal === undefined ? undefined : { signal });
    } catch (error) {
      throw new AbortError({ method: 'POST', url: redactUrl(url) }, signal?.reason ?? error);
    }
  }
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * An ASAP client for the agent at `baseUrl`.
 *
 * @example
 * const agent = createAsapClient({ baseUrl: 'http://127.0.0.1:9000', agentId: 'urn:asap:agent:me' });
 * const reply = await agent.send({
 *   payload_type: 'task.request',
 *   payload: { conversation_id: 'c1', skill_id: 'shop.order', input: { sku: 'A1' } },
 * });
 * await agent.close();
 */
export function createAsapClient(options: AsapClientOptions): AsapClient {
  return new AsapClient(options);
}
