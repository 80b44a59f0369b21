/**
 * The per-origin circuit breaker: cockatiel's `CircuitBreakerPolicy` with a `ConsecutiveBreaker`
 * (open after N consecutive failures) and `halfOpenAfter` the cool-down. Three things are added
 * around it: calls arriving while the half-open probe runs fail fast with `CircuitOpenError`
 * (cockatiel would park them, unabortable, until the probe ends); the time until the next probe
 * is tracked so the error can say when to come back; and while the circuit is closed, attempts
 * run beside the policy rather than inside `execute` (see `run`).
 */
import {
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { AbortError, ConnectError, HttpStatusError, TimeoutError } from './errors.ts';
import type { CircuitStateName } from './hooks.ts';
import type { CircuitOptions } from './options.ts';

const STATE_NAMES: Record<CircuitState, CircuitStateName> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Open]: 'open',
  [CircuitState.Isolated]: 'open',
};

/** Failures that say the origin is unwell. A 4xx or a 429 means it answers, so it does not count. */
function isOutageSign(error: unknown): boolean {
  if (error instanceof ConnectError) return true;
  if (error instanceof TimeoutError) return error.phase !== 'total';
  return error instanceof HttpStatusError && error.status >= 500;
}

export class OriginCircuit {
  readonly #policy: CircuitBreakerPolicy;
  readonly #breaker: ConsecutiveBreaker;
  readonly #cooldownMs: number;
  #state: CircuitStateName = 'closed';
  // cockatiel times the cool-down with Date.now(), so this does too (not the injected clock).
  #openedAt = 0;

  constructor(options: CircuitOptions, onChange: (from: CircuitStateName, to: CircuitStateName) => void) {
    this.#cooldownMs = options.cooldownMs;
    this.#breaker = new ConsecutiveBreaker(options.failureThreshold);
    this.#policy = circuitBreaker(
      handleWhen((error) => this.#countsAsFailure(error)),
      {
        halfOpenAfter: options.cooldownMs,
        breaker: this.#breaker,
      },
    );
    this.#policy.onStateChange((next) => {
      const from = this.#state;
      const to = STATE_NAMES[next];
      this.#state = to;
      if (to === 'open') this.#openedAt = Date.now();
      if (from !== to) onChange(from, to);
    });
  }

  get state(): CircuitStateName {
    return this.#state;
  }

  /**
   * `null` when a call may go ahead; otherwise why not: the milliseconds until the cool-down
   * ends, or `undefined` when a half-open probe is already running.
   */
  blocked(): number | undefined | null {
    if (this.#state === 'closed') return null;
    if (this.#state === 'half_open') return undefined;
    const left = this.#openedAt + this.#cooldownMs - Date.now();
    return left > 0 ? left : null;
  }

  /**
   * Runs one attempt under the breaker. Half-open probes (and the rare call racing a state
   * change) go through cockatiel's `execute`, which owns every transition. While closed, the
   * attempt runs as is and its outcome is reported the way `execute` would record it: a success
   * resets the breaker's count, an outage sign is replayed through `execute` so that cockatiel
   * counts it and opens the circuit at the threshold. That spares the hot path two async layers
   * and their allocations per request.
   */
  run<A, B, T>(attempt: (a: A, b: B) => Promise<T>, a: A, b: B): Promise<T> {
    if (this.#state !== 'closed') return this.#policy.execute(() => attempt(a, b));
    return attempt(a, b).then(this.#closedSuccess, this.#closedFailure);
  }

  readonly #closedSuccess = <T>(value: T): T => {
    this.#breaker.success();
    return value;
  };

  readonly #closedFailure = (error: unknown): never => {
    if (isOutageSign(error) && this.#state === 'closed') {
      const replay = (): never => {
        throw error;
      };
      this.#policy.execute(replay).catch(ignore);
    }
    throw error;
  };

  // A probe that ends by abort or total timeout proved nothing; cockatiel would count it as a
  // success and close the circuit, so while half-open it counts as a failure instead.
  #countsAsFailure(error: unknown): boolean {
    if (isOutageSign(error)) return true;
    const inconclusive =
      error instanceof AbortError || (error instanceof TimeoutError && error.phase === 'total');
    return inconclusive && this.#state === 'half_open';
  }
}

function ignore(): void {}
