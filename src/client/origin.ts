/**
 * Per-origin state: connection pools, circuit breaker, token bucket and metric labels, made on
 * the first request to an origin and kept until the client closes.
 */
import { Pool } from 'undici';
import { OriginCircuit } from './circuit.ts';
import { callHook, type HttpClientHooks } from './hooks.ts';
import type { ClientMetrics, OriginMetrics } from './metrics.ts';
import type { CircuitOptions } from './options.ts';
import { preciseConnector, timedHere } from './precise-timeouts.ts';
import { TokenBucket } from './rate-limit.ts';
import { normaliseOrigin } from './target.ts';

export interface OriginConfig {
  maxConnections: number;
  connectMs: number;
  circuit: CircuitOptions | undefined;
  rateLimit: { requestsPerSecond: number; burst: number } | undefined;
  metrics: ClientMetrics | undefined;
  hooks: HttpClientHooks;
  now: () => number;
}

export class Origin {
  readonly name: string;
  readonly circuit: OriginCircuit | undefined;
  readonly bucket: TokenBucket | undefined;
  readonly metrics: OriginMetrics | undefined;
  readonly #config: OriginConfig;
  readonly #pool: Pool;
  // undici sets the connect timeout per pool, so a call overriding it gets a pool of its own.
  readonly #otherPools = new Map<number, Pool>();

  constructor(name: string, config: OriginConfig) {
    this.name = name;
    this.#config = config;
    this.#pool = this.#makePool(config.connectMs);
    this.metrics = config.metrics?.forTarget(name);
    this.bucket =
      config.rateLimit &&
      new TokenBucket(config.rateLimit.requestsPerSecond, config.rateLimit.burst, config.now);
    this.circuit =
      config.circuit &&
      new OriginCircuit(config.circuit, (from, to) => {
        this.metrics?.circuitState(to);
        callHook(config.hooks.onCircuitChange, { origin: name, from, to });
      });
    this.metrics?.circuitState('closed');
  }

  pool(connectMs: number): Pool {
    if (connectMs === this.#config.connectMs) return this.#pool;
    let pool = this.#otherPools.get(connectMs);
    if (pool === undefined) {
      pool = this.#makePool(connectMs);
      this.#otherPools.set(connectMs, pool);
    }
    return pool;
  }

  /** Closes the pools, letting requests in flight finish. */
  async close(): Promise<void> {
    await Promise.all([this.#pool, ...this.#otherPools.values()].map((pool) => pool.close()));
  }

  #makePool(connectMs: number): Pool {
    const connections = this.#config.maxConnections;
    if (!timedHere(connectMs)) return new Pool(this.name, { connections, connectTimeout: connectMs });
    return new Pool(this.name, { connections, connect: preciseConnector(connectMs) });
  }
}

/** Origins by the URL prefix as callers write it, normalised once per distinct spelling. */
export class Origins {
  readonly #config: OriginConfig;
  readonly #byPrefix = new Map<string, Origin>();
  readonly #byName = new Map<string, Origin>();
  #lastPrefix = '';
  #last: Origin | undefined;

  constructor(config: OriginConfig) {
    this.#config = config;
  }

  get(prefix: string): Origin {
    // Most clients talk to one origin at a time: a string compare beats hashing the prefix.
    if (prefix === this.#lastPrefix && this.#last !== undefined) return this.#last;
    const origin = this.#lookup(prefix);
    this.#lastPrefix = prefix;
    this.#last = origin;
    return origin;
  }

  #lookup(prefix: string): Origin {
    const known = this.#byPrefix.get(prefix);
    if (known !== undefined) return known;
    const name = normaliseOrigin(prefix);
    let origin = this.#byName.get(name);
    if (origin === undefined) {
      origin = new Origin(name, this.#config);
      this.#byName.set(name, origin);
    }
    this.#byPrefix.set(prefix, origin);
    return origin;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#byName.values()].map((origin) => origin.close()));
  }
}
