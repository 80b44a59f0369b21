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

/** One series of a `TallyCounter`: hold it to count without even the lookup. */
export class CounterSeries {
  readonly labels: Labels;
  value = 0;

  constructor(labels: Labels) {
    this.labels = labels;
  }

  add(by = 1): void {
    this.value += by;
  }
}

/**
 * A counter whose `add(values)` costs one Map lookup, and `series(values).add()` none. Series
 * live as long as the counter: a reset sets them to zero.
 */
export class TallyCounter<L extends string = string> extends Counter<L> {
  readonly #names: readonly L[];
  // Not a #private field: the base constructor calls reset() before fields exist.
  private readonly entries = new Map<string, CounterSeries>();

  constructor(config: TallyConfig<L>) {
    super({ ...config, labelNames: [...config.labelNames] });
    this.#names = config.labelNames;
  }

  /** Adds `by` (default 1) to the series of these label values, in `labelNames` order. */
  add(values: readonly string[] = [], by = 1): void {
    this.series(values).add(by);
  }

  /** The series of these label values, in `labelNames` order. */
  series(values: readonly string[] = []): CounterSeries {
    const key = values.join('\u0000');
    let series = this.entries.get(key);
    if (!series) {
      series = new CounterSeries(labelsOf(this.#names, values));
      this.entries.set(key, series);
    }
    return series;
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
    for (const series of (this.entries as Map<string, CounterSeries> | undefined)?.values() ?? []) {
      series.value = 0;
    }
  }
}

/** One series of a `TallyHistogram`: hold it to record without even the lookup. */
export class HistogramSeries {
  readonly labels: Labels;
  readonly bounds: readonly number[];
  /** Observations per bucket, not cumulative; those above the last bound are only in `count`. */
  readonly buckets: Float64Array;
  sum = 0;
  count = 0;

  constructor(labels: Labels, bounds: readonly number[]) {
    this.labels = labels;
    this.bounds = bounds;
    this.buckets = new Float64Array(bounds.length);
  }

  record(x: number): void {
    this.sum += x;
    this.count += 1;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (x <= (bounds[i] as number)) {
        this.buckets[i] = (this.buckets[i] as number) + 1;
        return;
      }
    }
  }

  reset(): void {
    this.buckets.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

/** A histogram whose `record(values, x)` costs one Map lookup and a short bucket scan. */
export class TallyHistogram<L extends string = string> extends Histogram<L> {
  readonly #names: readonly L[];
  readonly #bounds: readonly number[];
  private readonly entries = new Map<string, HistogramSeries>();

  constructor(config: TallyConfig<L> & { buckets?: readonly number[] }) {
    const bounds = config.buckets ?? DEFAULT_SECONDS_BUCKETS;
    super({ ...config, labelNames: [...config.labelNames], buckets: [...bounds] });
    this.#names = config.labelNames;
    this.#bounds = bounds;
  }

  /** Records one observation `x` for these label values, in `labelNames` order. */
  record(values: readonly string[], x: number): void {
    this.series(values).record(x);
  }

  /** The series of these label values, in `labelNames` order. */
  series(values: readonly string[]): HistogramSeries {
    const key = values.join('\u0000');
    let series = this.entries.get(key);
    if (!series) {
      series = new HistogramSeries(labelsOf(this.#names, values), this.#bounds);
      this.entries.set(key, series);
    }
    return series;
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
    for (const series of (this.entries as Map<string, HistogramSeries> | undefined)?.values() ?? []) {
      series.reset();
    }
  }
}
