/**
 * Server spans (SPEC §7): one `SERVER` span per HTTP request, named `<METHOD> <route>`
 * (`POST /asap`), parented on the request's `traceparent`; and one `asap.dispatch <payload_type>`
 * span per envelope handled. Installed only when the server has a tracer: without one, no hook
 * runs and the ASAP path is unchanged.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Link,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { failSpan, parentContext, spanContextOf, traceparentOf } from '../observability/tracing.ts';
import type { Envelope, JsonRpcResponse } from '../protocol/index.ts';
import { currentContext, runWithContext } from '../util/context.ts';

interface RequestSpan {
  readonly span: Span;
  readonly traceparent: string;
}

/**
 * Adds the hooks of the server spans to `app` (the root, before any plugin is registered). The
 * request's work runs with the span's `traceparent` in the ambient context: set in `onRequest`,
 * and set again in `preHandler` because reading the body loses it.
 */
export function addServerSpans(app: FastifyInstance, tracer: Tracer): void {
  const spans = new WeakMap<FastifyRequest, RequestSpan>();

  app.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url;
    const remote = spanContextOf(headerText(request.headers.traceparent));
    const span = tracer.startSpan(
      route === undefined ? request.method : `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'url.path': request.url.split('?', 1)[0],
          'url.scheme': request.protocol,
          ...(route === undefined ? {} : { 'http.route': route }),
          'client.address': request.ip,
          ...(request.headers['user-agent'] === undefined
            ? {}
            : { 'user_agent.original': request.headers['user-agent'] }),
        },
      },
      remote === undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, remote),
    );
    const traceparent = traceparentOf(span);
    spans.set(request, { span, traceparent });
    runWithContext({ traceparent }, done);
  });

  app.addHook('preHandler', (request, _reply, done) => {
    const entry = spans.get(request);
    if (entry === undefined) return done();
    runWithContext({ traceparent: entry.traceparent }, done);
  });

  app.addHook('onError', (request, _reply, error, done) => {
    const entry = spans.get(request);
    if (entry !== undefined) failSpan(entry.span, error, { end: false });
    done();
  });

  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done) => {
    const entry = spans.get(request);
    if (entry !== undefined) {
      spans.delete(request);
      const status = reply.statusCode;
      entry.span.setAttribute('http.response.status_code', status);
      if (status >= 500) {
        entry.span.setStatus({ code: SpanStatusCode.ERROR });
        entry.span.setAttribute('error.type', String(status));
      }
      entry.span.end();
    }
    done();
  });

  app.addHook('onRequestAbort', (request, done) => {
    const entry = spans.get(request);
    if (entry !== undefined) {
      spans.delete(request);
      entry.span.setStatus({ code: SpanStatusCode.ERROR, message: 'the client went away' });
      entry.span.setAttribute('error.type', 'aborted');
      entry.span.end();
    }
    done();
  });
}

/**
 * The `asap.dispatch` span of `envelope`. Its parent is the ambient span (the HTTP server span),
 * unless the envelope names another trace (`trace_id` of 32 hex and `extensions.span_id` of 16
 * hex, asap-wire §1): the envelope's trace is then continued, as the reference server does, and
 * the HTTP span is kept as a link. When both name the same trace, the HTTP span is the nearer
 * ancestor and stays the parent.
 */
export function startDispatchSpan(tracer: Tracer, envelope: Envelope): Span {
  const fromEnvelope = envelopeTraceparent(envelope);
  const ambient = currentContext()?.traceparent;
  const ambientContext = spanContextOf(ambient);
  const useEnvelope =
    fromEnvelope !== undefined &&
    (ambientContext === undefined || ambientContext.traceId !== spanContextOf(fromEnvelope)?.traceId);
  const links: Link[] = useEnvelope && ambientContext !== undefined ? [{ context: ambientContext }] : [];
  return tracer.startSpan(
    `asap.dispatch ${envelope.payload_type}`,
    {
      kind: SpanKind.INTERNAL,
      attributes: {
        'rpc.system': 'jsonrpc',
        'asap.envelope.id': envelope.id,
        'asap.payload_type': envelope.payload_type,
        'asap.sender': envelope.sender,
        'asap.recipient': envelope.recipient,
        ...(envelope.correlation_id === null ? {} : { 'asap.correlation_id': envelope.correlation_id }),
      },
      links,
    },
    parentContext(useEnvelope ? fromEnvelope : ambient),
  );
}

/**
 * Ends a dispatch span with the answer: an error status for a JSON-RPC error, and for a reply
 * envelope the span's ids in `extensions.trace_id`/`extensions.span_id` (and `trace_id` when it
 * was empty), as asap-wire §5.1 describes for a recording span.
 */
export function endDispatchSpan(span: Span, response: JsonRpcResponse): JsonRpcResponse {
  if ('error' in response) {
    span.setAttribute('rpc.jsonrpc.error_code', response.error.code);
    span.setAttribute('error.type', String(response.error.code));
    span.setStatus({ code: SpanStatusCode.ERROR, message: response.error.message });
  } else if (span.isRecording()) {
    const { traceId, spanId } = span.spanContext();
    const reply = response.result.envelope;
    reply.extensions = { ...reply.extensions, trace_id: traceId, span_id: spanId };
    reply.trace_id ??= traceId;
  }
  span.end();
  return response;
}

/** `00-<trace_id>-<extensions.span_id>-01` when the envelope names a valid trace. */
function envelopeTraceparent(envelope: Envelope): string | undefined {
  const traceId = envelope.trace_id;
  const spanId = envelope.extensions?.span_id;
  if (typeof traceId !== 'string' || typeof spanId !== 'string') return undefined;
  const traceparent = `00-${traceId.toLowerCase()}-${spanId.toLowerCase()}-01`;
  return spanContextOf(traceparent) === undefined ? undefined : traceparent;
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
