/**
 * `npm run bench:postgres`: Baton on PostgreSQL against graphile-worker (batched and unbatched),
 * pg-boss and BullMQ (on the local Redis), in one run on one machine:
 *
 * - drain throughput of pre-inserted single-step no-op tasks;
 * - serial enqueue→start latency;
 * - 3-step chains and 4-step diamonds, each expressed in the system's own way: drain throughput
 *   (steps/s) and closed-loop end-to-end latency (see bench/lib/workflows.ts);
 * - how Baton's claim time grows from 1,000 to 1,000,000 pending tasks (bench/claim-growth.ts).
 *
 * Throughput figures are medians of `BENCH_RUNS` runs, interleaved system by system so machine
 * noise hits all alike; latencies are one measurement of many samples each. Writes the `postgres`
 * section of BENCHMARKS.md (`BENCH_REPORT_FILE` to redirect) and ends with one JSON line.
 */
import { pino } from 'pino';
import { createEngine, type Engine, type StepContext } from '../src/engine/index.ts';
import {
  benchRuns,
  closedLoopLatency,
  createFreshDatabase,
  describeMachine,
  envInt,
  FLOW_SHAPES,
  formatMs,
  formatNumber,
  formatRatio,
  formatTable,
  LAST_STEP,
  markdownTable,
  median,
  percentiles,
  renderSection,
  serialStartLatency,
  Waiters,
  writeSection,
  type Column,
  type FlowShape,
  type Percentiles,
} from './lib/index.ts';
import { defineBenchWorkflows, timeDrain, type DrainResult, type Shape } from './baton.ts';
import { claimGrowthPostgres, type ClaimGrowthResult } from './claim-growth.ts';
import {
  drainGraphile,
  drainGraphileFlows,
  latencyGraphile,
  latencyGraphileFlows,
} from './peers/graphile.ts';
import {
  drainPgBoss,
  drainPgBossFlows,
  latencyPgBoss,
  latencyPgBossFlows,
  type PgBossFlowMode,
  type PgBossWorkSettings,
} from './peers/pgboss.ts';
import { drainBullMQ, drainBullMQFlows, latencyBullMQ, latencyBullMQFlows } from './peers/bullmq.ts';

const TASKS = envInt('BENCH_TASKS', 20_000);
const DIAMONDS = envInt('BENCH_DIAMONDS', 5_000);
const CHAINS = envInt('BENCH_CHAINS', DIAMONDS);
const LATENCY_N = envInt('BENCH_LATENCY_N', 1_000);
const E2E_N = envInt('BENCH_E2E_N', 200);
const E2E_IN_FLIGHT = envInt('BENCH_E2E_IN_FLIGHT', 8);
const CONCURRENCY = envInt('BENCH_PG_CONCURRENCY', 256);
const GRAPHILE_CONCURRENCY = envInt('BENCH_GRAPHILE_CONCURRENCY', 24);
const PGBOSS: Required<PgBossWorkSettings> = {
  batchSize: envInt('BENCH_PGBOSS_BATCH', 500),
  localConcurrency: envInt('BENCH_PGBOSS_LOCAL_CONCURRENCY', 2),
};
const BULLMQ_CONCURRENCY = envInt('BENCH_BULLMQ_CONCURRENCY', 200);
const CLAIM_SMALL = 1_000;
const CLAIM_MAX = envInt('BENCH_CLAIM_MAX', 1_000_000);
const CLAIM_BATCH = envInt('BENCH_CLAIM_BATCH', 16);
const CLAIMS = envInt('BENCH_CLAIMS', 20);
/** Bound of every single drain or latency measurement. */
const MEASUREMENT_TIMEOUT_MS = envInt('BENCH_TIMEOUT_S', 300) * 1000;

const WORKFLOWS: Record<FlowShape, number> = { chain: CHAINS, diamond: DIAMONDS };
const PGBOSS_MODES: readonly PgBossFlowMode[] = ['flow', 'send'];

// ── Baton ────────────────────────────────────────────────────────────────────

/** An engine on a fresh database, dropped afterwards. */
async function withEngine<T>(
  concurrency: number,
  work: (engine: Engine) => Promise<T>,
  onStep?: (context: StepContext) => void,
): Promise<T> {
  const database = await createFreshDatabase('baton');
  const engine = await createEngine({ store: database.url, concurrency, logger: pino({ level: 'silent' }) });
  try {
    defineBenchWorkflows(engine, onStep);
    return await work(engine);
  } finally {
    await engine.close();
    await database.drop();
  }
}

