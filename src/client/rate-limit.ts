/**
 * A token bucket per origin. Callers reserve a token and wait until it is theirs, so waiters are
 * served in order without a queue: each reservation pushes the balance further below zero, and
 * the deficit divided by the rate is that caller's wait.
 */
export class TokenBucket {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #updatedAt: number;

  constructor(requestsPerSecond: number, burst: number, now: () => number) {
    this.#perMs = requestsPerSecond / 1000;
    this.#burst = burst;
    this.#now = now;
    this.#tokens = burst;
    this.#updatedAt = now();
  }

  /** How long a reservation made now would wait, in milliseconds (0: a token is free). */
  waitMs(): number {
    this.#refill();
    return this.#tokens >= 1 ? 0 : (1 - this.#tokens) / this.#perMs;
  }

  /** Takes a token, possibly one not yet earned (see `waitMs`). */
  take(): void {
    this.#refill();
    this.#tokens -= 1;
  }

  /** Gives a reserved token back (its caller gave up waiting). */
  giveBack(): void {
    this.#refill();
    this.#tokens = Math.min(this.#burst, this.#tokens + 1);
  }

  #refill(): void {
    const now = this.#now();
    const elapsed = now - this.#updatedAt;
    if (elapsed <= 0) return;
    this.#updatedAt = now;
    this.#tokens = Math.min(this.#burst, this.#tokens + elapsed * this.#perMs);
  }
}
