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
}

/**
 * The reference's in-memory store: global (not per sender), no timers. Unlike the reference,
 * which scans the whole map on some calls (and on every call above 50,000 entries, i.e. within
 * seconds under load), expired nonces are dropped from the oldest end of the insertion-ordered
 * map, so each call costs O(1) amortised however many nonces are live.
 */
export class MemoryNonceStore implements NonceStore {
  readonly #expiries = new Map<string, number>();
  readonly #now: () => number;

  constructor(options: MemoryNonceStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#expiries.size;
  }

  checkAndMark(nonce: string, ttlMs: number = NONCE_TTL_SECONDS * 1000): boolean {
    const now = this.#now();
    this.#dropExpired(now);
    const expiry = this.#expiries.get(nonce);
    if (expiry !== undefined && expiry > now) return false;
    // Re-inserted at the end, so the map stays in order of marking.
    this.#expiries.delete(nonce);
    this.#expiries.set(nonce, now + ttlMs);
    return true;
  }

  /**
   * Drops expired nonces from the oldest end, stopping at the first live one. With one TTL the
   * map is in expiry order, so nothing expired is left behind; a nonce marked with a longer TTL
   * only delays the drop of those after it (`checkAndMark` still treats them as expired).
   */
  #dropExpired(now: number): void {
    for (const [nonce, expiry] of this.#expiries) {
      if (expiry > now) return;
      this.#expiries.delete(nonce);
    }
  }
}
