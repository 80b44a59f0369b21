/**
 * `npm run bench:asap`: requests/s and p99 latency of an echo `task.request` through Baton's
 * `POST /asap` with the whole pipeline on (JSON-RPC and envelope validation, the timestamp
 * window of replay protection, the §5.7 metrics), as `baton serve` runs it, against, in the
 * same run:
 *  - a bare fastify route that parses the same JSON-RPC body and answers the same reply shape;
 *  - an `@a2a-js/sdk` 1.x server (express, `DefaultRequestHandler`, `jsonRpcHandler`) answering
 *    the equivalent A2A echo: `SendMessage`, the 1.0 name of 0.3's `message/send`, whose agent
 *    replies with a message carrying the request's parts.
 * A fourth row, outside the bars, adds the opt-in nonce check (`requireNonce`) to Baton.
 * Each server runs in its own child process; wrk (or autocannon without it) drives it with 50
 * connections (see `load` for the bodies). The systems take turns within each run, in slices
 * (2 s each by default); ratios are medians of the run-by-run ratios. Writes its section of
 * BENCHMARKS.md and ends with one JSON line.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import {
  describeMachine,
  envInt,
  formatNumber,
  formatRatio,
  formatTable,
  markdownTable,
  median,
  renderSection,
  writeSection,
  type Column,
} from './lib/index.ts';
import { ECHO_AGENT, startEchoServer } from './lib/asap-echo.ts';
import { forkServer, reportPort, serverCpu, type ChildServer } from './lib/child-server.ts';
import { load as loadServer, loadGenerator, UNIQUE_MARK, wrkVersion } from './lib/load.ts';

const CONNECTIONS = envInt('BENCH_ASAP_CONNECTIONS', 50);
const SECONDS = envInt('BENCH_ASAP_SECONDS', 8);
/** Each run gives every system its SECONDS in this many slices, taken in turns. */
const SLICES = envInt('BENCH_ASAP_SLICES', 4);
const SLICE_SECONDS = Math.max(1, Math.round(SECONDS / SLICES));
const WARMUP_SECONDS = 2;
const BARS = { fastify: 0.6, a2a: 2 };
const AGENT = ECHO_AGENT;
const CLIENT = 'urn:asap:agent:bench-client';
/** The task input every system echoes back: a small order, as a typical skill call carries. */
const INPUT = {
  order_id: 'ord-2026-11-0042',
  customer: { id: 'cus-7', tier: 'gold' },
  items: [
    { sku: 'SKU-1', qty: 2 },
    { sku: 'SKU-9', qty: 1 },
  ],
  note: 'leave at the door',
};

type SystemName = 'baton' | 'baton-nonce' | 'fastify' | 'a2a';

interface System {
  name: SystemName;
  title: string;
  path: string;
  headers: Record<string, string>;
  /** A fresh request body; `id` makes every id in it that text. */
  body(id?: string): string;
  /** Whether an answer body is the echo (not a JSON-RPC error in an HTTP 200). */
  isEcho(answer: unknown): boolean;
  /** Every request needs a body of its own (a nonce may not repeat). */
  uniqueBodies?: boolean;
}

// ── request bodies ───────────────────────────────────────────────────────────

// Bodies are built by concatenation, not JSON.stringify, and ids come from a counter: on two
// cores the load generator shares the machine with the server and must cost it as little as
// possible. Every id, nonce and message id is still unique, and timestamps are current.
const RUN_ID = randomUUID().slice(0, 8);
const INPUT_JSON = JSON.stringify(INPUT);
let sequence = 0;
let stamp = { at: 0, text: '' };

function uniqueId(): string {
  sequence += 1;
  return `${RUN_ID}-${sequence.toString(36)}`;
}

/** The current time as an ISO timestamp, refreshed every 50 ms. */
function timestamp(): string {
  const now = Date.now();
  if (now - stamp.at >= 50) stamp = { at: now, text: new Date(now).toISOString() };
  return stamp.text;
}

function asapBody(id: string = uniqueId()): string {
  return (
    `{"jsonrpc":"2.0","method":"asap.send","params":{"envelope":{"id":"env-${id}","asap_version":"0.1",` +
    `"timestamp":"${timestamp()}","sender":"${CLIENT}","recipient":"${AGENT}","payload_type":"task.request",` +
    `"payload":{"conversation_id":"conv-1","skill_id":"shop.echo","input":${INPUT_JSON}},` +
    `"extensions":{"nonce":"nonce-${id}"}}},"id":"req-${id}"}`
  );
}