function drainBaton(shape: Shape, tasks: number): Promise<DrainResult> {
  return withEngine(CONCURRENCY, (engine) => timeDrain(engine, shape, tasks, MEASUREMENT_TIMEOUT_MS));
}

/** Serial start → step started, in process (as graphile's latencyTest does), after 100 warm-up tasks. */
async function latencyBaton(n: number): Promise<Percentiles> {
  const waiters = new Waiters();
  let current = -1;
  return withEngine(1, async (engine) => {
    // One task at a time, so the step that starts is the current task's.
    engine.on('step.started', () => waiters.finish(current));
    engine.startWorkers();
    const samples = await serialStartLatency({
      n,
      waiters,
      timeoutMs: MEASUREMENT_TIMEOUT_MS,
      label: 'Baton',
      enqueue: (i) => {
        current = i;
        return engine.startTask({ template: 'bench.single', input: { i } });
      },
    });
    return percentiles(samples);
  });
}

/** Closed-loop end-to-end latency of Baton chains or diamonds: startTask → last step's handler done. */
async function latencyBatonFlows(shape: FlowShape): Promise<Percentiles> {
  const waiters = new Waiters();
  const last = LAST_STEP[shape];
  return withEngine(
    CONCURRENCY,
    async (engine) => {
      engine.startWorkers();
      const samples = await closedLoopLatency({
        total: E2E_N,
        inFlight: E2E_IN_FLIGHT,
        waiters,
        timeoutMs: MEASUREMENT_TIMEOUT_MS,
        label: `Baton ${shape}`,
        enqueue: (i) => engine.startTask({ template: `bench.${shape}`, input: { i } }),
      });
      return percentiles(samples);
    },
    (context) => {
      if (context.step.name === last) waiters.finish((context.input as { i: number }).i);
    },
  );
}

// ── the run ──────────────────────────────────────────────────────────────────

/** Systems (and configurations) in table order. */
const SYSTEMS = ['baton', 'graphileBatched', 'graphileUnbatched', 'pgboss', 'bullmq'] as const;
type System = (typeof SYSTEMS)[number];
const SYSTEM_TITLES: Record<System, string> = {
  baton: 'Baton',
  graphileBatched: 'graphile batched',
  graphileUnbatched: 'graphile unbatched',
  pgboss: 'pg-boss',
  bullmq: 'BullMQ',
};

/** Per-run values of one figure. */
type Runs = number[];

interface Throughput {
  single: Record<System, Runs>;
  /** pg-boss has two entries per shape (flow and send); the `pgboss` key holds flow. */
  flows: Record<FlowShape, Record<System, Runs> & { pgbossSend: Runs }>;
}

function emptyRuns(): Record<System, Runs> {
  return { baton: [], graphileBatched: [], graphileUnbatched: [], pgboss: [], bullmq: [] };
}

