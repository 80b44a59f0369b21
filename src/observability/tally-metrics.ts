/**
 * Prometheus counters and histograms for hot paths. `prom-client` hashes the label object on
 * every `inc` or `observe` (about 1 µs each); these keep one plain entry per label combination,
 * found by the label values joined into a key, and hand prom-client the series only when the
 * registry is scraped. Label cardinality stays the caller's job: pass bounded values only.
 *
 * @example
 * const requests = new TallyCounter({ name: 'x_total', help: 'X', labelNames: ['kind'], registers: [registry] });
 * requests.add(['fast']);
 */
import {
  Counter,
  Histogram,
  type MetricType,
  type MetricValue,
  type MetricValueWithName,
  type Registry,
} from 'prom-client';

export const DEFAULT_SECONDS_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

interface TallyConfig<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  registers: Registry[];
}

type Labels = Record<string, string | number>;

// prom-client's metric snapshots carry a collect hook; ours have nothing to collect.
function collect(): void {}

/** The label object of `values`, in `names` order. */
function labelsOf(names: readonly string[], values: readonly string[]): Labels {
  const labels: Labels = {};
  names.forEach((name, i) => (labels[name] = values[i] ?? ''));
  return labels;
}

interface CounterEntry {
  labels: Labels;
  value: number;
}

/** A counter whose `add(values)` costs one Map lookup. */
export class TallyCounter<L extends string = string> extends Counter<L> {
  readonly #names: readonly L[];
  // Not a #private field: the base constructor calls reset() before fields exist.
  private readonly entries = new Map<string, CounterEntry>();

  constructor(config: TallyConfig<L>) {
    super({ ...config, labelNames: [...config.labelNames] });
    this.#names = config.labelNames;
  }

  /** Adds `by` (default 1) to the series of these label values, in `labelNames` order. */
  add(values: readonly string[] = [], by = 1): void {
    const key = values.join('\u0000');
    const entry = this.entries.get(key);
    if (entry) entry.value += by;
    else this.entries.set(key, { labels: labelsOf(this.#names, values), value: by });
  }

  override async get() {
    const base = await super.get();
    // A counter without labels prints 0 before its first add, as prom-client's own does.
    const values = this.#names.length === 0 && this.entries.size === 0 ? base.values : [];
    for (const { labels, value } of this.entries.values()) values.push({ labels, value } as MetricValue<L>);
    return { ...base, values };
  }

  override reset(): void {
    super.reset();
    (this.entries as Map<string, CounterEntry> | undefined)?.clear();
  }
}

interface HistogramEntry {
  labels: Labels;
  /** Observations per bucket, not cumulative; those above the last bound are only in `count`. */
  buckets: Float64Array;
  sum: number;
  count: number;
}

/** A histogram whose `record(values, x)` costs one Map lookup and a short bucket scan. */
export class TallyHistogram<L extends string = string> extends Histogram<L> {
  readonly #names: readonly L[];
  readonly #bounds: readonly number[];
  private readonly entries = new Map<string, HistogramEntry>();

  constructor(config: TallyConfig<L> & { buckets?: readonly number[] }) {
    const bounds = config.buckets ?? DEFAULT_SECONDS_BUCKETS;
    super({ ...config, labelNames: [...config.labelNames], buckets: [...bounds] });
    this.#names = config.labelNames;
    this.#bounds = bounds;
  }

  /** Records one observation `x` for these label values, in `labelNames` order. */
  record(values: readonly string[], x: number): void {
    const key = values.join('\u0000');
    let entry = this.entries.get(key);
    if (!entry) {
      entry = {
        labels: labelsOf(this.#names, values),
        buckets: new Float64Array(this.#bounds.length),
        sum: 0,
        count: 0,
      };
      this.entries.set(key, entry);
    }
    entry.sum += x;
    entry.count += 1;
    const bounds = this.#bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (x <= (bounds[i] as number)) {
        entry.buckets[i] = (entry.buckets[i] as number) + 1;
        break;
      }
    }
  }

  // prom-client's registry renders a histogram through this method when it exists (v15), and
  // `getMetricsAsJSON` through `get()`: both must read the entries.
  getForPromString() {
    return this.get();
  }

  // The series prom-client writes: cumulative `_bucket`s with `le`, then `_sum` and `_count`.
  override get() {
    const { name, help } = this as unknown as { name: string; help: string };
    const values: { labels: Labels; value: number; metricName: string }[] = [];
    for (const { labels, buckets, sum, count } of this.entries.values()) {
      let cumulative = 0;
      this.#bounds.forEach((le, i) => {
        cumulative += buckets[i] as number;
        values.push({ labels: { le, ...labels }, value: cumulative, metricName: `${name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', ...labels }, value: count, metricName: `${name}_bucket` });
      values.push({ labels, value: sum, metricName: `${name}_sum` });
      values.push({ labels, value: count, metricName: `${name}_count` });
    }
    // Not `super.get()`: prom-client's goes through getForPromString, i.e. back here. Its types
    // declare `type` as a numeric enum; at run time (and in the registry) it is the string.
    return Promise.resolve({
      name,
      help,
      type: 'histogram' as unknown as MetricType,
      aggregator: 'sum' as const,
      values: values as MetricValueWithName<L>[],
      collect,
    });
  }

  override reset(): void {
    super.reset();
    (this.entries as Map<string, HistogramEntry> | undefined)?.clear();
  }
}