function a2aBody(id: string = uniqueId()): string {
  return (
    `{"jsonrpc":"2.0","id":"req-${id}","method":"SendMessage","params":{"message":` +
    `{"messageId":"msg-${id}","role":"ROLE_USER","parts":[{"data":${INPUT_JSON}}]}}}`
  );
}

const asapEcho = (answer: unknown): boolean =>
  (answer as { result?: { envelope?: { payload?: { result?: unknown } } } }).result?.envelope?.payload
    ?.result !== undefined;

const SYSTEMS: System[] = [
  {
    name: 'baton',
    title: 'Baton POST /asap (full pipeline)',
    path: '/asap',
    headers: { 'content-type': 'application/json' },
    body: asapBody,
    isEcho: asapEcho,
  },
  {
    name: 'baton-nonce',
    title: 'Baton POST /asap, + requireNonce',
    path: '/asap',
    headers: { 'content-type': 'application/json' },
    body: asapBody,
    isEcho: asapEcho,
    uniqueBodies: true,
  },
  {
    name: 'fastify',
    title: 'bare fastify route, same JSON',
    path: '/asap',
    headers: { 'content-type': 'application/json' },
    body: asapBody,
    isEcho: asapEcho,
  },
  {
    name: 'a2a',
    title: '@a2a-js/sdk SendMessage echo',
    path: '/',
    headers: { 'content-type': 'application/json', 'a2a-version': '1.0' },
    body: a2aBody,
    isEcho: (answer) =>
      (answer as { result?: { message?: { parts?: unknown[] } } }).result?.message?.parts?.length === 1,
  },
];

// ── the servers (child processes) ────────────────────────────────────────────

/** The reply envelope a task.request echo answers with. */
function echoReply(envelope: { id: string; sender: string; payload: { input: unknown } }) {
  return {
    id: randomUUID(),
    asap_version: '0.1',
    timestamp: new Date().toISOString(),
    sender: AGENT,
    recipient: envelope.sender,
    payload_type: 'task.response',
    payload: { task_id: 'tsk_echo', status: 'completed', result: envelope.payload.input },
    correlation_id: envelope.id,
  };
}

function serveBaton(requireNonce: boolean): Promise<number> {
  return startEchoServer({ logger: pino({ level: 'silent' }), requireNonce });
}

