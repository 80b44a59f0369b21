/**
 * The REST API's one error boundary (SPEC §5): every failure becomes `{error: {code, message,
 * details?}}` with a stable code and its HTTP status. Engine errors map by their `code`; fastify's
 * own errors (schema validation, body parsing, size and media-type checks, unknown routes) map to
 * the same codes; anything else is a logged, generic 500 that leaks nothing.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorObject } from 'ajv';
import { formatSchemaErrors } from '../engine/schema.ts';
import { isBatonError, type ErrorCode, type ErrorDetail } from '../util/errors.ts';

/** The codes a REST client can see (SPEC §5); every other engine code maps onto one of these. */
export const REST_ERROR_CODES = [
  'validation_failed',
  'not_found',
  'conflict',
  'unauthorized',
  'forbidden',
  'rate_limited',
  'payload_too_large',
  'internal',
] as const;
export type RestErrorCode = (typeof REST_ERROR_CODES)[number];

export interface RestErrorBody {
  error: { code: RestErrorCode; message: string; details?: ErrorDetail[] };
}

/**
 * HTTP status and REST code of each engine error code. Codes outside the SPEC §5 list keep their
 * status but travel as the nearest REST code (the message still says what happened).
 */
const BY_ENGINE_CODE: Record<ErrorCode, readonly [status: number, code: RestErrorCode]> = {
  validation_failed: [400, 'validation_failed'],
  config_invalid: [400, 'validation_failed'],
  not_found: [404, 'not_found'],
  conflict: [409, 'conflict'],
  unauthorized: [401, 'unauthorized'],
  forbidden: [403, 'forbidden'],
  rate_limited: [429, 'rate_limited'],
  payload_too_large: [413, 'payload_too_large'],
  store_unavailable: [503, 'internal'],
  shutting_down: [503, 'internal'],
  timeout: [504, 'internal'],
  internal: [500, 'internal'],
  connect_failed: [502, 'internal'],
  http_status: [502, 'internal'],
  circuit_open: [503, 'internal'],
  retries_exhausted: [502, 'internal'],
  aborted: [503, 'internal'],
};

/** Where a fastify validation problem is: body paths are bare (`steps[0].name`), like the engine's. */
const ROOT_BY_PART: Record<string, string> = {
  body: '',
  querystring: 'query',
  params: 'params',
  headers: 'headers',
};

const PART_NAMES: Record<string, string> = {
  body: 'request body',
  querystring: 'query string',
  params: 'path parameters',
  headers: 'headers',
};

export interface RestError {
  status: number;
  body: RestErrorBody;
}

export function restError(
  status: number,
  code: RestErrorCode,
  message: string,
  details?: readonly ErrorDetail[],
): RestError {
  const error: RestErrorBody['error'] = { code, message };
  if (details && details.length > 0) error.details = [...details];
  return { status, body: { error } };
}

/**
 * Maps anything thrown in an /api route to its status and body. Returns `undefined` for an
 * unexpected error, which the caller logs and answers with a generic 500.
 */
export function toRestError(error: unknown): RestError | undefined {
  if (isBatonError(error)) {
    const [status, code] = BY_ENGINE_CODE[error.code];
    // A 5xx engine error can carry internals (a store's message): say only what kind it was.
    const message =
      status >= 500
        ? `${error.code.replaceAll('_', ' ')}: the request could not be completed`
        : error.message;
    return restError(status, code, message, status < 500 ? error.details : undefined);
  }
  const fastifyError = error as Partial<FastifyError> & { validationContext?: string };
  if (Array.isArray(fastifyError.validation)) {
    const root = ROOT_BY_PART[fastifyError.validationContext ?? 'body'] ?? '';
    const details = formatSchemaErrors(fastifyError.validation as ErrorObject[], root).map((detail) =>
      detail.path === '' ? { path: 'body', message: detail.message } : detail,
    );
    const where = PART_NAMES[fastifyError.validationContext ?? 'body'] ?? 'request';
    return restError(400, 'validation_failed', `invalid ${where}`, dedupe(details));
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return restError(413, 'payload_too_large', 'the request body is larger than the server accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return restError(415, 'validation_failed', 'unsupported Content-Type: send application/json', [
        { path: 'headers["content-type"]', message: 'must be application/json (or YAML for templates)' },
      ]);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return restError(400, 'validation_failed', 'the request body is empty', [
        { path: 'body', message: 'must be a JSON document' },
      ]);
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's other client errors (bad URL encoding, …): the message is fastify's, not ours.
    const code: RestErrorCode =
      status === 404 ? 'not_found' : status === 413 ? 'payload_too_large' : 'validation_failed';
    return restError(status, code, fastifyError.message ?? 'bad request');
  }
  return undefined;
}

/** The error handler of the /api routes. */
export function sendRestError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const mapped = toRestError(error);
  if (mapped) {
    if (mapped.status >= 500) request.log.warn({ err: error }, 'api.request.failed');
    return reply.code(mapped.status).type('application/json').send(mapped.body);
  }
  request.log.error({ err: error }, 'api.request.failed');
  const internal = restError(500, 'internal', 'internal error');
  return reply.code(internal.status).type('application/json').send(internal.body);
}

/** Ajv reports an `anyOf` both as a whole and branch by branch: one line per path and message. */
function dedupe(details: ErrorDetail[]): ErrorDetail[] {
  const seen = new Set<string>();
  return details.filter((detail) => {
    const key = `${detail.path ?? ''}\u0000${detail.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
