/**
 * `npm run bench:http-client`: the Baton HTTP client (retries, circuit breaker and Prometheus
 * metrics on, correlation id and traceparent on every request) against bare undici (a Pool and
 * `pool.request`, the same connection count), both reading the whole body. GET requests to a
 * node:http server on loopback, run in a child process so that the server does not share the
 * client's thread. Within a run the two take turns in slices; the median of the runs is
 * reported. Writes its section of BENCHMARKS.md and ends with one JSON line.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { Pool } from 'undici';
import { createHttpClient } from '../src/client/index.ts';
import {
  describeMachine,
  envInt,
  formatNumber,
  formatRatio,
  formatTable,
  markdownTable,
  median,
  perSecond,
  renderSection,
  writeSection,
  type Column,
} from './lib/index.ts';
import { forkServer, reportPort } from './lib/child-server.ts';

const REQUESTS = envInt('BENCH_HTTP_REQUESTS', 20_000);
const IN_FLIGHT = envInt('BENCH_HTTP_IN_FLIGHT', 50);
const SLICES = envInt('BENCH_HTTP_SLICES', 10);
const WARMUP = Math.min(2_000, REQUESTS);
const BAR = 0.85;
const BODY = JSON.stringify({ ok: true, items: [1, 2, 3], message: 'hello from the benchmark server' });

// ── the server (child process) ───────────────────────────────────────────────

function serve(): void {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) });
    res.end(BODY);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => reportPort((server.address() as AddressInfo).port));
}

// ── the two clients ──────────────────────────────────────────────────────────

type Send = () => Promise<number>;

interface Opened {
  send: Send;
  close: () => Promise<void>;
}

interface System {
  name: string;
  open(origin: string): Opened;
}

const undici: System = {
  name: 'undici Pool.request (bare)',
  open(origin) {
    const pool = new Pool(origin, { connections: IN_FLIGHT });
    const options = { path: '/items', method: 'GET' } as const;
    return {
      send: async () => {
        const response = await pool.request(options);
        await response.body.text();
        return response.statusCode;
      },
      close: () => pool.close(),
    };
  },
};

const baton: System = {
  name: 'Baton client (retries, breaker, metrics)',
  open(origin) {
    const client = createHttpClient({
      maxConnections: IN_FLIGHT,
      retry: { maxAttempts: 3 },
      circuit: { failureThreshold: 5, cooldownMs: 30_000 },
      metrics: new Registry(),
    });
    const url = `${origin}/items`;
    return {
      send: async () => {
        const response = await client.get(url);
        response.text();
        return response.status;
      },
      close: () => client.close(),
    };
  },
};

/** `count` requests, `IN_FLIGHT` at a time (closed loop); resolves with the elapsed ms. */
async function drive(send: Send, count: number): Promise<number> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next += 1;
      const status = await send();
      if (status !== 200) throw new Error(`unexpected status ${status}`);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return performance.now() - started;
}

/**
 * One run: both clients on fresh connections, warmed up, then `REQUESTS` each in `SLICES`
 * slices taken in turns (ABBA order). Interleaving this finely makes the machine's noise (two
 * shared cores) hit both clients alike; a client's rate is its requests over its own time.
 */
async function measureRun(systems: readonly System[], origin: string): Promise<number[]> {
  const opened = systems.map((system) => system.open(origin));
  try {
    for (const { send } of opened) await drive(send, WARMUP);
    const elapsed = systems.map(() => 0);
    const slice = Math.ceil(REQUESTS / SLICES);
    for (let i = 0; i < SLICES; i++) {
      const order = opened.map((_, k) => k);
      if (i % 2 === 1) order.reverse();
      for (const k of order)
        elapsed[k] = (elapsed[k] ?? 0) + (await drive((opened[k] as Opened).send, slice));
    }
    return elapsed.map((ms) => perSecond(slice * SLICES, ms));
  } finally {
    await Promise.all(opened.map(({ close }) => close()));
  }
}

// ── the run ──────────────────────────────────────────────────────────────────

interface Row {
  system: string;
  median: number;
  runs: number[];
  ratio: number | null;
}

const COLUMNS: Column<Row>[] = [
  { title: 'client', value: (row) => row.system },
  { title: 'req/s (median)', value: (row) => formatNumber(Math.round(row.median)), align: 'right' },
  { title: 'runs', value: (row) => row.runs.map((r) => formatNumber(Math.round(r))).join(' / ') },
  { title: '× undici', value: (row) => (row.ratio === null ? '' : formatRatio(row.ratio)), align: 'right' },
];