async function serveFastify(): Promise<number> {
  const { fastify } = await import('fastify');
  const app = fastify();
  // An async handler returning the answer: the way most fastify routes are written.
  // eslint-disable-next-line @typescript-eslint/require-await
  app.post('/asap', async (request) => {
    const body = request.body as { id: string; params: { envelope: Parameters<typeof echoReply>[0] } };
    return { jsonrpc: '2.0', id: body.id, result: { envelope: echoReply(body.params.envelope) } };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return (app.server.address() as AddressInfo).port;
}

async function serveA2a(): Promise<number> {
  const { default: express } = await import('express');
  const { DefaultRequestHandler, InMemoryTaskStore } = await import('@a2a-js/sdk/server');
  const { jsonRpcHandler, UserBuilder } = await import('@a2a-js/sdk/server/express');
  type Card = ConstructorParameters<typeof DefaultRequestHandler>[0];
  type Executor = ConstructorParameters<typeof DefaultRequestHandler>[2];
  type Event = Parameters<Parameters<Executor['execute']>[1]['publish']>[0];
  const card = {
    name: 'echo',
    description: 'Echoes the data part it is sent',
    version: '1.0.0',
    supportedInterfaces: [{ url: 'http://127.0.0.1/', protocolBinding: 'JSONRPC', protocolVersion: '1.0' }],
    capabilities: { streaming: false, pushNotifications: false },
    defaultInputModes: ['application/json'],
    defaultOutputModes: ['application/json'],
    skills: [],
  } as unknown as Card;
  const executor: Executor = {
    execute(context, bus) {
      const message = context.userMessage;
      const reply = {
        messageId: randomUUID(),
        contextId: context.contextId,
        taskId: '',
        role: 'ROLE_AGENT',
        parts: message.parts,
        metadata: undefined,
        extensions: [],
        referenceTaskIds: [],
      };
      bus.publish({ kind: 'message', data: reply } as unknown as Event);
      bus.finished();
      return Promise.resolve();
    },
    cancelTask: () => Promise.resolve(),
  };
  const handler = new DefaultRequestHandler(card, new InMemoryTaskStore(), executor);
  const app = express();
  app.use(express.json());
  app.use('/', jsonRpcHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication }));
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

const SERVERS: Record<SystemName, () => Promise<number>> = {
  baton: () => serveBaton(false),
  'baton-nonce': () => serveBaton(true),
  fastify: serveFastify,
  a2a: serveA2a,
};

async function serve(name: SystemName): Promise<void> {
  reportPort(await SERVERS[name]());
}

// ── the load ─────────────────────────────────────────────────────────────────

interface Measured {
  rps: number;
  p50: number;
  p99: number;
  /** Server CPU time (user + system) per request, in µs: steadier than req/s on a busy machine. */
  cpuUs: number;
  requests: number;
}

type Server = ChildServer;

/** One request through `fetch`, checked to be an echo: a benchmark of errors would lie. */
async function checkEcho(system: System, origin: string, body: string = system.body()): Promise<void> {
  const response = await fetch(`${origin}${system.path}`, { method: 'POST', headers: system.headers, body });
  const answer: unknown = await response.json();
  if (response.status !== 200 || !system.isEcho(answer)) {
    throw new Error(`${system.name} did not echo: ${response.status} ${JSON.stringify(answer)}`);
  }
}

/**
 * `seconds` of load. A system that needs every body unique (nonces) gets a fresh body per request;
 * the others get one fresh body per load, sent as is: on two cores the load generator shares the
 * machine with the server, and building every request would make it, not the server, the
 * bottleneck. The same body is sent once more afterwards and must still be echoed: a server
 * refusing repeats would show there.
 */
async function load(system: System, server: Server, seconds: number): Promise<Measured> {
  const body = system.body(system.uniqueBodies ? UNIQUE_MARK : undefined);
  const cpuBefore = await serverCpu(server.child);
  const result = await loadServer({
    url: `${server.origin}${system.path}`,
    headers: system.headers,
    body,
    unique: system.uniqueBodies === true,
    connections: CONNECTIONS,
    seconds,
  });
  const cpuUs = (await serverCpu(server.child)) - cpuBefore;
  if (result.failures > 0) throw new Error(`${system.name}: ${result.failures} failed requests`);
  await checkEcho(system, server.origin, system.uniqueBodies ? undefined : body);
  return {
    rps: result.rps,
    p50: result.p50Ms,
    p99: result.p99Ms,
    cpuUs: cpuUs / result.requests,
    requests: result.requests,
  };
}

/** Slices of one system as one measurement: rates over the whole time, latencies the median slice's. */
function combine(slices: readonly Measured[]): Measured {
  const requests = slices.reduce((sum, slice) => sum + slice.requests, 0);
  return {
    rps: slices.reduce((sum, slice) => sum + slice.rps, 0) / slices.length,
    p50: median(slices.map((slice) => slice.p50)),
    p99: median(slices.map((slice) => slice.p99)),
    cpuUs: slices.reduce((sum, slice) => sum + slice.cpuUs * slice.requests, 0) / requests,
    requests,
  };
}

/** Baton's own metrics after the run: every request was a success, and counted. */
async function batonErrors(origin: string): Promise<{ successes: number; errors: number }> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  const sum = (pattern: RegExp): number =>
    text
      .split('\n')
      .filter((line) => pattern.test(line))
      .reduce((total, line) => total + Number(line.split(' ').at(-1)), 0);
  return {
    successes: sum(/^asap_requests_success_total\{/),
    errors: sum(/^asap_requests_error_total\{/),
  };
}

// ── the run ──────────────────────────────────────────────────────────────────

interface Row {
  system: System;
  runs: Measured[];
  rps: number;
  p50: number;
  p99: number;
  cpuUs: number;
  ratio: number | null;
}

const COLUMNS: Column<Row>[] = [
  { title: 'server', value: (row) => row.system.title },
  { title: 'req/s (median)', value: (row) => formatNumber(Math.round(row.rps)), align: 'right' },
  { title: 'p50 ms', value: (row) => formatNumber(row.p50, 1), align: 'right' },
  { title: 'p99 ms', value: (row) => formatNumber(row.p99, 1), align: 'right' },
  { title: 'server CPU µs/req', value: (row) => formatNumber(Math.round(row.cpuUs)), align: 'right' },
  { title: 'runs (req/s)', value: (row) => row.runs.map((r) => formatNumber(Math.round(r.rps))).join(' / ') },
  {
    title: 'Baton ÷ this',
    value: (row) => (row.ratio === null ? '' : formatRatio(row.ratio)),
    align: 'right',
  },
];

async function main(): Promise<void> {
  const runs = envInt('BENCH_RUNS', 5);
  const log = (line: string): void => void process.stdout.write(`${line}\n`);
  const machine = await describeMachine({ packages: ['fastify', '@a2a-js/sdk', 'express', 'autocannon'] });
  if (wrkVersion !== null) machine.packages.wrk = wrkVersion;
  log(
    `bench:asap · ${loadGenerator} · echo task.request, ${CONNECTIONS} connections, ${SECONDS} s per system per run, ${runs} runs · load ${machine.loadavg.map((x) => x.toFixed(2)).join(' ')}`,
  );
  const servers = new Map<SystemName, Server>();
  const results = new Map<SystemName, Measured[]>(SYSTEMS.map((s) => [s.name, []]));
  try {
    for (const system of SYSTEMS) {
      servers.set(
        system.name,
        await forkServer(import.meta.filename, ['--server', system.name], system.name),
      );
    }
    for (const system of SYSTEMS) {
      const server = servers.get(system.name)!;
      await checkEcho(system, server.origin);
      await load(system, server, WARMUP_SECONDS);
    }
    for (let run = 1; run <= runs; run++) {
      const slices = new Map<SystemName, Measured[]>(SYSTEMS.map((system) => [system.name, []]));
      for (let slice = 0; slice < SLICES; slice++) {
        // Rotate who goes first, so that drift in machine load hits every system alike.
        const shift = run + slice;
        const order = SYSTEMS.map((_, i) => SYSTEMS[(i + shift) % SYSTEMS.length]!);
        for (const system of order) {
          slices.get(system.name)!.push(await load(system, servers.get(system.name)!, SLICE_SECONDS));
        }
      }
      const line = SYSTEMS.map((system) => {
        const measured = combine(slices.get(system.name)!);
        results.get(system.name)!.push(measured);
        return `${system.name} ${formatNumber(Math.round(measured.rps))} req/s p99 ${formatNumber(measured.p99, 1)} ms ${Math.round(measured.cpuUs)} µs CPU/req`;
      });
      log(`  run ${run}: ${line.join(' · ')}`);
    }
    for (const name of ['baton', 'baton-nonce'] as const) {
      const counted = await batonErrors(servers.get(name)!.origin);
      if (counted.errors > 0 || counted.successes === 0) {
        throw new Error(`${name} answered errors: ${JSON.stringify(counted)}`);
      }
      log(`  ${name} metrics: ${formatNumber(counted.successes)} successes, 0 errors`);
    }
  } finally {
    for (const { child } of servers.values()) child.disconnect();
  }

  const batonRuns = results.get('baton')!;
  const ratioVs = (name: SystemName): number =>
    median(batonRuns.map((r, i) => r.rps / results.get(name)![i]!.rps));
  const rows: Row[] = SYSTEMS.map((system) => {
    const measured = results.get(system.name)!;
    return {
      system,
      runs: measured,
      rps: median(measured.map((r) => r.rps)),
      p50: median(measured.map((r) => r.p50)),
      p99: median(measured.map((r) => r.p99)),
      cpuUs: median(measured.map((r) => r.cpuUs)),
      ratio: system.name === 'baton' ? null : ratioVs(system.name),
    };
  });
  const vsFastify = ratioVs('fastify');
  const vsA2a = ratioVs('a2a');
  const verdict = (ratio: number, bar: number) =>
    `${formatRatio(ratio)} (bar ≥ ${bar}× — ${ratio >= bar ? 'met' : 'NOT met'})`;
  log(`\n${formatTable(COLUMNS, rows)}`);
  log(`\nBaton vs bare fastify ${verdict(vsFastify, BARS.fastify)} · vs A2A SDK ${verdict(vsA2a, BARS.a2a)}`);

  writeSection(
    'asap',
    renderSection({
      title: 'ASAP endpoint (`npm run bench:asap`)',
      summary: `Echo \`task.request\` envelopes through Baton's \`POST /asap\` with the full pipeline on, against a bare fastify route and the A2A SDK in the same run, taking turns in ${SLICE_SECONDS} s slices; medians of ${runs} runs, ratios are medians of the run-by-run ratios. Bars: ≥ ${BARS.fastify}× bare fastify — ${vsFastify >= BARS.fastify ? 'met' : 'NOT met'} (${formatRatio(vsFastify)}); ≥ ${BARS.a2a}× the A2A SDK — ${vsA2a >= BARS.a2a ? 'met' : 'NOT met'} (${formatRatio(vsA2a)}).`,
      command: 'npm run bench:asap',
      machine,
      settings: {
        connections: CONNECTIONS,
        seconds_per_system_per_run: SECONDS,
        slices_per_run: SLICES,
        warmup_seconds: WARMUP_SECONDS,
        runs,
        request_bytes: Buffer.byteLength(asapBody()),
        load_generator: `${loadGenerator === 'wrk' ? 'wrk (one thread)' : 'autocannon (in the benchmark process)'}; each server in its own process`,
      },
      table: markdownTable(COLUMNS, rows),
      notes: [
        "Baton: `createServer` as `baton serve` configures it (the timestamp window always on, JSON-RPC and strict envelope validation, the asap-wire §5.7 metrics); a `task.request` handler registered with `app.asap.register` replies `task.response` with the input. After the runs Baton's own `/metrics` are checked: every request counted as a success, none as an error.",
        'Baton + requireNonce: the same with the opt-in nonce check (in-memory store, 600 s TTL): every nonce is kept for ten minutes, so the store grows by one entry per request; the row shows what that costs. It is outside the bars.',
        "Bare fastify: `app.post('/asap')` with fastify's JSON parser, answering the same JSON-RPC result with a reply envelope of the same fields; no validation, no window, no nonce, no metrics.",
        "A2A: `@a2a-js/sdk` 1.x, `DefaultRequestHandler` + `InMemoryTaskStore` + `jsonRpcHandler` on express 5, an `AgentExecutor` that publishes a reply message with the request's parts; requests are A2A 1.0 `SendMessage` (0.3's `message/send`) with the same order as a data part.",
        'Each load sends one fresh body (new ids, current timestamp) over and over, for Baton, fastify and A2A alike, and checks afterwards that the same body is still echoed; the requireNonce row needs a fresh body per request (its ids and nonce numbered by the load generator). Each system gets a 2 s warm-up and a checked echo before the runs.',
        "Load generator: `wrk` when it is installed (`apt install wrk`), else autocannon. On this 2-core machine the generator shares the CPUs with the server: autocannon (JavaScript) tops out near 17,000 requests/s, which flattens the fast servers' figures (bare fastify most), while wrk leaves the server the bottleneck. The server CPU column (user + system time of the server process per request) is the steadiest comparison.",
        `Baton ÷ bare fastify run by run: ${batonRuns.map((r, i) => formatRatio(r.rps / results.get('fastify')![i]!.rps)).join(' / ')}; Baton ÷ A2A: ${batonRuns.map((r, i) => formatRatio(r.rps / results.get('a2a')![i]!.rps)).join(' / ')}.`,
      ],
    }),
  );
  const figure = (name: SystemName) => rows.find((row) => row.system.name === name)!;
  log(
    JSON.stringify({
      baton_req_per_s: Math.round(figure('baton').rps),
      baton_p99_ms: round2(figure('baton').p99),
      baton_nonce_req_per_s: Math.round(figure('baton-nonce').rps),
      fastify_req_per_s: Math.round(figure('fastify').rps),
      fastify_p99_ms: round2(figure('fastify').p99),
      a2a_req_per_s: Math.round(figure('a2a').rps),
      a2a_p99_ms: round2(figure('a2a').p99),
      ratio_vs_fastify: Number(vsFastify.toFixed(3)),
      ratio_vs_a2a: Number(vsA2a.toFixed(3)),
    }),
  );
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

const serverFlag = process.argv.indexOf('--server');
if (serverFlag >= 0) await serve(process.argv[serverFlag + 1] as SystemName);
else await main();
