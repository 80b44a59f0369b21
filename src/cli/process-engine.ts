import type { BatonConfig } from '../config/index.ts';
import { createEngine, type Engine } from '../engine/index.ts';
import type { TracingSetup } from '../observability/index.ts';
import { engineOptionsFrom } from './engine-options.ts';

/** The engine of a long-running process (`serve`, `worker`) and how to close it. */
export interface ProcessEngine {
  readonly engine: Engine;
  /** Closes the engine (running steps get `shutdownTimeoutMs`), then flushes the traces. */
  close(this: void): Promise<void>;
}

/**
 * Creates the engine of `serve` or `worker`, with the process's OpenTelemetry SDK when
 * `BATON_OTEL_EXPORTER` is not `none` (its provider reaches the server and the HTTP client
 * through the engine). The SDK is shut down last, so the spans of the shutdown are flushed too.
 */
export async function openProcessEngine(
  config: BatonConfig,
  options: { migrate: boolean },
): Promise<ProcessEngine> {
  const tracing = await processTracing(config);
  let engine: Engine;
  try {
    engine = await createEngine(
      engineOptionsFrom(config, { migrate: options.migrate, tracerProvider: tracing?.provider }),
    );
  } catch (error) {
    await tracing?.shutdown();
    throw error;
  }
  return {
    engine,
    async close() {
      await engine.close({ timeoutMs: config.shutdownTimeoutMs });
      await tracing?.shutdown();
    },
  };
}

/** The SDK, loaded only when export is on. */
async function processTracing(config: BatonConfig): Promise<TracingSetup | undefined> {
  if (config.otelExporter === 'none') return undefined;
  const { createTracing } = await import('../observability/tracing-sdk.ts');
  return createTracing({
    exporter: config.otelExporter,
    endpoint: config.otelEndpoint,
    serviceName: config.otelServiceName,
  });
}
