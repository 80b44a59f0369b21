/**
 * HTTP load for the server benchmarks: `wrk` when it is on the PATH (a C load generator: on a
 * small machine that the server shares, it leaves the server the bottleneck), else autocannon.
 * POSTs one body (or a fresh one per request) over `connections` connections for `seconds`.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import autocannon from 'autocannon';

export interface LoadRequest {
  url: string;
  headers: Record<string, string>;
  /** The body; with `unique`, each `@@N@@` in it is replaced by an id unique to the request. */
  body: string;
  unique?: boolean;
  connections: number;
  seconds: number;
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Connection errors, timeouts and non-2xx answers. */
  failures: number;
}

export const UNIQUE_MARK = '@@N@@';

const WRK_SCRIPT = new URL('./wrk.lua', import.meta.url).pathname;

/** The installed wrk's version (`wrk 4.1.0`), or null; `BENCH_LOAD=autocannon` ignores wrk. */
export const wrkVersion: string | null = findWrk();

/** `wrk`, or `autocannon` when wrk is not installed. */
export const loadGenerator: 'wrk' | 'autocannon' = wrkVersion === null ? 'autocannon' : 'wrk';

function findWrk(): string | null {
  if (process.env.BENCH_LOAD === 'autocannon') return null;
  try {
    return versionIn(execFileSync('wrk', ['--version'], { encoding: 'utf8', stdio: 'pipe' }));
  } catch (error) {
    // wrk --version exits 1 after printing its version.
    const { status, stdout } = error as { status?: number; stdout?: string };
    return status === 1 ? versionIn(stdout ?? '') : null;
  }
}

function versionIn(text: string): string {
  return /wrk\s+(\S+)/.exec(text)?.[1] ?? 'unknown';
}

export function load(request: LoadRequest): Promise<LoadResult> {
  return loadGenerator === 'wrk' ? withWrk(request) : withAutocannon(request);
}

async function withWrk(request: LoadRequest): Promise<LoadResult> {
  const args = ['-t1', `-c${request.connections}`, `-d${request.seconds}s`, '-s', WRK_SCRIPT, request.url];
  const env = {
    ...process.env,
    WRK_BODY: request.body,
    WRK_UNIQUE: request.unique === true ? '1' : '0',
    WRK_PREFIX: randomUUID(),
    WRK_HEADERS: Object.entries(request.headers)
      .map(([name, value]) => `${name}: ${value}`)
      .join('\n'),
  };
  const { stdout } = await promisify(execFile)('wrk', args, { env });
  const line = stdout.trim().split('\n').at(-1) ?? '';
  const result = JSON.parse(line) as {
    requests: number;
    duration_us: number;
    errors: number;
    non2xx: number;
    p50_us: number;
    p99_us: number;
  };
  return {
    requests: result.requests,
    rps: result.requests / (result.duration_us / 1e6),
    p50Ms: result.p50_us / 1000,
    p99Ms: result.p99_us / 1000,
    failures: result.errors + result.non2xx,
  };
}

async function withAutocannon(request: LoadRequest): Promise<LoadResult> {
  // A prefix per run, as for wrk: a counter alone would repeat the nonces of the previous slice.
  const prefix = randomUUID();
  let counter = 0;
  const body = request.unique
    ? {
        setupRequest: (built: object) => ({
          ...built,
          body: request.body.replaceAll(UNIQUE_MARK, `${prefix}-${++counter}`),
        }),
      }
    : { body: request.body };
  const result = await autocannon({
    url: request.url,
    connections: request.connections,
    duration: request.seconds,
    requests: [{ method: 'POST', headers: request.headers, ...body }],
  });
  return {
    requests: result.requests.total,
    rps: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}
