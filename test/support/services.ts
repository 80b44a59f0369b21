// Shared policy for test suites that need a real external service (PostgreSQL, Redis): probe it
// quickly, then skip the suite outside CI or fail it under CI, always with a message that says
// what was tried and how to fix it.
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { describe, test } from 'node:test';
import type { SuiteContext } from 'node:test';

/** Connect timeout for every probe: an unreachable service costs a test file at most this long. */
export const PROBE_TIMEOUT_MS = 1000;

/** A service a suite depends on, as described by `postgresService()` or `redisService()`. */
export interface Service {
  /** Human name used in messages: `PostgreSQL`, `Redis`. */
  readonly name: string;
  /** Connection URL; its password is masked in every message. */
  readonly url: string;
  /** `host:port` shown in messages; never contains credentials. */
  readonly address: string;
  /** The environment variable that points the tests at another server. */
  readonly envVar: string;
  /** Resolves when the service answers, rejects otherwise; must leave no socket or timer behind. */
  probe(): Promise<void>;
}

export type ServiceCheck =
  | { readonly available: true }
  | { readonly available: false; readonly action: 'skip' | 'fail'; readonly reason: string };

/** True when running under CI (`CI=true`), where a suite that cannot reach its service must fail. */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI === 'true';
}

/**
 * Probes `service` and decides what a suite that needs it should do: run, skip (unreachable,
 * outside CI) or fail (unreachable, `CI=true`). `reason` is the message to show in either case.
 */
export async function requireService(
  service: Service,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ServiceCheck> {
  try {
    await service.probe();
    return { available: true };
  } catch (error) {
    const ci = isCi(env);
    const what = `${service.name} not reachable at ${service.address} (${describeError(error)})`;
    const verdict = ci ? 'failing because CI=true (a skipped suite is a CI failure)' : 'skipping';
    const reason = maskPassword(`${what}; ${verdict}. Start it or set ${service.envVar}.`, service.url);
    return { available: false, action: ci ? 'fail' : 'skip', reason };
  }
}

/**
 * Declares a `describe()` suite that needs `service`. The suite probes the service first, then
 * calls `fn` to declare its tests and hooks. When the service is unreachable `fn` is not called;
 * the suite holds one test, `needs <service>`, skipped with the reason, or under `CI=true`
 * failing with it. Service-specific wrappers: `describePostgres`, `describeRedis`.
 */
export function describeWithService(name: string, service: Service, fn: (suite: SuiteContext) => void): void {
  // The probe runs inside the (async) suite function rather than before describe() is called: a
  // top-level await between registrations lets node:test run the file's after() hooks early.
  describe(name, async (suite) => {
    const check = await requireService(service);
    if (check.available) return fn(suite);
    const title = `needs ${service.name}`;
    if (check.action === 'skip') {
      test(title, { skip: check.reason }, () => {});
    } else {
      test(title, () => {
        throw new Error(check.reason);
      });
    }
  });
}

/** A short description of a connection error: `connect ECONNREFUSED`, `connect ETIMEDOUT`, or its message. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const { code, syscall } = error as NodeJS.ErrnoException;
    if (code && syscall) return `${syscall} ${code}`;
    if (error.message) return error.message;
    if (code) return code;
  }
  return String(error);
}

/** Replaces the URL's password, wherever it appears in `text`, with `***`. */
export function maskPassword(text: string, url: string): string {
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    // An unparsable URL has no password we could find; nothing to mask.
  }
  return password ? text.replaceAll(password, '***') : text;
}

/** `host:port` of a URL, for messages: credentials, database and options are left out. */
export function displayAddress(url: string, defaultPort: number): string {
  try {
    const parsed = new URL(url);
    const host = parsed.hostname || parsed.searchParams.get('host') || 'localhost';
    return `${host}:${parsed.port || defaultPort}`;
  } catch {
    return '(unparsable URL)';
  }
}

/** The test file's name reduced to `[a-z0-9_]`, at most 30 characters, for database and key names. */
export function fileSlug(filePath: string | undefined = process.argv[1]): string {
  const slug = basename(filePath ?? '')
    .replace(/(\.test)?\.[cm]?[jt]s$/, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 30);
  return slug || 'test';
}

/** 10 random hex characters: keeps names unique across files, processes and runs. */
export function randomId(): string {
  return randomBytes(5).toString('hex');
}
