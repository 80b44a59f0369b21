/**
 * The `http` step's configuration (SPEC §5):
 * `{type: http, method?, url, headers?, body?, timeout_ms?, expect?: {status}}`.
 * Checked when the template is registered; `{{input.…}}` paths again when a task starts.
 */
import type { ErrorDetail } from '../../util/errors.ts';
import type { BuiltinConfig } from '../handler.ts';
import { checkInteger, checkKnownFields, checkTemplatedUrl } from './config-checks.ts';
import { checkInputReferences, checkReferences } from './placeholders.ts';

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

const KEYS = new Set(['type', 'method', 'url', 'headers', 'body', 'timeout_ms', 'expect']);
/** Fields whose strings may hold `{{…}}` references. */
const TEMPLATED = ['url', 'headers', 'body'] as const;
const MAX_TIMEOUT_MS = 24 * 60 * 60 * 1000;

/** The configuration after checking, with defaults filled in. */
export interface HttpStepConfig {
  method: HttpMethod;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  timeoutMs: number | undefined;
  /** Statuses that count as success; `undefined` means any 2xx. */
  expectStatus: ReadonlySet<number> | undefined;
}

export function checkHttpConfig(config: BuiltinConfig, upstream: ReadonlySet<string>): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  checkKnownFields(config, KEYS, problems);
  checkMethod(config.method, problems);
  checkTemplatedUrl(
    config.url,
    'url',
    'is required: an http(s) URL, which may use {{input.…}} references',
    problems,
  );
  checkHeaders(config.headers, problems);
  checkInteger(config.timeout_ms, 'timeout_ms', 1, MAX_TIMEOUT_MS, problems);
  checkExpect(config.expect, problems);
  for (const key of TEMPLATED) problems.push(...checkReferences(config[key], key, upstream));
  return problems;
}

export function checkHttpInput(config: BuiltinConfig, input: unknown): ErrorDetail[] {
  return TEMPLATED.flatMap((key) => checkInputReferences(config[key], key, input));
}

/** Reads a configuration that `checkHttpConfig` accepted (it is frozen into the step row). */
export function readHttpConfig(config: BuiltinConfig): HttpStepConfig {
  const expect = (config.expect as { status?: number | number[] } | undefined)?.status;
  return {
    method: ((config.method as string | undefined)?.toUpperCase() ?? 'GET') as HttpMethod,
    url: config.url as string,
    headers: (config.headers as Record<string, string> | undefined) ?? {},
    body: config.body,
    timeoutMs: config.timeout_ms as number | undefined,
    expectStatus: expect === undefined ? undefined : new Set(Array.isArray(expect) ? expect : [expect]),
  };
}

function checkMethod(method: unknown, problems: ErrorDetail[]): void {
  if (method === undefined) return;
  if (typeof method !== 'string' || !(HTTP_METHODS as readonly string[]).includes(method.toUpperCase())) {
    problems.push({ path: 'method', message: `must be one of ${HTTP_METHODS.join(', ')}` });
  }
}

function checkHeaders(headers: unknown, problems: ErrorDetail[]): void {
  if (headers === undefined) return;
  if (!isPlainObject(headers)) {
    problems.push({ path: 'headers', message: 'must be an object of header names to string values' });
    return;
  }
  for (const [name, value] of Object.entries(headers)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      problems.push({ path: `headers`, message: `'${name}' is not a valid header name` });
    } else if (typeof value !== 'string') {
      problems.push({ path: `headers.${name}`, message: 'must be a string' });
    }
  }
}

function checkExpect(expect: unknown, problems: ErrorDetail[]): void {
  if (expect === undefined) return;
  const isStatus = (entry: unknown) =>
    Number.isInteger(entry) && (entry as number) >= 100 && (entry as number) <= 599;
  const status = isPlainObject(expect) && Object.keys(expect).join() === 'status' ? expect.status : undefined;
  const statuses: unknown[] = Array.isArray(status) ? status : [status];
  if (statuses.length === 0 || !statuses.every(isStatus)) {
    problems.push({
      path: 'expect',
      message: 'must be { status: 200 } or { status: [200, 404] } (HTTP statuses)',
    });
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