async function measureThroughput(runs: number, log: (line: string) => void): Promise<Throughput> {
  const t: Throughput = {
    single: emptyRuns(),
    flows: { chain: { ...emptyRuns(), pgbossSend: [] }, diamond: { ...emptyRuns(), pgbossSend: [] } },
  };
  const timeoutMs = MEASUREMENT_TIMEOUT_MS;
  for (let run = 1; run <= runs; run++) {
    const line: string[] = [];
    const note = (label: string, value: number, unit: string): void => {
      line.push(`${label} ${formatNumber(value)}`);
      log(`    run ${run}: ${label} ${formatNumber(value)} ${unit}`);
    };
    const s = t.single;
    s.baton.push((await drainBaton('single', TASKS)).tasksPerSecond);
    note('Baton single', s.baton.at(-1)!, 'tasks/s');
    for (const batched of [true, false]) {
      const r = await drainGraphile({ jobs: TASKS, concurrency: GRAPHILE_CONCURRENCY, batched, timeoutMs });
      (batched ? s.graphileBatched : s.graphileUnbatched).push(r.jobsPerSecond);
      note(`graphile ${batched ? 'batched' : 'unbatched'} single`, r.jobsPerSecond, 'jobs/s');
    }
    s.pgboss.push((await drainPgBoss({ jobs: TASKS, ...PGBOSS, timeoutMs })).jobsPerSecond);
    note('pg-boss single', s.pgboss.at(-1)!, 'jobs/s');
    s.bullmq.push(
      (await drainBullMQ({ jobs: TASKS, concurrency: BULLMQ_CONCURRENCY, timeoutMs })).jobsPerSecond,
    );
    note('BullMQ single', s.bullmq.at(-1)!, 'jobs/s');
    for (const shape of FLOW_SHAPES) {
      const f = t.flows[shape];
      const workflows = WORKFLOWS[shape];
      f.baton.push((await drainBaton(shape, workflows)).stepsPerSecond);
      note(`Baton ${shape}`, f.baton.at(-1)!, 'steps/s');
      for (const batched of [true, false]) {
        const r = await drainGraphileFlows({
          shape,
          workflows,
          concurrency: GRAPHILE_CONCURRENCY,
          batched,
          timeoutMs,
        });
        (batched ? f.graphileBatched : f.graphileUnbatched).push(r.stepsPerSecond);
        note(`graphile ${batched ? 'batched' : 'unbatched'} ${shape}`, r.stepsPerSecond, 'steps/s');
      }
      for (const mode of PGBOSS_MODES) {
        const r = await drainPgBossFlows({ shape, mode, workflows, ...PGBOSS, timeoutMs });
        (mode === 'flow' ? f.pgboss : f.pgbossSend).push(r.stepsPerSecond);
        note(`pg-boss ${mode} ${shape}`, r.stepsPerSecond, 'steps/s');
      }
      f.bullmq.push(
        (await drainBullMQFlows({ shape, workflows, concurrency: BULLMQ_CONCURRENCY, timeoutMs }))
          .stepsPerSecond,
      );
      note(`BullMQ ${shape}`, f.bullmq.at(-1)!, 'steps/s');
    }
    log(`  run ${run}/${runs}: ${line.join(' · ')}`);
  }
  return t;
}

interface Latencies {
  serial: Record<System, Percentiles | null>;
  e2e: Record<FlowShape, Record<System, Percentiles> & { pgbossSend: Percentiles }>;
}

async function measureLatencies(log: (line: string) => void): Promise<Latencies> {
  const timeoutMs = MEASUREMENT_TIMEOUT_MS;
  const show = (label: string, p: Percentiles): void =>
    log(`  ${label}: p50 ${formatMs(p.p50)}, p95 ${formatMs(p.p95)}, p99 ${formatMs(p.p99)}`);
  const serial: Latencies['serial'] = {
    baton: await latencyBaton(LATENCY_N),
    graphileBatched: null,
    graphileUnbatched: await latencyGraphile({ n: LATENCY_N, timeoutMs }),
    pgboss: await latencyPgBoss({ n: LATENCY_N, timeoutMs }),
    bullmq: await latencyBullMQ({ n: LATENCY_N, timeoutMs }),
  };
  for (const system of SYSTEMS) {
    const p = serial[system];
    if (p) show(`serial enqueue→start, ${SYSTEM_TITLES[system]}`, p);
  }
  const e2e = {} as Latencies['e2e'];
  const common = { n: E2E_N, inFlight: E2E_IN_FLIGHT, timeoutMs };
  for (const shape of FLOW_SHAPES) {
    const row = {
      baton: await latencyBatonFlows(shape),
      graphileBatched: await latencyGraphileFlows({
        shape,
        ...common,
        concurrency: GRAPHILE_CONCURRENCY,
        batched: true,
      }),
      graphileUnbatched: await latencyGraphileFlows({
        shape,
        ...common,
        concurrency: GRAPHILE_CONCURRENCY,
        batched: false,
      }),
      pgboss: await latencyPgBossFlows({ shape, mode: 'flow', ...common, ...PGBOSS }),
      pgbossSend: await latencyPgBossFlows({ shape, mode: 'send', ...common, ...PGBOSS }),
      bullmq: await latencyBullMQFlows({ shape, ...common, concurrency: BULLMQ_CONCURRENCY }),
    };
    e2e[shape] = row;
    for (const system of SYSTEMS) show(`${shape} end-to-end, ${SYSTEM_TITLES[system]}`, row[system]);
    show(`${shape} end-to-end, pg-boss send`, row.pgbossSend);
  }
  return { serial, e2e };
}

