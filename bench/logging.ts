/**
 * `npm run bench:logging`: what Baton's logging costs on the hot paths, logs `silent` against
 * `info` written to a file (JSON lines, the production setup):
 *  - the ASAP endpoint: an echo `task.request` through `POST /asap` (as `bench:asap`) in one
 *    child server process whose logger level is switched between slices (same process, same
 *    JIT state: only the level differs), the first variant rotating; compared by server CPU
 *    time per request (steadier than req/s when the machine is shared) and by req/s;
 *  - the engine: draining one-step and three-step tasks on a fresh SQLite file (as
 *    `bench:engine`), the variants alternating, the first rotating; compared by process CPU
 *    time per task (and tasks/s).
 * Medians of the run-by-run ratios. Writes /tmp/logging-bench.md (`BENCH_LOGGING_OUT`) and ends
 * with one JSON line; `logging_overhead_pct` is the larger of the two overheads (target ≤ 5 %).
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { createEngine } from '../src/engine/index.ts';
import { createLogger } from '../src/observability/index.ts';
import { defineBenchWorkflows, timeDrain, type Shape } from './baton.ts';
import { ECHO_AGENT, startEchoServer } from './lib/asap-echo.ts';
import { forkServer, serverCpu, type ChildServer } from './lib/child-server.ts';
import { describeMachine, envInt, formatNumber, median } from './lib/index.ts';
import { load, loadGenerator } from './lib/load.ts';

const RUNS = envInt('BENCH_RUNS', 5);
const CONNECTIONS = envInt('BENCH_ASAP_CONNECTIONS', 50);
const SLICE_SECONDS = envInt('BENCH_LOGGING_SLICE_SECONDS', 2);
const SLICES = envInt('BENCH_LOGGING_SLICES', 2);
const TASKS = envInt('BENCH_LOGGING_TASKS', 5_000);
const CONCURRENCY = envInt('BENCH_LOGGING_CONCURRENCY', 256);
const OUT = process.env.BENCH_LOGGING_OUT ?? '/tmp/logging-bench.md';
const AGENT = ECHO_AGENT;
const CLIENT = 'urn:asap:agent:bench-client';
const VARIANTS = ['silent', 'info'] as const;
type Variant = (typeof VARIANTS)[number];

// ── the ASAP endpoint ────────────────────────────────────────────────────────

let sequence = 0;
function asapBody(): string {
  sequence += 1;
  const id = `${process.pid}-${sequence}`;
  return (
    `{"jsonrpc":"2.0","method":"asap.send","params":{"envelope":{"id":"env-${id}","asap_version":"0.1",` +
    `"timestamp":"${new Date().toISOString()}","sender":"${CLIENT}","recipient":"${AGENT}",` +
    `"payload_type":"task.request","payload":{"conversation_id":"conv-1","skill_id":"shop.echo",` +
    `"input":{"order_id":"ord-1","items":[{"sku":"SKU-1","qty":2}]}}}},"id":"req-${id}"}`
  );
}

/**
 * In the child: Baton's server as `baton serve` builds it, logging into `file`. Messages from the
 * parent: `{ level }` switches the level (answered `'ok'`), anything else asks for the CPU time
 * so far (µs, as `serverCpu` expects).
 */
async function serveBaton(file: string): Promise<void> {
  const logger = createLogger({ level: 'info', destination: file });
  const port = await startEchoServer({ logger });
  logger.info('bench.server.listening');
  process.send?.(port);
  process.on('message', (message: { level?: Variant } | string) => {
    if (typeof message === 'object' && message.level !== undefined) {
      logger.level = message.level;
      process.send?.('ok');
      return;
    }
    const { user, system } = process.cpuUsage();
    process.send?.(user + system);
  });
  process.on('disconnect', () => process.exit(0));
}

function setLevel(server: ChildServer, level: Variant): Promise<void> {
  return new Promise((resolve) => {
    server.child.once('message', () => resolve());
    server.child.send({ level });
  });
}

interface Slice {
  rps: number;
  cpuUs: number;
  requests: number;
}

async function loadSlice(server: ChildServer, seconds: number): Promise<Slice> {
  const cpuBefore = await serverCpu(server.child);
  const result = await load({
    url: `${server.origin}/asap`,
    headers: { 'content-type': 'application/json' },
    body: asapBody(),
    connections: CONNECTIONS,
    seconds,
  });
  const cpu = (await serverCpu(server.child)) - cpuBefore;
  if (result.failures > 0) throw new Error(`${result.failures} failed requests`);
  return { rps: result.rps, cpuUs: cpu / result.requests, requests: result.requests };
}

interface AsapRun {
  silent: Slice;
  info: Slice;
}

