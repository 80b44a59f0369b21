/**
 * Answers the reference gives outside JSON-RPC, at the HTTP level (asap-wire §2.3 steps 3, 5–7):
 * a status code and `{"detail": "…"}`.
 */
export class HttpError extends Error {
  readonly statusCode: number;
  readonly detail: string;

  constructor(statusCode: number, detail: string) {
    super(detail);
    this.name = 'HttpError';
    this.statusCode = statusCode;
    this.detail = detail;
  }
}

/** 413, for a `Content-Length`, a raw body or a decoded body over the limit. */
export function requestTooLarge(size: number, max: number): HttpError {
  return new HttpError(413, `Request size (${size} bytes) exceeds maximum (${max} bytes)`);
}
