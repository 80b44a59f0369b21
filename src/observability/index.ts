/**
 * Observability building blocks shared by the parts: Prometheus metrics cheap enough for hot
 * paths. (Logs, traces and the `/metrics` surface grow here with the observability issue.)
 *
 * @module
 */
export {
  CounterSeries,
  DEFAULT_SECONDS_BUCKETS,
  HistogramSeries,
  TallyCounter,
  TallyHistogram,
} from './tally-metrics.ts';