async function benchAsap(dir: string, log: (line: string) => void): Promise<AsapRun[]> {
  const server = await forkServer(import.meta.filename, ['--server', join(dir, 'asap-info.log')], 'baton');
  const runs: AsapRun[] = [];
  try {
    for (const variant of VARIANTS) {
      await setLevel(server, variant);
      await loadSlice(server, 2); // warm-up
    }
    for (let run = 0; run < RUNS; run++) {
      const slices: Record<Variant, Slice[]> = { silent: [], info: [] };
      for (let slice = 0; slice < SLICES; slice++) {
        const order = (run + slice) % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
        for (const variant of order) {
          await setLevel(server, variant);
          slices[variant].push(await loadSlice(server, SLICE_SECONDS));
        }
      }
      const measured = { silent: combine(slices.silent), info: combine(slices.info) };
      runs.push(measured);
      log(
        `  asap run ${run + 1}: silent ${formatNumber(Math.round(measured.silent.rps))} req/s ` +
          `${measured.silent.cpuUs.toFixed(1)} µs CPU/req · info ${formatNumber(Math.round(measured.info.rps))} req/s ` +
          `${measured.info.cpuUs.toFixed(1)} µs CPU/req`,
      );
    }
  } finally {
    server.child.disconnect();
  }
  return runs;
}

function combine(slices: readonly Slice[]): Slice {
  const requests = slices.reduce((sum, slice) => sum + slice.requests, 0);
  return {
    rps: slices.reduce((sum, slice) => sum + slice.rps, 0) / slices.length,
    cpuUs: slices.reduce((sum, slice) => sum + slice.cpuUs * slice.requests, 0) / requests,
    requests,
  };
}

// ── the engine drain ─────────────────────────────────────────────────────────

interface Drain {
  tasksPerSecond: number;
  /** Process CPU time (user + system) per task, µs. */
  cpuUs: number;
}

interface DrainRun {
  shape: Shape;
  silent: Drain;
  info: Drain;
}

/** One drain on a fresh SQLite file, logging at `variant` into `file`. */
async function drain(dir: string, shape: Shape, variant: Variant, file: string): Promise<Drain> {
  const store = join(dir, `drain-${variant}-${sequence++}.db`);
  const destination = pino.destination({ dest: file, sync: false, mkdir: true });
  const logger: Logger = createLogger({ level: variant, destination });
  const engine = await createEngine({
    store: `sqlite:${store}`,
    concurrency: CONCURRENCY,
    pollIntervalMs: 50,
    logger,
  });
  try {
    defineBenchWorkflows(engine);
    const before = process.cpuUsage();
    const result = await timeDrain(engine, shape, TASKS, 120_000);
    const { user, system } = process.cpuUsage(before);
    return { tasksPerSecond: result.tasksPerSecond, cpuUs: (user + system) / TASKS };
  } finally {
    await engine.close();
    destination.flushSync();
    destination.end();
    rmSync(store, { force: true });
    rmSync(`${store}-wal`, { force: true });
    rmSync(`${store}-shm`, { force: true });
  }
}

async function benchEngine(dir: string, log: (line: string) => void): Promise<DrainRun[]> {
  const runs: DrainRun[] = [];
  for (const shape of ['single', 'chain'] as const) {
    await drain(dir, shape, 'silent', join(dir, 'warmup.log'));
    for (let run = 0; run < RUNS; run++) {
      const rates = {} as Record<Variant, Drain>;
      const order = run % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
      for (const variant of order) {
        rates[variant] = await drain(dir, shape, variant, join(dir, `engine-${variant}.log`));
      }
      runs.push({ shape, ...rates });
      log(
        `  engine ${shape} run ${run + 1}: silent ${formatNumber(Math.round(rates.silent.tasksPerSecond))} tasks/s ` +
          `${rates.silent.cpuUs.toFixed(1)} µs CPU/task · info ${formatNumber(Math.round(rates.info.tasksPerSecond))} tasks/s ` +
          `${rates.info.cpuUs.toFixed(1)} µs CPU/task`,
      );
    }
  }
  return runs;
}

// ── the run ──────────────────────────────────────────────────────────────────

/** Overhead in % from run-by-run ratios (cost with logs ÷ cost without − 1). */
function overheadPct(ratios: readonly number[]): number {
  return Math.round((median(ratios) - 1) * 1000) / 10;
}

function linesIn(file: string): number {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line !== '').length;
  } catch {
    return 0;
  }
}

