export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitOptions {
  /** Consecutive failures that open a handler's circuit (default 5). */
  failureThreshold: number;
  /** How long a circuit stays open before one probe may run (default 30 s). */
  cooldownMs: number;
}

export const DEFAULT_CIRCUIT_OPTIONS: CircuitOptions = Object.freeze({
  failureThreshold: 5,
  cooldownMs: 30_000,
});

interface Circuit {
  state: CircuitState;
  failures: number;
  openedAt: number;
  probing: boolean;
}

export type CircuitListener = (handler: string, from: CircuitState, to: CircuitState) => void;

/**
 * One circuit breaker per handler key (SPEC §2.6), kept in this process. While a circuit is open
 * the worker does not claim that handler's steps at all, so they wait without burning attempts;
 * after the cool-down exactly one step runs as a probe and its outcome closes or reopens it.
 */
export class CircuitBreakers {
  readonly #circuits = new Map<string, Circuit>();
  readonly options: CircuitOptions;
  readonly #now: () => number;
  readonly #onChange: CircuitListener;

  constructor(options: CircuitOptions, now: () => number, onChange: CircuitListener) {
    this.options = options;
    this.#now = now;
    this.#onChange = onChange;
  }

  state(handler: string): CircuitState {
    return this.#circuits.get(handler)?.state ?? 'closed';
  }

  /** Handlers whose steps must not be claimed in bulk (open, or half-open awaiting a probe). */
  blocked(): Set<string> {
    const blocked = new Set<string>();
    for (const [handler, circuit] of this.#circuits) if (circuit.state !== 'closed') blocked.add(handler);
    return blocked;
  }

  /** Open circuits whose cool-down is over become half-open; returns those ready to run a probe. */
  probeCandidates(): string[] {
    const candidates: string[] = [];
    for (const [handler, circuit] of this.#circuits) {
      if (circuit.state === 'open' && this.#now() - circuit.openedAt >= this.options.cooldownMs) {
        this.#move(handler, circuit, 'half_open');
      }
      if (circuit.state === 'half_open' && !circuit.probing) candidates.push(handler);
    }
    return candidates;
  }

  /** When the next open circuit may be probed, or null. */
  nextProbeAt(): number | null {
    let next: number | null = null;
    for (const circuit of this.#circuits.values()) {
      if (circuit.state !== 'open') continue;
      const at = circuit.openedAt + this.options.cooldownMs;
      next = next === null ? at : Math.min(next, at);
    }
    return next;
  }

  startProbe(handler: string): void {
    const circuit = this.#circuits.get(handler);
    if (circuit) circuit.probing = true;
  }

  recordSuccess(handler: string): void {
    const circuit = this.#circuits.get(handler);
    if (!circuit) return;
    circuit.failures = 0;
    circuit.probing = false;
    if (circuit.state !== 'closed') this.#move(handler, circuit, 'closed');
  }

  recordFailure(handler: string): void {
    const circuit = this.#circuit(handler);
    circuit.failures += 1;
    circuit.probing = false;
    const shouldOpen =
      circuit.state === 'half_open' ||
      (circuit.state === 'closed' && circuit.failures >= this.options.failureThreshold);
    if (shouldOpen) {
      circuit.openedAt = this.#now();
      this.#move(handler, circuit, 'open');
    }
  }

  #circuit(handler: string): Circuit {
    let circuit = this.#circuits.get(handler);
    if (!circuit) {
      circuit = { state: 'closed', failures: 0, openedAt: 0, probing: false };
      this.#circuits.set(handler, circuit);
    }
    return circuit;
  }

  #move(handler: string, circuit: Circuit, to: CircuitState): void {
    const from = circuit.state;
    circuit.state = to;
    if (from !== to) this.#onChange(handler, from, to);
  }
}
