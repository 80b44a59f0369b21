/** A buffered HTTP response. */
import type { IncomingHttpHeaders } from 'node:http';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\b|^[\w.+-]+\/[\w.+-]+\+json\b/i;

export class HttpResponse {
  readonly status: number;
  /** Lower-case names; repeated headers (e.g. `set-cookie`) are arrays. */
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** Attempts the call made, this response's included. */
  readonly attempts: number;
  /** The whole call, retries and waits included. */
  readonly durationMs: number;

  constructor(
    status: number,
    headers: IncomingHttpHeaders,
    body: Buffer,
    attempts: number,
    durationMs: number,
  ) {
    this.status = status;
    this.headers = headers;
    this.body = body;
    this.attempts = attempts;
    this.durationMs = durationMs;
  }

  /** Status 2xx. */
  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  /** A header's value; repeated headers joined with `, `. */
  header(name: string): string | undefined {
    const value = this.headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  /** Whether the content type is JSON (`application/json`, `application/problem+json`, …). */
  get isJson(): boolean {
    const type = this.headers['content-type'];
    return type !== undefined && JSON_TYPE.test(type);
  }

  text(): string {
    return this.body.toString('utf8');
  }

  /** The body parsed as JSON, whatever the content type says (throws on invalid JSON). */
  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T;
  }

  /**
   * The body as a step result: parsed JSON when the content type is JSON, text otherwise, and
   * `null` for an empty body.
   */
  data(): unknown {
    if (this.body.length === 0) return null;
    return this.isJson ? this.json() : this.text();
  }
}