async function main(): Promise<void> {
  const log = (line: string): void => void process.stdout.write(`${line}\n`);
  const machine = await describeMachine({ packages: ['pino', 'fastify', 'autocannon'] });
  log(
    `bench:logging · ${loadGenerator} · ${RUNS} runs · asap ${SLICES}×${SLICE_SECONDS} s slices per variant per run · engine ${TASKS} tasks per drain`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'baton-bench-logging-'));
  try {
    const asap = await benchAsap(dir, log);
    const engine = await benchEngine(dir, log);
    const asapCpuPct = overheadPct(asap.map((run) => run.info.cpuUs / run.silent.cpuUs));
    const asapRpsPct = overheadPct(asap.map((run) => run.silent.rps / run.info.rps));
    const ofShape = (shape: Shape) => engine.filter((run) => run.shape === shape);
    const enginePct = (shape: Shape): number =>
      overheadPct(ofShape(shape).map((run) => run.info.cpuUs / run.silent.cpuUs));
    const engineRatePct = (shape: Shape): number =>
      overheadPct(ofShape(shape).map((run) => run.silent.tasksPerSecond / run.info.tasksPerSecond));
    const engineSinglePct = enginePct('single');
    const engineChainPct = enginePct('chain');
    const asapPct = asapCpuPct;
    const enginePctAll = Math.max(engineSinglePct, engineChainPct);
    const figures = {
      logging_overhead_pct: Math.max(asapPct, enginePctAll),
      target_pct: 5,
      asap_overhead_cpu_pct: asapCpuPct,
      asap_overhead_rps_pct: asapRpsPct,
      asap_silent_req_per_s: Math.round(median(asap.map((run) => run.silent.rps))),
      asap_info_req_per_s: Math.round(median(asap.map((run) => run.info.rps))),
      asap_silent_cpu_us_per_req: round1(median(asap.map((run) => run.silent.cpuUs))),
      asap_info_cpu_us_per_req: round1(median(asap.map((run) => run.info.cpuUs))),
      asap_info_log_bytes: sizeOf(join(dir, 'asap-info.log')),
      engine_single_overhead_cpu_pct: engineSinglePct,
      engine_chain_overhead_cpu_pct: engineChainPct,
      engine_single_overhead_rate_pct: engineRatePct('single'),
      engine_chain_overhead_rate_pct: engineRatePct('chain'),
      engine_single_silent_cpu_us_per_task: round1(median(ofShape('single').map((run) => run.silent.cpuUs))),
      engine_single_info_cpu_us_per_task: round1(median(ofShape('single').map((run) => run.info.cpuUs))),
      engine_single_silent_tasks_per_s: Math.round(median(ratesOf(engine, 'single', 'silent'))),
      engine_single_info_tasks_per_s: Math.round(median(ratesOf(engine, 'single', 'info'))),
      engine_chain_silent_tasks_per_s: Math.round(median(ratesOf(engine, 'chain', 'silent'))),
      engine_chain_info_tasks_per_s: Math.round(median(ratesOf(engine, 'chain', 'info'))),
      engine_info_log_lines: linesIn(join(dir, 'engine-info.log')),
      runs: RUNS,
    };
    writeFileSync(OUT, report(figures, machine.loadavg, asap, engine));
    log(`\nwrote ${OUT}`);
    log(JSON.stringify(figures));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function ratesOf(runs: readonly DrainRun[], shape: Shape, variant: Variant): number[] {
  return runs.filter((run) => run.shape === shape).map((run) => run[variant].tasksPerSecond);
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

function report(
  figures: Record<string, number>,
  loadavg: readonly number[],
  asap: readonly AsapRun[],
  engine: readonly DrainRun[],
): string {
  const asapRows = asap.map(
    (run, i) =>
      `| ${i + 1} | ${Math.round(run.silent.rps)} | ${Math.round(run.info.rps)} | ${run.silent.cpuUs.toFixed(1)} | ${run.info.cpuUs.toFixed(1)} |`,
  );
  const engineRows = engine.map(
    (run) =>
      `| ${run.shape} | ${Math.round(run.silent.tasksPerSecond)} | ${Math.round(run.info.tasksPerSecond)} | ${run.silent.cpuUs.toFixed(1)} | ${run.info.cpuUs.toFixed(1)} | ${((run.info.cpuUs / run.silent.cpuUs - 1) * 100).toFixed(1)} % |`,
  );
  return [
    '# Logging overhead (`npm run bench:logging`)',
    '',
    `Logs \`silent\` against \`info\` written to a file as JSON lines (pino, asynchronous sonic-boom destination), interleaved, ${figures.runs} runs, medians of run-by-run ratios. Load generator: ${loadGenerator}; load average at start ${loadavg.map((x) => x.toFixed(2)).join(' ')}.`,
    '',
    `**logging_overhead_pct = ${figures.logging_overhead_pct} %** (target ≤ 5 %; the larger of the ASAP and engine CPU overheads: server CPU per request, process CPU per task).`,
    '',
    '## ASAP endpoint (echo `task.request`, each variant in its own server process)',
    '',
    `Overhead: ${figures.asap_overhead_cpu_pct} % server CPU per request, ${figures.asap_overhead_rps_pct} % req/s.`,
    '',
    '| run | silent req/s | info req/s | silent µs CPU/req | info µs CPU/req |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...asapRows,
    '',
    '## Engine drain (fresh SQLite file per drain)',
    '',
    `Overhead (CPU per task): single ${figures.engine_single_overhead_cpu_pct} %, chain ${figures.engine_chain_overhead_cpu_pct} %; by tasks/s: single ${figures.engine_single_overhead_rate_pct} %, chain ${figures.engine_chain_overhead_rate_pct} %. Lines written by all info drains (a check that they log): ${figures.engine_info_log_lines}.`,
    '',
    '| shape | silent tasks/s | info tasks/s | silent µs CPU/task | info µs CPU/task | CPU overhead |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...engineRows,
    '',
    '```json',
    JSON.stringify(figures),
    '```',
    '',
  ].join('\n');
}

const serverFlag = process.argv.indexOf('--server');
if (serverFlag >= 0) await serveBaton(process.argv[serverFlag + 1]!);
else await main();
