/**
 * Observability building blocks shared by the parts: the logger, Prometheus metrics cheap enough
 * for hot paths, the engine's metrics (SPEC §7) and the process metrics a server exposes at
 * `/metrics`.
 *
 * @module
 */
export {
  EngineMetrics,
  OTHER_LABEL,
  STEP_DURATION_BUCKETS,
  type EngineMetricsOptions,
} from './engine-metrics.ts';
export {
  contextFields,
  createLogger,
  LOG_EVENTS,
  loggerFromConfig,
  type CreateLoggerOptions,
  type LogEventName,
} from './logger.ts';
export { REDACT_PATHS, redactSecretKeys, SECRET_LOG_KEY } from './log-redact.ts';
export { collectProcessMetrics } from './process-metrics.ts';
export {
  CounterSeries,
  DEFAULT_SECONDS_BUCKETS,
  HistogramSeries,
  TallyCounter,
  TallyHistogram,
} from './tally-metrics.ts';
export {
  errorType,
  failSpan,
  parentContext,
  resolveTracer,
  resolveTracerProvider,
  runInSpan,
  spanContextOf,
  startSpan,
  traceparentOf,
  TRACER_NAME,
  withSpan,
  type Span,
  type Tracer,
  type TracerProvider,
} from './tracing.ts';
// The SDK itself (`createTracing`) is in './tracing-sdk.ts', imported on demand so that a process
// without tracing never loads it.
export type { OtelExporter, TracingSetup, TracingSetupOptions } from './tracing-sdk.ts';
