import type { BatonConfig } from '../config/index.ts';
import type { TracingSetup } from '../observability/index.ts';

/**
 * The process's OpenTelemetry SDK when `BATON_OTEL_EXPORTER` is not `none`: its provider goes to
 * the engine (and through it to the server and the HTTP client); the caller shuts it down last,
 * which flushes the spans still queued. The SDK is loaded only then.
 */
export async function processTracing(config: BatonConfig): Promise<TracingSetup | undefined> {
  if (config.otelExporter === 'none') return undefined;
  const { createTracing } = await import('../observability/tracing-sdk.ts');
  return createTracing({
    exporter: config.otelExporter,
    endpoint: config.otelEndpoint,
    serviceName: config.otelServiceName,
  });
}
