/**
 * Correlation ids and W3C trace context (https://www.w3.org/TR/trace-context/) for outbound
 * requests. Ids come from a pooled random buffer: one `randomFillSync` serves hundreds of
 * requests, which matters on the hot path.
 */
import { randomFillSync, randomUUID } from 'node:crypto';

const pool = Buffer.allocUnsafe(4096);
let offset = pool.length;

function randomHex(bytes: number): string {
  if (offset + bytes > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return hex;
}

const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** 32 lowercase hex characters, never all zeros (an invalid trace id). */
export function newTraceId(): string {
  const id = randomHex(16);
  return id === ZERO_TRACE ? newTraceId() : id;
}

/** 16 lowercase hex characters, never all zeros. */
export function newSpanId(): string {
  const id = randomHex(8);
  return id === ZERO_SPAN ? newSpanId() : id;
}

export function newCorrelationId(): string {
  return randomUUID();
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export interface TraceParent {
  traceId: string;
  /** The parent span's id (the caller's span). */
  spanId: string;
  flags: string;
}

/** The trace id, span id and flags of a valid `traceparent`, or `undefined`. */
export function parseTraceparent(value: string | undefined): TraceParent | undefined {
  if (value === undefined) return undefined;
  const match = TRACEPARENT.exec(value.trim().toLowerCase());
  if (match === null) return undefined;
  const [, version, traceId, spanId, flags] = match as unknown as [string, string, string, string, string];
  if (version === 'ff' || traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, flags };
}

/** `00-<trace id>-<new span id>-<flags>`: one new span per attempt, inside the caller's trace. */
export function childTraceparent(traceId: string, flags: string): string {
  return `00-${traceId}-${newSpanId()}-${flags}`;
}
