/**
 * The OpenTelemetry SDK of a Baton process (`baton serve`, `baton worker`): a `TracerProvider`
 * with a batching processor and the configured exporter, owned by the process that made it, which
 * flushes and shuts it down on exit. Not registered globally: it is handed to the engine and the
 * server, so several Batons (tests, embedding apps) can each have their own.
 *
 * Loaded only when tracing is enabled, so a process without it never loads the SDK.
 *
 * @module
 */
import type { TracerProvider as ApiTracerProvider } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  TracerProvider,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import type { OtelExporter } from '../config/keys.ts';

export type { OtelExporter };

export interface TracingSetupOptions {
  exporter: OtelExporter;
  /** OTLP/HTTP traces URL (`otlp` only), e.g. `http://localhost:4318/v1/traces`. */
  endpoint: string;
  /** The `service.name` resource attribute. */
  serviceName: string;
  /** The `service.version` resource attribute. */
  serviceVersion?: string;
}

/** A process's tracing: the provider to hand to the engine and the server, and its shutdown. */
export interface TracingSetup {
  readonly provider: ApiTracerProvider;
  /** Exports the spans still queued, then stops the exporter. Idempotent; never throws. */
  shutdown(): Promise<void>;
}

/** The SDK for `options`, or `undefined` when the exporter is `none`. */
export function createTracing(options: TracingSetupOptions): TracingSetup | undefined {
  if (options.exporter === 'none') return undefined;
  const exporter: SpanExporter =
    options.exporter === 'otlp'
      ? new OTLPTraceExporter({ url: options.endpoint })
      : new ConsoleSpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': options.serviceName,
      ...(options.serviceVersion === undefined ? {} : { 'service.version': options.serviceVersion }),
    }),
    spanProcessors: [new BatchSpanProcessor({ exporter })],
  });
  let closing: Promise<void> | undefined;
  return {
    provider,
    shutdown: () =>
      (closing ??= provider.shutdown().catch(() => {
        // A collector that is down must not fail the process's shutdown.
      })),
  };
}
