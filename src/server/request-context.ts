/**
 * The ambient context of an HTTP request (src/util/context.ts): its correlation id, so that every
 * line logged while handling it, and every call it makes through the HTTP client, carries one.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import { randomUUID } from 'node:crypto';
import { runWithContext } from '../util/context.ts';

/** The header a caller names its correlation id with (the one Baton's HTTP client sends). */
export const CORRELATION_HEADER = 'x-correlation-id';

/** Longer values are not trusted as ids (they would only bloat every log line). */
const MAX_CORRELATION_LENGTH = 128;

/** The caller's `X-Correlation-ID`, when it sent a usable one. */
export function correlationIdOf(headers: IncomingHttpHeaders): string | undefined {
  const value = headers[CORRELATION_HEADER];
  const id = typeof value === 'string' ? value.trim() : undefined;
  return id !== undefined && id !== '' && id.length <= MAX_CORRELATION_LENGTH ? id : undefined;
}

/**
 * A `preHandler` hook: the rest of the request (handler, error handler, replies) runs with its
 * correlation id (the caller's, else a new one) in the ambient context. A `preHandler` rather
 * than `onRequest`: reading the body would lose an earlier context.
 */
export function requestContextHook(request: FastifyRequest, _reply: FastifyReply, done: () => void): void {
  runWithContext({ correlationId: correlationIdOf(request.headers) ?? randomUUID() }, done);
}
