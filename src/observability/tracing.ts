/**
 * OpenTelemetry spans for Baton, on the OTel API only: the SDK (exporters, processors) is set up
 * by the process that owns it (`tracing-sdk.ts`, `baton serve`/`worker`), or by the embedding
 * application, and handed in as a `TracerProvider` through the options of `createEngine`,
 * `createServer` and `createHttpClient`.
 *
 * Without a provider (and none registered globally) there is no tracer: every instrumented place
 * checks for `undefined` first and takes its old path, so tracing costs nothing when it is off
 * and the W3C `traceparent` propagation of the HTTP client stays what it was.
 *
 * The ambient span is Baton's own `BatonContext.traceparent` (src/util/context.ts): a span's work
 * runs inside `runWithContext({ traceparent })` carrying that span's id, so the HTTP client, the
 * `asap` step and the log mixin all see the current span without an OTel context manager. When the
 * application registered one, the span is made active there as well.
 *
 * @module
 */
import {
  context as otelContext,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Context,
  type ProxyTracerProvider,
  type Span,
  type SpanContext,
  type SpanOptions,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { parseTraceparent } from '../client/trace.ts';
import { currentContext, runWithContext } from '../util/context.ts';

/** The instrumentation scope of Baton's spans. */
export const TRACER_NAME = 'baton';

export type { Span, Tracer, TracerProvider };

/**
 * The tracer Baton uses: `provider`'s; without one, the global provider's when an SDK was
 * registered globally (`trace.setGlobalTracerProvider`); else `undefined`, meaning tracing is off.
 */
export function resolveTracer(provider: TracerProvider | undefined): Tracer | undefined {
  if (provider !== undefined) return provider.getTracer(TRACER_NAME);
  // The global provider is a proxy: it has a delegate only once an SDK registered itself.
  const global = trace.getTracerProvider() as Partial<ProxyTracerProvider>;
  return global.getDelegateTracer?.(TRACER_NAME) === undefined ? undefined : trace.getTracer(TRACER_NAME);
}

/** The global provider when one is registered (for handing on to a client), else `undefined`. */
export function resolveTracerProvider(provider: TracerProvider | undefined): TracerProvider | undefined {
  if (provider !== undefined) return provider;
  return resolveTracer(undefined) === undefined ? undefined : trace.getTracerProvider();
}

/** `00-<trace id>-<span id>-<flags>` of a span: what goes out in `traceparent`. */
export function traceparentOf(span: Span): string {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-${traceFlags & TraceFlags.SAMPLED ? '01' : '00'}`;
}

/** The remote span context a valid `traceparent` names, or `undefined`. */
export function spanContextOf(traceparent: string | undefined): SpanContext | undefined {
  const parsed = parseTraceparent(traceparent);
  if (parsed === undefined) return undefined;
  return {
    traceId: parsed.traceId,
    spanId: parsed.spanId,
    traceFlags: Number.parseInt(parsed.flags, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
}

/**
 * The OTel context a new span is parented on: `traceparent` when given and valid, else the ambient
 * `BatonContext.traceparent`, else the OTel active context (a root span when there is none).
 */
export function parentContext(traceparent?: string): Context {
  const parent = spanContextOf(traceparent ?? currentContext()?.traceparent);
  return parent === undefined ? otelContext.active() : trace.setSpanContext(ROOT_CONTEXT, parent);
}

/** Starts a span under `parentContext(parent)`. */
export function startSpan(tracer: Tracer, name: string, options: SpanOptions, parent?: string): Span {
  return tracer.startSpan(name, options, parentContext(parent));
}

/**
 * Runs `fn` with `span` as the current span: `BatonContext.traceparent` is the span's (on top of
 * the rest of the ambient context), and so is the OTel active span when a context manager is set.
 */
export function runInSpan<T>(span: Span, fn: () => T): T {
  return runWithContext({ traceparent: traceparentOf(span) }, () =>
    otelContext.with(trace.setSpan(otelContext.active(), span), fn),
  );
}

/** Marks `span` failed with `error` (recorded as an exception event) and, unless told not to, ends it. */
export function failSpan(span: Span, error: unknown, options: { end?: boolean } = {}): void {
  const err = error instanceof Error ? error : new Error(String(error));
  span.recordException(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
  span.setAttribute('error.type', errorType(err));
  if (options.end !== false) span.end();
}

/**
 * Runs `fn` in a new span that ends when it settles (error status when it throws or rejects).
 * Without a tracer, just runs `fn`.
 */
export async function withSpan<T>(
  tracer: Tracer | undefined,
  name: string,
  options: SpanOptions,
  fn: (span: Span | undefined) => T | Promise<T>,
): Promise<T> {
  if (tracer === undefined) return fn(undefined);
  const span = startSpan(tracer, name, options);
  try {
    const result = await runInSpan(span, () => fn(span));
    span.end();
    return result;
  } catch (error) {
    failSpan(span, error);
    throw error;
  }
}

/** A low-cardinality `error.type`: the error's `code` when it has a string one, else its name. */
export function errorType(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : error.name;
}
