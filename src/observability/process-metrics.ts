/**
 * prom-client's default Node.js process metrics (`process_cpu_seconds_total`,
 * `process_resident_memory_bytes`, `nodejs_eventloop_lag_seconds`, `nodejs_heap_size_used_bytes`,
 * …), registered once per registry: a second call on the same registry does nothing.
 */
import { collectDefaultMetrics, type Registry } from 'prom-client';

/** A metric every prom-client version's defaults include: its presence means "already collected". */
const MARKER = 'process_cpu_user_seconds_total';

export function collectProcessMetrics(registry: Registry): void {
  if (registry.getSingleMetric(MARKER) !== undefined) return;
  collectDefaultMetrics({ register: registry });
}