// ── report ───────────────────────────────────────────────────────────────────

const round = (x: number, digits = 0): number => Number(x.toFixed(digits));

interface MatrixRow {
  measurement: string;
  cells: Record<System, string>;
  extra: string;
}

function matrixColumns(extraTitle: string): Column<MatrixRow>[] {
  return [
    { title: 'measurement', value: (r) => r.measurement },
    ...SYSTEMS.map((system): Column<MatrixRow> => ({
      title: SYSTEM_TITLES[system],
      value: (r) => r.cells[system],
      align: 'right',
    })),
    { title: extraTitle, value: (r) => r.extra, align: 'right' },
  ];
}

interface BarRow {
  bar: string;
  value: string;
  target: string;
  verdict: string;
}

const BAR_COLUMNS: Column<BarRow>[] = [
  { title: 'bar', value: (r) => r.bar },
  { title: 'value', value: (r) => r.value, align: 'right' },
  { title: 'target', value: (r) => r.target },
  { title: 'verdict', value: (r) => r.verdict },
];

async function main(): Promise<void> {
  const runs = benchRuns();
  const log = (line: string): void => void process.stdout.write(`${line}\n`);
  const started = performance.now();
  const machine = await describeMachine({
    postgres: true,
    packages: ['graphile-worker', 'pg-boss', 'bullmq', 'ioredis', 'pg'],
  });
  log(
    `bench:postgres · ${formatNumber(TASKS)} tasks, ${formatNumber(CHAINS)} chains, ${formatNumber(DIAMONDS)} diamonds, ` +
      `${runs} runs · load ${machine.loadavg.map((x) => x.toFixed(2)).join(' ')}`,
  );
  log('throughput (interleaved runs)…');
  const t = await measureThroughput(runs, log);
  log('latency…');
  const l = await measureLatencies(log);
  log(`claim growth: ${formatNumber(CLAIM_SMALL)} → ${formatNumber(CLAIM_MAX)} pending…`);
  const claims: ClaimGrowthResult = await claimGrowthPostgres({
    small: CLAIM_SMALL,
    large: CLAIM_MAX,
    batch: CLAIM_BATCH,
    claims: CLAIMS,
    timeoutMs: Math.max(MEASUREMENT_TIMEOUT_MS, 600_000),
    log,
  });

  const med = (xs: Runs): number => median(xs);
  const single = Object.fromEntries(SYSTEMS.map((s) => [s, med(t.single[s])])) as Record<System, number>;
  const flow = (shape: FlowShape, key: System | 'pgbossSend'): number => med(t.flows[shape][key]);
  const bestPgBoss = (shape: FlowShape): number => Math.max(flow(shape, 'pgboss'), flow(shape, 'pgbossSend'));
  const serialBaton = l.serial.baton!;
  const serialGraphile = l.serial.graphileUnbatched!;
  const f = {
    tasks: TASKS,
    chains: CHAINS,
    diamonds: DIAMONDS,
    runs,
    pg_tasks_per_s: round(single.baton),
    graphile_batched_jobs_per_s: round(single.graphileBatched),
    graphile_unbatched_jobs_per_s: round(single.graphileUnbatched),
    pgboss_jobs_per_s: round(single.pgboss),
    bullmq_jobs_per_s: round(single.bullmq),
    ratio_pg_vs_graphile_batched: round(single.baton / single.graphileBatched, 2),
    pg_latency_p50_ms: round(serialBaton.p50, 2),
    pg_latency_p95_ms: round(serialBaton.p95, 2),
    pg_latency_p99_ms: round(serialBaton.p99, 2),
    graphile_latency_p50_ms: round(serialGraphile.p50, 2),
    graphile_latency_p95_ms: round(serialGraphile.p95, 2),
    graphile_latency_p99_ms: round(serialGraphile.p99, 2),
    pgboss_latency_p50_ms: round(l.serial.pgboss!.p50, 2),
    bullmq_latency_p50_ms: round(l.serial.bullmq!.p50, 2),
    p50_latency_ratio_vs_graphile: round(serialBaton.p50 / serialGraphile.p50, 2),
    pg_chain_steps_per_s: round(flow('chain', 'baton')),
    pg_diamond_steps_per_s: round(flow('diamond', 'baton')),
    graphile_batched_chain_steps_per_s: round(flow('chain', 'graphileBatched')),
    graphile_batched_diamond_steps_per_s: round(flow('diamond', 'graphileBatched')),
    graphile_unbatched_chain_steps_per_s: round(flow('chain', 'graphileUnbatched')),
    graphile_unbatched_diamond_steps_per_s: round(flow('diamond', 'graphileUnbatched')),
    pgboss_flow_chain_steps_per_s: round(flow('chain', 'pgboss')),
    pgboss_flow_diamond_steps_per_s: round(flow('diamond', 'pgboss')),
    pgboss_send_chain_steps_per_s: round(flow('chain', 'pgbossSend')),
    pgboss_send_diamond_steps_per_s: round(flow('diamond', 'pgbossSend')),
    bullmq_chain_steps_per_s: round(flow('chain', 'bullmq')),
    bullmq_diamond_steps_per_s: round(flow('diamond', 'bullmq')),
    ratio_diamond_vs_pgboss: round(flow('diamond', 'baton') / bestPgBoss('diamond'), 2),
    ratio_diamond_vs_pgboss_flow: round(flow('diamond', 'baton') / flow('diamond', 'pgboss'), 2),
    ratio_diamond_vs_pgboss_send: round(flow('diamond', 'baton') / flow('diamond', 'pgbossSend'), 2),
    e2e_workflows: E2E_N,
    e2e_in_flight: E2E_IN_FLIGHT,
    ...e2eFigures(l),
    claim_batch: claims.batch,
    claim_pending_small: claims.small,
    claim_pending_large: claims.large,
    claim_ms_1k_pending: round(claims.claimMsSmall, 3),
    claim_ms_1m_pending: round(claims.claimMsLarge, 3),
    claim_growth_1k_to_1m: round(claims.growth, 2),
  };

  const n = (x: number): string => formatNumber(Math.round(x));
  const runsOf = (xs: Runs): string => xs.map((x) => n(x)).join(' / ');
  const throughputRows: MatrixRow[] = [
    {
      measurement: `single-step drain, tasks/s (${formatNumber(TASKS)})`,
      cells: mapSystems((s) => n(single[s])),
      extra: formatRatio(single.baton / single.graphileBatched),
    },
    ...FLOW_SHAPES.map((shape): MatrixRow => ({
      measurement: `${shape} drain, steps/s (${formatNumber(WORKFLOWS[shape])})`,
      cells: mapSystems((s) =>
        s === 'pgboss'
          ? `${n(flow(shape, 'pgboss'))} flow · ${n(flow(shape, 'pgbossSend'))} send`
          : n(flow(shape, s)),
      ),
      extra: `${formatRatio(flow(shape, 'baton') / flow(shape, 'graphileBatched'))} · ${formatRatio(
        flow(shape, 'baton') / bestPgBoss(shape),
      )}`,
    })),
  ];
  const ms = (p: Percentiles | null): string => (p ? `${formatNumber(p.p50)} / ${formatNumber(p.p95)}` : '–');
  const latencyRows: MatrixRow[] = [
    {
      measurement: `serial enqueue→start p50 / p95 ms (${formatNumber(LATENCY_N)})`,
      cells: mapSystems((s) => ms(l.serial[s])),
      extra: formatRatio(serialBaton.p50 / serialGraphile.p50),
    },
    ...FLOW_SHAPES.map((shape): MatrixRow => ({
      measurement: `${shape} end-to-end p50 / p95 ms (${E2E_N}, ${E2E_IN_FLIGHT} in flight)`,
      cells: mapSystems((s) =>
        s === 'pgboss'
          ? `${ms(l.e2e[shape].pgboss)} flow · ${ms(l.e2e[shape].pgbossSend)} send`
          : ms(l.e2e[shape][s]),
      ),
      extra: formatRatio(l.e2e[shape].baton.p50 / l.e2e[shape].graphileUnbatched.p50),
    })),
  ];
  const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');
  const bars: BarRow[] = [
    {
      bar: 'drain: Baton / graphile-worker batched',
      value: formatRatio(f.ratio_pg_vs_graphile_batched),
      target: '≥ 1.0×',
      verdict: verdict(f.ratio_pg_vs_graphile_batched >= 1),
    },
    {
      bar: 'serial latency p50: Baton / graphile-worker',
      value: formatRatio(f.p50_latency_ratio_vs_graphile),
      target: '≤ 1.0×',
      verdict: verdict(f.p50_latency_ratio_vs_graphile <= 1),
    },
    {
      bar: 'diamond steps/s: Baton / pg-boss (faster mode)',
      value: `${formatRatio(f.ratio_diamond_vs_pgboss)} (flow ${formatRatio(f.ratio_diamond_vs_pgboss_flow)}, send ${formatRatio(f.ratio_diamond_vs_pgboss_send)})`,
      target: '≥ 2.0×',
      verdict: verdict(f.ratio_diamond_vs_pgboss >= 2),
    },
    {
      bar: `claim time growth ${formatNumber(claims.small)} → ${formatNumber(claims.large)} pending`,
      value: `${formatRatio(claims.growth)} (${claims.claimMsSmall.toFixed(2)} → ${claims.claimMsLarge.toFixed(2)} ms)`,
      target: '< 1.5×',
      verdict: verdict(claims.growth < 1.5),
    },
  ];
  const throughputColumns = matrixColumns('Baton ÷ graphile batched · ÷ pg-boss');
  const latencyColumns = matrixColumns('Baton ÷ graphile unbatched (p50)');
  log(`\n${formatTable(throughputColumns, throughputRows)}`);
  log(`\n${formatTable(latencyColumns, latencyRows)}`);
  log(`\n${formatTable(BAR_COLUMNS, bars)}`);

  const perRun = [
    `single: ${SYSTEMS.map((s) => `${SYSTEM_TITLES[s]} ${runsOf(t.single[s])}`).join('; ')}`,
    ...FLOW_SHAPES.map(
      (shape) =>
        `${shape}: ${SYSTEMS.map((s) => `${SYSTEM_TITLES[s]}${s === 'pgboss' ? ' flow' : ''} ${runsOf(t.flows[shape][s])}`).join('; ')}; pg-boss send ${runsOf(t.flows[shape].pgbossSend)}`,
    ),
  ];
  const wallS = (performance.now() - started) / 1000;
  writeSection(
    'postgres',
    renderSection({
      title: 'Engine on PostgreSQL (`npm run bench:postgres`)',
      summary:
        `Baton on PostgreSQL against graphile-worker (batched and unbatched), pg-boss and BullMQ (Redis), ` +
        `all on this machine in one run. Throughput: medians of ${runs} interleaved runs; latency: one run of many samples.`,
      command: 'npm run bench:postgres',
      machine,
      settings: {
        tasks: TASKS,
        chains: CHAINS,
        diamonds: DIAMONDS,
        runs,
        baton_concurrency: CONCURRENCY,
        graphile_concurrency: GRAPHILE_CONCURRENCY,
        graphile_batched: 'localQueue 500, batch delays 0',
        pgboss: `batchSize ${PGBOSS.batchSize}, localConcurrency ${PGBOSS.localConcurrency}, notify, polling 0.5 s, burstWhenBatchFull, flowIntervalSeconds 1`,
        bullmq_concurrency: BULLMQ_CONCURRENCY,
        serial_latency_samples: LATENCY_N,
        e2e_workflows: `${E2E_N}, ${E2E_IN_FLIGHT} in flight`,
        claims: `${CLAIMS} of ${CLAIM_BATCH} steps`,
        wall_time_s: Math.round(wallS),
      },
      table: [
        '**Throughput** (median of runs)',
        '',
        markdownTable(throughputColumns, throughputRows),
        '',
        '**Latency** (ms)',
        '',
        markdownTable(latencyColumns, latencyRows),
        '',
        '**Bars** (issue #4)',
        '',
        markdownTable(BAR_COLUMNS, bars),
      ].join('\n'),
      notes: [
        `Every run: ${perRun.join(' · ')}.`,
        'Drain = workers started → every task/job finished and its completion persisted (Baton: tasks completed in the store; graphile: jobs table empty; pg-boss: no job of the queue before `completed`; BullMQ: the last `completed` event, i.e. after its Lua script ran). Tasks/jobs pre-inserted in bulk before the clock starts; each run on a fresh database (BullMQ: a fresh key prefix).',
        'Baton records every transition (task and step rows, history events) and keeps finished tasks; pg-boss keeps completed jobs; graphile-worker deletes a finished job; BullMQ runs with `removeOnComplete: true`.',
        'Chains a → b → c and diamonds a → (b, c) → d in each system’s own way. Baton: one template per shape (`depends_on`). graphile-worker: no DAGs, a step’s task enqueues its successors (`addJob`/`addJobs`); the diamond’s join is a counter row per workflow incremented by b and c in the same statement that adds d when it reaches 2. pg-boss: **flow** = `boss.flow()` with `dependsOn` (children unblocked by the background resolver every `flowIntervalSeconds`, minimum 1 s, then picked up at the next poll), **send** = a `transactional` worker whose handler inserts the successors (and bumps the join counter) in the batch’s transaction; the bar uses the faster of the two. BullMQ: the chain is one nested flow `{c, children: [{b, children: [{a}]}]}`; flows are trees, so a diamond’s a is a plain job whose processor adds the flow `{d, children: [b, c]}` (d waits in `waiting-children`).',
        'graphile-worker chains and diamonds are slow to drain because every successor is its own `add_job` (one commit and one NOTIFY per step) on top of the job itself; its join adds d as soon as the second of b and c has run, while that job’s completion (fire-and-forget in 0.18) may still be in flight. pg-boss `send` writes a whole batch’s successors in one insert inside the batch’s completion transaction, which is why it drains fastest here; its `flow` mode pays up to ~1 s of resolver interval plus a poll per hop in latency.',
        `End-to-end latency: ${E2E_N} workflows after ${E2E_IN_FLIGHT * 2} warm-up ones, ${E2E_IN_FLIGHT} in flight (closed loop), from the start of the enqueue call to the return of the last step’s handler, in process; the last step’s completion write is not included, for any system. Serial latency: 100 warm-up then ${LATENCY_N} one at a time, enqueue call → handler start (graphile: unbatched, concurrency 1, its perfTest shape; pg-boss: batchSize 1, localConcurrency 1, notify; BullMQ: concurrency 1).`,
        `Claim growth: Baton's \`claimSteps\` (claim statement, lease, history events, commit) of ${CLAIM_BATCH} steps, median of ${CLAIMS} claims after 5 warm-up ones, on two fresh databases side by side, one with ${formatNumber(claims.small)} pending tasks and one with ${formatNumber(claims.large)}, claims alternating between them so machine noise hits both alike. The large backlog is copied in SQL from a task the store wrote (checked field by field through the store; ${formatNumber(claims.fillMs / 1000)} s); VACUUM ANALYZE + CHECKPOINT before measuring.`,
        `Wall time of the whole run: ${formatNumber(wallS)} s.`,
      ],
    }),
  );
  log(JSON.stringify(f));
}

