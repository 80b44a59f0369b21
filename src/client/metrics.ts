/**
 * Prometheus metrics of the client, by target (the origin). A request only bumps plain numbers in
 * its target's tally; the metrics read the tallies when the registry is scraped. That keeps
 * prom-client's label hashing (about 1 µs per `inc` or `observe`) off the hot path.
 *
 * The metrics are prom-client classes whose `get()` reads the tallies, registered once per
 * registry: a second client on the same registry finds them with `getSingleMetric` and shares
 * their tallies, so counts of one target add up across clients.
 */
import { Counter, Gauge, Histogram, type MetricType, type Registry } from 'prom-client';
import type { CircuitStateName } from './hooks.ts';

const NAMES = {
  requests: 'baton_http_client_requests_total',
  duration: 'baton_http_client_request_duration_seconds',
  retries: 'baton_http_client_retries_total',
  circuit: 'baton_http_client_circuit_state',
} as const;

const HELP = {
  requests: 'HTTP client attempts by target origin and outcome (status code or error kind)',
  duration: 'HTTP client attempt duration by target origin, in seconds',
  retries: 'HTTP client retries scheduled, by target origin',
  circuit: 'Circuit breaker state by target origin: 0 closed, 1 half-open, 2 open',
} as const;

// prom-client's types want the collect hook in a snapshot; ours has nothing to collect.
function collect(): void {}

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const CIRCUIT_VALUES: Record<CircuitStateName, number> = { closed: 0, half_open: 1, open: 2 };

/** The counts of one target, shared by every client on one registry. */
export class OriginMetrics {
  readonly target: string;
  /** Attempts by outcome: an HTTP status or an error kind. */
  readonly requests = new Map<number | string, number>();
  retries = 0;
  /** Observations per bucket (not cumulative); those above the last bound are only in `count`. */
  readonly buckets = new Float64Array(BUCKETS.length);
  sum = 0;
  count = 0;
  circuit = 0;

  constructor(target: string) {
    this.target = target;
  }

  /** One attempt ended with an HTTP status or an error kind, after `ms` milliseconds (if sent). */
  attempt(outcome: number | string, ms: number | undefined): void {
    this.requests.set(outcome, (this.requests.get(outcome) ?? 0) + 1);
    if (ms === undefined) return;
    const seconds = ms / 1000;
    this.sum += seconds;
    this.count += 1;
    for (let i = 0; i < BUCKETS.length; i++) {
      if (seconds <= (BUCKETS[i] as number)) {
        this.buckets[i] = (this.buckets[i] as number) + 1;
        break;
      }
    }
  }

  retry(): void {
    this.retries += 1;
  }

  circuitState(state: CircuitStateName): void {
    this.circuit = CIRCUIT_VALUES[state];
  }

  reset(): void {
    this.requests.clear();
    this.retries = 0;
    this.buckets.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

type Tallies = Map<string, OriginMetrics>;

class RequestsCounter extends Counter<'target' | 'status'> {
  readonly tallies: Tallies;

  constructor(registry: Registry, tallies: Tallies) {
    super({
      name: NAMES.requests,
      help: HELP.requests,
      labelNames: ['target', 'status'],
      registers: [registry],
    });
    this.tallies = tallies;
  }

  override async get() {
    const values = [];
    for (const tally of this.tallies.values()) {
      for (const [status, value] of tally.requests) {
        values.push({ labels: { target: tally.target, status: String(status) }, value });
      }
    }
    return { ...(await super.get()), values };
  }

  /** `registry.resetMetrics()` starts every tally of the registry from zero. */
  override reset(): void {
    super.reset();
    // The base constructor calls this too, before the tallies are set.
    const tallies = this.tallies as Tallies | undefined;
    if (tallies !== undefined) for (const tally of tallies.values()) tally.reset();
  }
}

class RetriesCounter extends Counter<'target'> {
  readonly #tallies: Tallies;

  constructor(registry: Registry, tallies: Tallies) {
    super({
      name: NAMES.retries,
      help: HELP.retries,
      labelNames: ['target'],
      registers: [registry],
    });
    this.#tallies = tallies;
  }

  override async get() {
    const values = [...this.#tallies.values()].map((t) => ({
      labels: { target: t.target },
      value: t.retries,
    }));
    return { ...(await super.get()), values };
  }
}

