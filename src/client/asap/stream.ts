/**
 * One `POST /asap/stream` exchange (asap-wire §2.7). The HTTP client buffers whole responses, so
 * streams go through undici directly. A failure before the stream starts comes back as JSON with
 * HTTP 200 (the reference clients miss that and see an empty stream; this one raises the error).
 */
import type { Readable } from 'node:stream';
import { request, type Dispatcher } from 'undici';
import { ConnectError, HttpStatusError, TimeoutError, AbortError } from '../errors.ts';
import { parseRetryAfter } from '../classify.ts';
import { redactHeaders, redactText, redactUrl } from '../../util/redact.ts';
import { asapErrorFromWire, INTERNAL_ERROR, type Envelope } from '../../protocol/index.ts';
import { sseData } from './sse.ts';
import {
  checkReplyEnvelope,
  decodeBody,
  IDEMPOTENCY_HEADER,
  readReply,
  type PreparedRequest,
} from './wire.ts';

export interface StreamRequest {
  url: string;
  prepared: PreparedRequest;
  dispatcher: Dispatcher;
  headersTimeoutMs: number;
  /** Longest silence between events; 0 for none. */
  bodyTimeoutMs: number;
  signal?: AbortSignal;
  onVersion(version: string): void;
}

export async function* openStream(options: StreamRequest): AsyncGenerator<Envelope> {
  const { prepared } = options;
  const info = { method: 'POST', url: redactUrl(options.url) };
  let response: Dispatcher.ResponseData;
  try {
    response = await request(options.url, {
      method: 'POST',
      dispatcher: options.dispatcher,
      headers: {
        ...prepared.headers,
        accept: 'text/event-stream',
        [IDEMPOTENCY_HEADER]: prepared.idempotencyKey,
      },
      body: prepared.body,
      headersTimeout: options.headersTimeoutMs,
      bodyTimeout: options.bodyTimeoutMs,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  } catch (error) {
    throw transportError(error, info, options);
  }
  const { statusCode, headers, body } = response;
  try {
    const version = headerOf(headers, 'asap-version');
    if (version !== undefined) options.onVersion(version);
    if (statusCode >= 400) {
      const text = decodeBody(Buffer.from(await body.arrayBuffer()), headerOf(headers, 'content-encoding'));
      throw new HttpStatusError(
        {
          status: statusCode,
          retryable: statusCode === 429 || statusCode >= 500,
          headers: redactHeaders(headers),
          bodyExcerpt: redactText(text.toString('utf8'), []).slice(0, 512),
          retryAfterMs: parseRetryAfter(headers['retry-after'], Date.now()),
        },
        info,
      );
    }
    const type = headerOf(headers, 'content-type') ?? '';
    if (!type.toLowerCase().startsWith('text/event-stream')) {
      // A JSON-RPC error before the stream started (or an answer that is no stream at all).
      const text = decodeBody(Buffer.from(await body.arrayBuffer()), headerOf(headers, 'content-encoding'));
      const reply = readReply(text.toString('utf8'), prepared.envelope.id);
      if (!reply.ok) throw reply.error;
      throw asapErrorFromWire({
        code: INTERNAL_ERROR,
        message: `Expected text/event-stream from ${info.url}, got ${type || 'no content type'}`,
      });
    }
    for await (const data of sseData(body as Readable)) {
      let raw: unknown;
      try {
        raw = JSON.parse(data);
      } catch {
        throw asapErrorFromWire({ code: -32700, message: `Invalid JSON in a stream event from ${info.url}` });
      }
      const chunk = checkReplyEnvelope(raw, prepared.envelope.id);
      if (!chunk.ok) throw chunk.error;
      yield chunk.envelope;
      if ((chunk.envelope.payload as { final?: unknown }).final === true) return;
    }
  } catch (error) {
    if (options.signal?.aborted === true) throw new AbortError(info, options.signal.reason);
    throw error;
  } finally {
    if (!body.readableEnded) body.destroy();
  }
}

function headerOf(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function transportError(
  error: unknown,
  info: { method: string; url: string },
  options: StreamRequest,
): unknown {
  if (options.signal?.aborted === true) return new AbortError(info, options.signal.reason);
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (code === 'UND_ERR_HEADERS_TIMEOUT')
    return new TimeoutError('headers', options.headersTimeoutMs, info, error);
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return new TimeoutError('connect', 0, info, error);
  if (typeof code === 'string') return new ConnectError(code, info, error);
  return error;
}
