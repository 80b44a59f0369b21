import pg from 'pg';

const MIN_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

/**
 * Wake-ups across processes by LISTEN/NOTIFY: a hint that steps may be runnable, never the source
 * of truth (workers still poll as a safety net, so a lost notification only costs latency). One
 * dedicated connection listens while anyone subscribes; when it drops (the server restarted), it
 * reconnects with backoff and wakes the subscribers once, since notifications may have been missed.
 */
export class WakeChannel {
  readonly #connectionString: string;
  readonly #channel: string;
  readonly #onError: (error: Error) => void;
  readonly #listeners = new Set<() => void>();
  #client: pg.Client | undefined;
  #connecting = false;
  #retryMs = MIN_RETRY_MS;
  #retryTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(connectionString: string, channel: string, onError: (error: Error) => void) {
    this.#connectionString = connectionString;
    this.#channel = channel;
    this.#onError = onError;
  }

  get channel(): string {
    return this.#channel;
  }

  /** Calls `listener` on every wake-up until the returned function is called. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    void this.#connect();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#disconnect();
    };
  }

  close(): void {
    this.#closed = true;
    this.#listeners.clear();
    this.#disconnect();
  }

  async #connect(): Promise<void> {
    if (this.#closed || this.#client || this.#connecting || this.#listeners.size === 0) return;
    this.#connecting = true;
    const client = new pg.Client({
      connectionString: this.#connectionString,
      fallback_application_name: 'baton-listen',
    });
    client.on('error', (error) => this.#onError(error));
    client.on('notification', () => this.#wake());
    client.on('end', () => this.#lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.#channel)}`);
      this.#client = client;
      this.#retryMs = MIN_RETRY_MS;
      if (this.#listeners.size === 0 || this.#closed) this.#disconnect();
      else this.#wake(); // anything notified while we were not listening
    } catch (error) {
      this.#onError(error instanceof Error ? error : new Error(String(error)));
      client.end().catch(() => {});
      this.#scheduleReconnect();
    } finally {
      this.#connecting = false;
    }
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#listeners.size === 0 || this.#retryTimer) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#connect();
    }, this.#retryMs);
    this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
  }

  #disconnect(): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const client = this.#client;
    this.#client = undefined;
    client?.end().catch(() => {});
  }

  #wake(): void {
    for (const listener of this.#listeners) listener();
  }
}