class CircuitGauge extends Gauge<'target'> {
  readonly #tallies: Tallies;

  constructor(registry: Registry, tallies: Tallies) {
    super({
      name: NAMES.circuit,
      help: HELP.circuit,
      labelNames: ['target'],
      registers: [registry],
    });
    this.#tallies = tallies;
  }

  override async get() {
    const values = [...this.#tallies.values()].map((t) => ({
      labels: { target: t.target },
      value: t.circuit,
    }));
    return { ...(await super.get()), values };
  }
}

class DurationHistogram extends Histogram<'target'> {
  readonly #tallies: Tallies;

  constructor(registry: Registry, tallies: Tallies) {
    super({
      name: NAMES.duration,
      help: HELP.duration,
      labelNames: ['target'],
      buckets: BUCKETS,
      registers: [registry],
    });
    this.#tallies = tallies;
  }

  // prom-client's registry renders a histogram through this method when it exists (v15), and
  // `getMetricsAsJSON` through `get()`: both must read the tallies.
  getForPromString() {
    return this.get();
  }

  // The same series prom-client writes: cumulative `_bucket`s with `le`, then `_sum` and `_count`.
  override get() {
    const values = [];
    for (const { target, buckets, sum, count } of this.#tallies.values()) {
      let cumulative = 0;
      for (let i = 0; i < BUCKETS.length; i++) {
        cumulative += buckets[i] as number;
        const labels = { le: BUCKETS[i] as number, target };
        values.push({ labels, value: cumulative, metricName: `${NAMES.duration}_bucket` });
      }
      values.push({ labels: { le: '+Inf', target }, value: count, metricName: `${NAMES.duration}_bucket` });
      values.push({ labels: { target }, value: sum, metricName: `${NAMES.duration}_sum` });
      values.push({ labels: { target }, value: count, metricName: `${NAMES.duration}_count` });
    }
    // Not `super.get()`: prom-client's goes through getForPromString, i.e. back here. Its types
    // declare `type` as a numeric enum; at run time (and in the registry) it is the string.
    return Promise.resolve({
      name: NAMES.duration,
      help: HELP.duration,
      type: 'histogram' as unknown as MetricType,
      aggregator: 'sum' as const,
      values,
      collect,
    });
  }
}

/** The client metrics of one registry. */
export class ClientMetrics {
  readonly #tallies: Tallies;

  /** The metrics already in `registry` (another client made them), or new ones registered there. */
  static of(registry: Registry): ClientMetrics {
    const existing = registry.getSingleMetric(NAMES.requests);
    if (existing instanceof RequestsCounter) return new ClientMetrics(existing.tallies);
    for (const name of Object.values(NAMES)) {
      if (registry.getSingleMetric(name) !== undefined) {
        throw new TypeError(`metric ${name} is already registered in this registry by something else`);
      }
    }
    const tallies: Tallies = new Map();
    new RequestsCounter(registry, tallies);
    new RetriesCounter(registry, tallies);
    new CircuitGauge(registry, tallies);
    new DurationHistogram(registry, tallies);
    return new ClientMetrics(tallies);
  }

  private constructor(tallies: Tallies) {
    this.#tallies = tallies;
  }

  /** The tally of `target`, shared with other clients of the same registry. */
  forTarget(target: string): OriginMetrics {
    let tally = this.#tallies.get(target);
    if (tally === undefined) {
      tally = new OriginMetrics(target);
      this.#tallies.set(target, tally);
    }
    return tally;
  }
}