function mapSystems(cell: (system: System) => string): Record<System, string> {
  return Object.fromEntries(SYSTEMS.map((s) => [s, cell(s)])) as Record<System, string>;
}

function e2eFigures(l: Latencies): Record<string, number> {
  const out: Record<string, number> = {};
  const prefix: Record<System | 'pgbossSend', string> = {
    baton: 'pg',
    graphileBatched: 'graphile_batched',
    graphileUnbatched: 'graphile_unbatched',
    pgboss: 'pgboss_flow',
    pgbossSend: 'pgboss_send',
    bullmq: 'bullmq',
  };
  for (const shape of FLOW_SHAPES) {
    for (const [key, name] of Object.entries(prefix) as [System | 'pgbossSend', string][]) {
      const p = l.e2e[shape][key];
      out[`${name}_${shape}_e2e_p50_ms`] = round(p.p50, 1);
      out[`${name}_${shape}_e2e_p95_ms`] = round(p.p95, 1);
    }
  }
  return out;
}

// A leftover connection or timer must not keep the process alive: report and exit.
try {
  await main();
} finally {
  setTimeout(() => {
    console.error(
      `bench:postgres: still running 15 s after the end; open handles: ${process.getActiveResourcesInfo().join(', ')}`,
    );
    process.exit(process.exitCode ?? 1);
  }, 15_000).unref();
}
