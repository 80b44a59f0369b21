/**
 * The ASAP routes (asap-wire §2): `POST /asap` (single and batch), `POST /asap/stream` (SSE) and
 * `GET /.well-known/asap/manifest.json`. The HTTP-level steps of the pipeline run in the POST
 * routes' `onRequest` hook, in the reference's order (`ASAP-Version`, `Content-Length`,
 * `Content-Encoding`); the body is read by this plugin's catch-all content-type parser (the
 * reference ignores `Content-Type`), which decodes and limits it; the rest is `AsapPipeline`.
 */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import {
  ASAP_DEFAULT_TRANSPORT_VERSION,
  ASAP_VERSION_HEADER,
  negotiateAsapVersion,
  parseRequestBody,
  sseEvent,
  versionIncompatibleResponse,
  handlerNotFoundResponse,
  type Envelope,
  type JsonRpcErrorResponse,
} from '../protocol/index.ts';
import { bodyEncoding, readBody, type RawBody } from './body.ts';
import { HttpError, requestTooLarge } from './http-error.ts';
import { etagMatches, MANIFEST_CACHE_CONTROL, type ManifestSource } from './manifest.ts';
import type { AsapPipeline } from './pipeline.ts';
import type { PayloadHandlerRegistry } from './registry.ts';
import { correlationIdOf } from './request-context.ts';
import { runWithContext, type BatonContext } from '../util/context.ts';

export interface AsapPluginOptions {
  pipeline: AsapPipeline;
  registry: PayloadHandlerRegistry;
  manifest: ManifestSource;
  /** Body limit in bytes, before and after decompression. */
  maxRequestBytes: number;
  /** Aborted when the server closes: streams end. */
  signal: AbortSignal;
}

const EMPTY_BODY: RawBody = { bytes: Buffer.alloc(0), compressed: false };
const JSON_TYPE = 'application/json';

export const asapPlugin: FastifyPluginCallback<AsapPluginOptions> = (app, options, done) => {
  const { pipeline, registry, manifest, maxRequestBytes } = options;

  const parseBody = async (request: FastifyRequest, payload: IncomingMessage): Promise<RawBody> => {
    const encoding = bodyEncoding(request.headers['content-encoding']);
    if (encoding instanceof HttpError) throw encoding; // checked in onRequest already
    const bytes = await readBody(payload, encoding, maxRequestBytes);
    return { bytes, compressed: encoding !== 'identity' };
  };
  app.removeAllContentTypeParsers();
  // Any Content-Type is read the same way. `application/json` is named too: fastify caches the
  // parser of a named type, but looks the catch-all up afresh (parsing the header) every time.
  app.addContentTypeParser('application/json', parseBody);
  app.addContentTypeParser('*', parseBody);

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof HttpError) return reply.code(error.statusCode).send({ detail: error.detail });
    request.log.error({ err: error }, 'asap.request.failed');
    const status = (error as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return reply.code(status).send({ detail: (error as Error).message });
    }
    return reply.code(500).send({ detail: 'Internal Server Error' });
  });

  /** Steps 1, 3 and 5: `ASAP-Version`, `Content-Length`, `Content-Encoding`. */
  const checkHeaders = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const version = negotiateAsapVersion(request.headers['asap-version']);
    request.asapVersion = version.version;
    reply.header(ASAP_VERSION_HEADER, version.version);
    if (!version.ok) {
      return sendJson(reply, versionIncompatibleResponse(version.requested));
    }
    const length = Number(request.headers['content-length']);
    if (length > maxRequestBytes) throw requestTooLarge(length, maxRequestBytes);
    const encoding = bodyEncoding(request.headers['content-encoding']);
    if (encoding instanceof HttpError) throw encoding;
  };

  app.post('/asap', { onRequest: checkHeaders }, async (request, reply) => {
    const body = (request.body as RawBody | undefined) ?? EMPTY_BODY;
    const parsed = parseRequestBody(body.bytes, { allowBatch: !body.compressed });
    const answer = pipeline.answer(parsed, correlationIdOf(request.headers));
    return sendJson(reply, answer instanceof Promise ? await answer : answer);
  });

  app.post('/asap/stream', { onRequest: checkHeaders }, async (request, reply) => {
    const body = (request.body as RawBody | undefined) ?? EMPTY_BODY;
    const parsed = parseRequestBody(body.bytes, { allowBatch: false });
    // Without allowBatch the body is one request or one error.
    if (parsed.kind !== 'request')
      return sendJson(reply, (parsed as { response: JsonRpcErrorResponse }).response);
    const prepared = await pipeline.prepare(parsed.request);
    if (!prepared.ok) return sendJson(reply, prepared.response);
    const { envelope } = prepared;
    const handler = registry.streamingHandler(envelope.payload_type);
    if (!handler) {
      return sendJson(
        reply,
        handlerNotFoundResponse(parsed.request.id, envelope.payload_type, { streaming: true }),
      );
    }
    // Ends the stream when the server closes or the client goes away.
    const stop = new AbortController();
    const onClose = (): void => stop.abort();
    options.signal.addEventListener('abort', onClose, { once: true });
    reply.raw.once('close', onClose);
    const context = pipeline.dispatchContext(envelope, correlationIdOf(request.headers));
    let envelopes: AsyncIterable<Envelope>;
    try {
      envelopes = await runWithContext(context, () =>
        handler(envelope, pipeline.context(envelope, stop.signal)),
      );
    } catch (error) {
      options.signal.removeEventListener('abort', onClose);
      return sendJson(reply, pipeline.errorResponse(parsed.request, envelope, error));
    }
    const events = Readable.from(
      sseEvents(envelopes, context, () => options.signal.removeEventListener('abort', onClose)),
    );
    return reply
      .header('content-type', 'text/event-stream')
      .header('cache-control', 'no-cache')
      .header('connection', 'keep-alive')
      .send(events);
  });

  app.get('/.well-known/asap/manifest.json', async (request, reply) => {
    const served = manifest.current();
    reply
      .header(ASAP_VERSION_HEADER, ASAP_DEFAULT_TRANSPORT_VERSION)
      .header('etag', served.etag)
      .header('cache-control', MANIFEST_CACHE_CONTROL);
    if (etagMatches(request.headers['if-none-match'], served.etag)) return reply.code(304).send();
    return reply.type(JSON_TYPE).send(served.json);
  });
  done();
};

/** One `data:` line per envelope; `done` runs however the stream ends. */
async function* sseEvents(
  envelopes: AsyncIterable<Envelope>,
  context: BatonContext,
  done: () => void,
): AsyncGenerator<string> {
  try {
    for await (const envelope of inContext(envelopes, context)) yield sseEvent(envelope);
  } finally {
    done();
  }
}

/** `iterable` advanced in `context`: the stream pulls it from a context of its own. */
function inContext<T>(iterable: AsyncIterable<T>, context: BatonContext): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]: () => {
      const iterator = iterable[Symbol.asyncIterator]();
      return {
        next: () => runWithContext(context, () => iterator.next()),
        return: (value?: T) =>
          runWithContext(
            context,
            () => iterator.return?.(value) ?? Promise.resolve({ done: true as const, value: value as T }),
          ),
      };
    },
  };
}

function sendJson(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.code(200).type(JSON_TYPE).send(JSON.stringify(body));
}