async function main(): Promise<void> {
  const runs = envInt('BENCH_RUNS', 5); // quick runs: five pairs make a steadier median on a noisy machine
  const log = (line: string): void => void process.stdout.write(`${line}\n`);
  const before = await describeMachine({ packages: ['undici', 'cockatiel', 'prom-client'] });
  log(
    `bench:http-client · ${REQUESTS.toLocaleString('en')} GETs, ${IN_FLIGHT} in flight, ${runs} runs each · load ${before.loadavg.map((x) => x.toFixed(2)).join(' ')}`,
  );
  const { origin, child } = await forkServer(import.meta.filename, ['--server'], 'benchmark');
  const results = new Map<System, number[]>([
    [undici, []],
    [baton, []],
  ]);
  try {
    const rateOf = (system: System): number => results.get(system)?.at(-1) ?? 0;
    for (let run = 1; run <= runs; run++) {
      // Alternate who starts, so that drift in machine load hits both alike.
      const systems = run % 2 === 1 ? [undici, baton] : [baton, undici];
      const rates = await measureRun(systems, origin);
      systems.forEach((system, k) => results.get(system)?.push(rates[k] ?? 0));
      log(
        `  run ${run}: undici ${formatNumber(Math.round(rateOf(undici)))} req/s · baton ${formatNumber(Math.round(rateOf(baton)))} req/s · ${formatRatio(rateOf(baton) / rateOf(undici))}`,
      );
    }
  } finally {
    child.disconnect();
  }

  const undiciMedian = median(results.get(undici) ?? []);
  const batonMedian = median(results.get(baton) ?? []);
  // Each run interleaves the two clients slice by slice, so a run's ratio compares them under the
  // same load; the median of those paired ratios is steadier than a ratio of separate medians.
  const runRatios = (results.get(baton) ?? []).map((r, i) => r / (results.get(undici)?.[i] ?? r));
  const ratio = median(runRatios);
  const rows: Row[] = [
    { system: undici.name, median: undiciMedian, runs: results.get(undici) ?? [], ratio: null },
    { system: baton.name, median: batonMedian, runs: results.get(baton) ?? [], ratio },
  ];
  log(`\n${formatTable(COLUMNS, rows)}`);
  log(`\nratio ${formatRatio(ratio)} (bar ≥ ${BAR.toFixed(2)}× — ${ratio >= BAR ? 'met' : 'NOT met'})`);

  writeSection(
    'http-client',
    renderSection({
      title: 'HTTP client (`npm run bench:http-client`)',
      summary: `Closed-loop GETs to a node:http server on loopback (own process), Baton's client against bare undici with the same connection count; medians of ${runs} alternating runs; the ratio is the median of the run-by-run ratios. Bar: Baton ≥ ${BAR}× undici — ${ratio >= BAR ? 'met' : 'NOT met'} (${formatRatio(ratio)}).`,
      command: 'npm run bench:http-client',
      machine: before,
      settings: {
        requests: REQUESTS,
        in_flight: IN_FLIGHT,
        connections: IN_FLIGHT,
        warmup: WARMUP,
        runs,
        slices_per_run: SLICES,
        response: `200, ${Buffer.byteLength(BODY)} B JSON`,
      },
      table: markdownTable(COLUMNS, rows),
      notes: [
        'undici: `new Pool(origin, { connections })`, `pool.request({ path, method })`, then `body.text()`.',
        'Baton: `createHttpClient({ maxConnections, retry: { maxAttempts: 3 }, circuit: { failureThreshold: 5 }, metrics: new Registry() })`, `client.get(url)`, then `response.text()`; every request carries X-Correlation-ID and a traceparent, goes through the per-origin circuit breaker, and updates the Prometheus counters and histogram.',
        `Baton ÷ undici run by run: ${runRatios.map(formatRatio).join(' / ')}.`,
        'The two extra headers Baton sends on every request (X-Correlation-ID, traceparent) are part of the cost: undici serialises and the server parses them. Bare undici sending the same two headers is slower than without them by a similar margin.',
        `Each run opens fresh connections for both clients, sends ${WARMUP.toLocaleString('en')} warm-up requests through each, then times ${REQUESTS.toLocaleString('en')} per client in ${SLICES} slices taken in turns (ABBA), so that load from other processes on this shared 2-core machine hits both alike; a client's rate is its requests over the sum of its slices.`,
      ],
    }),
  );
  log(
    JSON.stringify({
      baton_req_per_s: Math.round(batonMedian),
      undici_req_per_s: Math.round(undiciMedian),
      ratio_vs_undici: Number(ratio.toFixed(3)),
    }),
  );
}

if (process.argv.includes('--server')) serve();
else await main();
