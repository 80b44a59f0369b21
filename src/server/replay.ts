/**
 * Nonce replay protection (asap-wire §5.2): a store that remembers each nonce for its TTL and
 * answers, atomically, whether a nonce is new. The memory store serves one process; a shared store
 * (Redis) implements the same interface.
 */
import { NONCE_TTL_SECONDS } from '../protocol/index.ts';

export interface NonceStore {
  /**
   * Records `nonce` for `ttlMs` and returns `true`, or returns `false` when it was already
   * recorded and has not expired. Check and record are one atomic step.
   */
  checkAndMark(nonce: string, ttlMs: number): boolean | Promise<boolean>;
}

export interface MemoryNonceStoreOptions {
  /** Clock in epoch ms (default `Date.now`). */
  now?: () => number;
  /** Above this many entries every call sweeps expired ones (default 50,000, as the reference). */
  sweepAbove?: number;
  /** Share of calls that sweep below that size (default 0.05). */
  sweepRate?: number;
  random?: () => number;
}

/** The reference's in-memory store: global (not per sender), swept on some calls; no timers. */
export class MemoryNonceStore implements NonceStore {
  readonly #expiries = new Map<string, number>();
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #sweepAbove: number;
  readonly #sweepRate: number;

  constructor(options: MemoryNonceStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#sweepAbove = options.sweepAbove ?? 50_000;
    this.#sweepRate = options.sweepRate ?? 0.05;
  }

  get size(): number {
    return this.#expiries.size;
  }

  checkAndMark(nonce: string, ttlMs: number = NONCE_TTL_SECONDS * 1000): boolean {
    const now = this.#now();
    if (this.#expiries.size > this.#sweepAbove || this.#random() < this.#sweepRate) this.#sweep(now);
    const expiry = this.#expiries.get(nonce);
    if (expiry !== undefined && expiry > now) return false;
    this.#expiries.set(nonce, now + ttlMs);
    return true;
  }

  #sweep(now: number): void {
    for (const [nonce, expiry] of this.#expiries) if (expiry <= now) this.#expiries.delete(nonce);
  }
}
