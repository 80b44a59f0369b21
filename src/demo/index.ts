import { rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { pino } from 'pino';
import { createEngine, type Engine } from '../engine/engine.ts';
import { createServer } from '../server/index.ts';
import { PermanentError, RetryableError } from '../engine/errors.ts';
import type { BatonEvent, TaskView } from '../engine/views.ts';

/**
 * `npm run demo`: real workflows on a fresh SQLite file, in front of the user. A diamond whose
 * payment step fails twice and succeeds on its third attempt after backoff, an `http` step whose
 * upstream answers 429 with Retry-After, an `asap` step asking a second Baton agent (its own store
 * and server, on another port), and a report that fails into the dead-letter queue, is fixed, and
 * is replayed without re-running what already succeeded.
 * Returns whether every outcome was the expected one (the CLI exits non-zero otherwise).
 */
export interface DemoOptions {
  /** SQLite file to create afresh (default `./data/demo.db`). */
  path?: string;
  write?: (line: string) => void;
  color?: boolean;
}

export interface DemoResult {
  ok: boolean;
  tasks: TaskView[];
  failures: string[];
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const path = resolve(options.path ?? './data/demo.db');
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  const out = makePrinter(
    options.write ?? ((line) => process.stdout.write(`${line}\n`)),
    options.color ?? false,
  );
  out.title(`Baton demo · SQLite store at ${path}`);

  const upstream = await startCarrierUpstream();
  const warehouse = await startWarehouseAgent(resolve(dirname(path), 'demo-warehouse.db'));
  const engine = await createEngine({
    store: `sqlite:${path}`,
    concurrency: 4,
    pollIntervalMs: 50,
    logger: pino({ level: 'silent' }),
  });
  const world = defineDemo(engine);
  const unsubscribe = engine.on('*', (event) => out.event(event));
  try {
    engine.startWorkers();
    const order = await runOrder(engine, out);
    const quote = await runQuote(engine, upstream, out);
    const restock = await runRestock(engine, warehouse, out);
    const report = await runReport(engine, world, out);
    const tasks = [order.task, quote.task, restock.task, report.task];
    const failures = [...order.failures, ...quote.failures, ...restock.failures, ...report.failures];
    out.summary(tasks);
    out.verdict(failures, dirname(path));
    return { ok: failures.length === 0, tasks, failures };
  } finally {
    unsubscribe();
    await engine.close({ timeoutMs: 2000 });
    await upstream.close();
    await warehouse.close();
  }
}

// ── the workflows ───────────────────────────────────────────────────────────

interface DemoWorld {
  reportBucketConfigured: boolean;
  extractRuns: number;
}

function defineDemo(engine: Engine): DemoWorld {
  const world: DemoWorld = { reportBucketConfigured: false, extractRuns: 0 };
  const register = (name: string, handler: Parameters<Engine['registerHandler']>[0]['handler']) =>
    engine.registerHandler({ namespace: 'demo', name, version: '1.0.0', handler });

  register('reserve-stock', (ctx) => ({ reserved: (ctx.input as { items: number }).items }));
  register('charge-card', (ctx) => {
    if (ctx.attempt < 3) throw new RetryableError(`payment gateway timeout (attempt ${ctx.attempt})`);
    return { charge_id: `ch_${ctx.task.id.slice(-6)}`, attempt: ctx.attempt };
  });
  register('pack', () => ({ parcel: 'PKG-1' }));
  register('ship', (ctx) => ({
    tracking: 'TRK-42',
    parcel: (ctx.results.pack as { parcel: string }).parcel,
  }));
  register('order-rest', (ctx) => {
    const { wanted } = ctx.input as { wanted: number };
    const answer = ctx.results['ask-warehouse'] as { result: { ship: { available: number } } };
    return { from_supplier: Math.max(0, wanted - answer.result.ship.available) };
  });
  register('extract', () => {
    world.extractRuns += 1;
    return { rows: 1280 };
  });
  register('summarise', (ctx) => ({ total: (ctx.results.extract as { rows: number }).rows * 3 }));
  register('publish', () => {
    if (!world.reportBucketConfigured) throw new PermanentError('report bucket is not configured');
    return { url: 'file://reports/nightly.json' };
  });

  engine.registerTemplate({
    namespace: 'demo',
    name: 'order-fulfilment',
    version: '1.0.0',
    description: 'A diamond: reserve, then charge and pack in parallel, then ship',
    input_schema: {
      type: 'object',
      required: ['order_id', 'items'],
      properties: { order_id: { type: 'string' }, items: { type: 'integer' } },
    },
    steps: [
      { name: 'reserve', handler: 'demo/reserve-stock' },
      {
        name: 'charge',
        handler: 'demo/charge-card',
        depends_on: ['reserve'],
        retry: { max_attempts: 5, backoff: { base_ms: 150, factor: 2, max_ms: 2000, jitter: 0.1 } },
      },
      { name: 'pack', handler: 'demo/pack', depends_on: ['reserve'] },
      { name: 'ship', handler: 'demo/ship', depends_on: ['charge', 'pack'] },
    ],
  });
  engine.registerTemplate({
    namespace: 'demo',
    name: 'shipping-quote',
    version: '1.0.0',
    description: "Ask a carrier's API for a quote; it rate-limits with 429 and Retry-After",
    input_schema: {
      type: 'object',
      required: ['carrier_url', 'weight_kg'],
      properties: { carrier_url: { type: 'string' }, weight_kg: { type: 'number' } },
    },
    steps: [
      {
        name: 'quote',
        handler: { type: 'http', url: '{{input.carrier_url}}/quotes?weight_kg={{input.weight_kg}}' },
        retry: { max_attempts: 3 },
      },
    ],
  });
  engine.registerTemplate({
    namespace: 'demo',
    name: 'restock',
    version: '1.0.0',
    description: 'Ask the warehouse agent over ASAP how many units it can ship, then order the rest',
    steps: [
      {
        name: 'ask-warehouse',
        handler: {
          type: 'asap',
          agent_url: '{{input.warehouse_url}}',
          skill_id: 'warehouse.check-stock',
          input: { sku: '{{input.sku}}', wanted: '{{input.wanted}}' },
        },
      },
      { name: 'order-rest', handler: 'demo/order-rest', depends_on: ['ask-warehouse'] },
    ],
  });
  engine.registerTemplate({
    namespace: 'demo',
    name: 'nightly-report',
    version: '1.0.0',
    description: 'Extract, summarise and publish a report',
    steps: [
      { name: 'extract', handler: 'demo/extract' },
      { name: 'summarise', handler: 'demo/summarise', depends_on: ['extract'] },
      { name: 'publish', handler: 'demo/publish', depends_on: ['summarise'], retry: { max_attempts: 2 } },
    ],
  });
  return world;
}

type Printer = ReturnType<typeof makePrinter>;

async function runOrder(engine: Engine, out: Printer): Promise<{ task: TaskView; failures: string[] }> {
  out.section('1. Order fulfilment: a diamond with a flaky payment step');
  const { task } = await engine.startTask({
    template: 'demo.order-fulfilment',
    input: { order_id: 'A-1001', items: 3 },
  });
  const done = await engine.waitForTask(task.id, { timeoutMs: 30_000 });
  const charge = done.steps.find((step) => step.name === 'charge');
  const failures: string[] = [];
  if (done.status !== 'completed') failures.push(`order task ended ${done.status}, expected completed`);
  if (charge?.attempts !== 3) failures.push(`charge took ${charge?.attempts} attempts, expected 3`);
  return { task: done, failures };
}

async function runQuote(
  engine: Engine,
  upstream: CarrierUpstream,
  out: Printer,
): Promise<{ task: TaskView; failures: string[] }> {
  out.section('2. Shipping quote: the carrier answers 429 with Retry-After, and the step waits');
  const { task } = await engine.startTask({
    template: 'demo.shipping-quote',
    input: { carrier_url: upstream.url, weight_kg: 2.5 },
  });
  const done = await engine.waitForTask(task.id, { timeoutMs: 30_000 });
  const [first, second] = upstream.requests;
  const waited = first !== undefined && second !== undefined ? second - first : undefined;
  out.note(
    `the carrier said Retry-After: ${RETRY_AFTER_S} s; the second request came ${waited ?? '?'} ms later`,
  );
  const failures: string[] = [];
  if (done.status !== 'completed') failures.push(`quote task ended ${done.status}, expected completed`);
  if (upstream.requests.length !== 2)
    failures.push(`the carrier got ${upstream.requests.length} requests, expected 2`);
  if (waited !== undefined && waited < RETRY_AFTER_S * 1000) {
    failures.push(`the retry came after ${waited} ms, before the ${RETRY_AFTER_S} s Retry-After`);
  }
  return { task: done, failures };
}

async function runRestock(
  engine: Engine,
  warehouse: WarehouseAgent,
  out: Printer,
): Promise<{ task: TaskView; failures: string[] }> {
  out.section('3. Restock: a step asks a second Baton agent over ASAP');
  out.note(`warehouse agent ${WAREHOUSE_AGENT} listening on ${warehouse.url}`);
  const { task } = await engine.startTask({
    template: 'demo.restock',
    input: { warehouse_url: warehouse.url, sku: 'BLUE-MUG', wanted: 12 },
  });
  const done = await engine.waitForTask(task.id, { timeoutMs: 30_000 });
  const answer = done.steps.find((step) => step.name === 'ask-warehouse')?.result as
    { task_id: string; result: { ship: { available: number } } } | undefined;
  const ordered = done.steps.find((step) => step.name === 'order-rest')?.result as
    { from_supplier: number } | undefined;
  out.note(
    `the warehouse ran its own task ${answer?.task_id ?? '?'}: ${answer?.result.ship.available ?? '?'} in stock; ordering ${ordered?.from_supplier ?? '?'} from the supplier`,
  );
  const failures: string[] = [];
  if (done.status !== 'completed') failures.push(`restock task ended ${done.status}, expected completed`);
  if (ordered?.from_supplier !== 12 - WAREHOUSE_STOCK) {
    failures.push(`restock ordered ${ordered?.from_supplier}, expected ${12 - WAREHOUSE_STOCK}`);
  }
  return { task: done, failures };
}

// ── a second Baton agent: the warehouse ──────────────────────────────────────

const WAREHOUSE_AGENT = 'urn:asap:agent:warehouse';
const WAREHOUSE_STOCK = 5;

interface WarehouseAgent {
  url: string;
  close(): Promise<void>;
}

/** Another Baton (its own engine, store and ASAP server) whose one skill checks stock. */
async function startWarehouseAgent(path: string): Promise<WarehouseAgent> {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  const engine = await createEngine({
    store: `sqlite:${path}`,
    pollIntervalMs: 50,
    logger: pino({ level: 'silent' }),
  });
  engine.registerHandler({
    namespace: 'warehouse',
    name: 'count',
    handler: (ctx) => {
      const { sku, wanted } = ctx.input as { sku: string; wanted: number };
      return { sku, available: Math.min(wanted, WAREHOUSE_STOCK) };
    },
  });
  engine.registerTemplate({
    namespace: 'warehouse',
    name: 'check-stock',
    description: 'How many units of a SKU can ship today',
    steps: [{ name: 'ship', handler: 'warehouse/count' }],
  });
  engine.startWorkers();
  const app = createServer({ engine, config: { agentId: WAREHOUSE_AGENT } });
  try {
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    return {
      url,
      close: async () => {
        await app.close();
        await engine.close({ timeoutMs: 2000 });
      },
    };
  } catch (error) {
    await engine.close();
    throw error;
  }
}

// ── a carrier API that rate-limits its first request ─────────────────────────

const RETRY_AFTER_S = 1;

interface CarrierUpstream {
  url: string;
  /** When each request arrived (ms since the epoch). */
  requests: number[];
  close(): Promise<void>;
}

async function startCarrierUpstream(): Promise<CarrierUpstream> {
  const requests: number[] = [];
  const server = createHttpServer((_request, res) => {
    requests.push(Date.now());
    if (requests.length === 1) {
      res.writeHead(429, { 'retry-after': String(RETRY_AFTER_S), 'content-type': 'text/plain' });
      res.end('too many requests');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ carrier: 'demo-post', price_eur: 7.9, days: 2 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function runReport(
  engine: Engine,
  world: DemoWorld,
  out: Printer,
): Promise<{ task: TaskView; failures: string[] }> {
  out.section('4. Nightly report: fails into the dead-letter queue, then is replayed');
  const { task } = await engine.startTask({ template: 'demo.nightly-report', input: { date: '2026-11-23' } });
  const failed = await engine.waitForTask(task.id, { timeoutMs: 30_000 });
  const failures: string[] = [];
  if (failed.status !== 'failed') failures.push(`report ended ${failed.status}, expected failed`);
  const entry = (await engine.listDeadLetters()).dead_letters.find((letter) => letter.task_id === task.id);
  if (!entry) failures.push('no dead-letter entry for the failed report');
  out.note(
    `dead-letter queue: ${entry ? `${entry.id} (step ${entry.step}: ${entry.error?.message})` : 'empty'}`,
  );
  out.note('fixing the cause: configuring the report bucket, then replaying the dead letter');
  world.reportBucketConfigured = true;
  if (entry) await engine.replayDeadLetter(entry.id);
  const done = await engine.waitForTask(task.id, { timeoutMs: 30_000 });
  if (done.status !== 'completed') failures.push(`replayed report ended ${done.status}, expected completed`);
  if (world.extractRuns !== 1)
    failures.push(`extract ran ${world.extractRuns} times, expected once (replay keeps completed results)`);
  return { task: done, failures };
}

// ── output ───────────────────────────────────────────────────────────────────

function makePrinter(write: (line: string) => void, color: boolean) {
  const paint = (code: string, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const names = new Map<string, string>();
  return {
    title: (text: string) => write(paint('1', text)),
    section: (text: string) => write(`\n${paint('1;36', text)}`),
    note: (text: string) => write(`  ${paint('2', '·')} ${text}`),
    event(event: BatonEvent) {
      if (event.type === 'task.created') names.set(event.task_id ?? '', String(event.task_id).slice(-6));
      const line = describeEvent(event);
      if (line) write(`  ${paint(line.color, line.mark)} ${line.text}`);
    },
    summary(tasks: TaskView[]) {
      write(`\n${paint('1', 'Summary')}`);
      const rows = tasks.map((task) => [
        task.template,
        task.status,
        String(task.steps.length),
        String(task.steps.reduce((sum, step) => sum + step.attempts, 0)),
        `${Date.parse(task.finished_at ?? task.created_at) - Date.parse(task.created_at)} ms`,
      ]);
      for (const line of formatTable(['task', 'status', 'steps', 'attempts', 'duration'], rows))
        write(`  ${line}`);
    },
    verdict(failures: string[], dataDir: string) {
      if (failures.length === 0) {
        write(`\n${paint('1;32', 'Every outcome was as expected.')}`);
        write(
          `Next: \`npm start\` serves the example templates over ASAP on http://127.0.0.1:8080; README.md documents the engine API, the HTTP and ASAP clients and the CLI (\`npm run baton -- --help\`). This run's stores are in ${dataDir}.`,
        );
      } else {
        write(`\n${paint('1;31', 'Unexpected outcomes:')}`);
        for (const failure of failures) write(`  - ${failure}`);
      }
    },
  };
}

function describeEvent(event: BatonEvent): { mark: string; color: string; text: string } | undefined {
  const where = event.step ?? '';
  switch (event.type) {
    case 'step.started':
      return { mark: '▶', color: '34', text: `${where} started (attempt ${event.attempt})` };
    case 'step.completed':
      return { mark: '✓', color: '32', text: `${where} completed in ${String(event.data?.duration_ms)} ms` };
    case 'step.retry_scheduled':
      return {
        mark: '↻',
        color: '33',
        text: `${where} failed: ${event.error?.message}; retrying in ${String(event.data?.delay_ms)} ms`,
      };
    case 'step.failed':
      return { mark: '✗', color: '31', text: `${where} failed for good: ${event.error?.message}` };
    case 'step.skipped':
      return { mark: '–', color: '2', text: `${where} skipped (${event.reason})` };
    case 'dlq.added':
      return { mark: '☠', color: '31', text: `task moved to the dead-letter queue` };
    case 'task.replayed':
      return { mark: '⟲', color: '35', text: 'task replayed' };
    case 'task.completed':
    case 'task.failed':
      return {
        mark: '■',
        color: event.type === 'task.completed' ? '1;32' : '1;31',
        text: `task ${event.to}`,
      };
    default:
      return undefined;
  }
}

function formatTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((width) => '─'.repeat(width)).join('  '), ...rows.map(line)];
}
