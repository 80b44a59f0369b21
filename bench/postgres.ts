/**
 * `npm run bench:postgres`: Baton on PostgreSQL against graphile-worker on the same server, in
 * the same run: drain throughput of pre-inserted no-op tasks (and Baton diamonds), and serial
 * enqueue→start latency. pg-boss and BullMQ, chains, and claim growth to 1,000,000 pending tasks
 * are not measured yet (see BENCHMARKS.md). Writes its section of BENCHMARKS.md and ends with one
 * JSON line.
 */
import { pino } from 'pino';
import { createEngine, type Engine } from '../src/engine/index.ts';
import {
  benchRuns,
  createFreshDatabase,
  describeMachine,
  envInt,
  formatNumber,
  formatRatio,
  formatTable,
  markdownTable,
  median,
  percentiles,
  renderSection,
  writeSection,
  type Column,
} from './lib/index.ts';
import { defineBenchWorkflows, timeDrain, type DrainResult, type Shape } from './baton.ts';
import { drainGraphile, latencyGraphile } from './peers/graphile.ts';

const TASKS = envInt('BENCH_TASKS', 20_000);
const DIAMONDS = envInt('BENCH_DIAMONDS', 5_000);
const LATENCY_N = envInt('BENCH_LATENCY_N', 1_000);
const CONCURRENCY = envInt('BENCH_PG_CONCURRENCY', 256);
const GRAPHILE_CONCURRENCY = envInt('BENCH_GRAPHILE_CONCURRENCY', 24);

/** An engine on a fresh database, dropped afterwards. */
async function withEngine<T>(concurrency: number, work: (engine: Engine) => Promise<T>): Promise<T> {
  const database = await createFreshDatabase('baton');
  const engine = await createEngine({ store: database.url, concurrency, logger: pino({ level: 'silent' }) });
  try {
    defineBenchWorkflows(engine);
    return await work(engine);
  } finally {
    await engine.close();
    await database.drop();
  }
}

async function drainBaton(shape: Shape, tasks: number): Promise<DrainResult> {
  return withEngine(CONCURRENCY, (engine) => timeDrain(engine, shape, tasks, 300_000));
}

/** Serial start → step started, in process (as graphile's latencyTest does), after 100 warm-up tasks. */
async function latencyBaton(n: number): Promise<number[]> {
  return withEngine(1, async (engine) => {
    let resolveStarted: (() => void) | undefined;
    engine.on('step.started', () => resolveStarted?.());
    engine.startWorkers();
    const samples: number[] = [];
    for (let i = 0; i < n + 100; i++) {
      const started = new Promise<void>((resolve) => (resolveStarted = resolve));
      const t0 = performance.now();
      await engine.startTask({ template: 'bench.single', input: { i } });
      await started;
      if (i >= 100) samples.push(performance.now() - t0);
    }
    return samples;
  });
}

interface Row {
  figure: string;
  value: string;
  note: string;
}

const COLUMNS: Column<Row>[] = [
  { title: 'figure', value: (row) => row.figure },
  { title: 'value', value: (row) => row.value, align: 'right' },
  { title: 'note', value: (row) => row.note },
];

async function main(): Promise<void> {
  const runs = benchRuns();
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const baton: number[] = [];
  const diamond: number[] = [];
  const graphileBatched: number[] = [];
  const graphileUnbatched: number[] = [];
  for (let run = 1; run <= runs; run++) {
    baton.push((await drainBaton('single', TASKS)).tasksPerSecond);
    diamond.push((await drainBaton('diamond', DIAMONDS)).stepsPerSecond);
    graphileBatched.push(
      (await drainGraphile({ jobs: TASKS, concurrency: GRAPHILE_CONCURRENCY, batched: true })).jobsPerSecond,
    );
    graphileUnbatched.push(
      (await drainGraphile({ jobs: TASKS, concurrency: GRAPHILE_CONCURRENCY, batched: false })).jobsPerSecond,
    );
    log(
      `  run ${run}: baton ${formatNumber(baton.at(-1)!)} tasks/s · diamond ${formatNumber(diamond.at(-1)!)} steps/s · graphile batched ${formatNumber(graphileBatched.at(-1)!)} · unbatched ${formatNumber(graphileUnbatched.at(-1)!)} jobs/s`,
    );
  }
  const batonLatency = percentiles(await latencyBaton(LATENCY_N));
  const graphileLatency = await latencyGraphile({ n: LATENCY_N });
  const f = {
    pg_tasks_per_s: Math.round(median(baton)),
    graphile_batched_jobs_per_s: Math.round(median(graphileBatched)),
    graphile_unbatched_jobs_per_s: Math.round(median(graphileUnbatched)),
    ratio_pg_vs_graphile_batched: Number((median(baton) / median(graphileBatched)).toFixed(2)),
    pg_diamond_steps_per_s: Math.round(median(diamond)),
    pg_latency_p50_ms: Number(batonLatency.p50.toFixed(2)),
    pg_latency_p95_ms: Number(batonLatency.p95.toFixed(2)),
    pg_latency_p99_ms: Number(batonLatency.p99.toFixed(2)),
    graphile_latency_p50_ms: Number(graphileLatency.p50.toFixed(2)),
    p50_latency_ratio_vs_graphile: Number((batonLatency.p50 / graphileLatency.p50).toFixed(2)),
  };
  const rows: Row[] = [
    {
      figure: 'Baton PostgreSQL, single-step tasks/s',
      value: formatNumber(f.pg_tasks_per_s),
      note: `concurrency ${CONCURRENCY}`,
    },
    {
      figure: 'graphile-worker batched, jobs/s',
      value: formatNumber(f.graphile_batched_jobs_per_s),
      note: 'localQueue 500, delays 0',
    },
    {
      figure: 'graphile-worker unbatched, jobs/s',
      value: formatNumber(f.graphile_unbatched_jobs_per_s),
      note: '',
    },
    {
      figure: 'ratio Baton / graphile batched',
      value: formatRatio(f.ratio_pg_vs_graphile_batched),
      note: `bar ≥ 1.0× — ${f.ratio_pg_vs_graphile_batched >= 1 ? 'met' : 'NOT met'}`,
    },
    {
      figure: 'Baton PostgreSQL, diamond steps/s',
      value: formatNumber(f.pg_diamond_steps_per_s),
      note: 'pg-boss comparison not measured yet',
    },
    {
      figure: 'Baton start→step started p50 / p95 / p99 (ms)',
      value: `${f.pg_latency_p50_ms} / ${f.pg_latency_p95_ms} / ${f.pg_latency_p99_ms}`,
      note: `${LATENCY_N} serial tasks`,
    },
    {
      figure: 'graphile add_job→start p50 (ms)',
      value: String(f.graphile_latency_p50_ms),
      note: 'unbatched, concurrency 1',
    },
    {
      figure: 'p50 latency ratio Baton / graphile',
      value: formatRatio(f.p50_latency_ratio_vs_graphile),
      note: `bar ≤ 1.0× — ${f.p50_latency_ratio_vs_graphile <= 1 ? 'met' : 'NOT met'}`,
    },
  ];
  log(`\n${formatTable(COLUMNS, rows)}`);
  writeSection(
    'postgres',
    renderSection({
      title: 'Engine on PostgreSQL (`npm run bench:postgres`, partial)',
      summary: `Baton on PostgreSQL against graphile-worker on the same server in the same run; medians of ${runs} interleaved runs.`,
      command: 'npm run bench:postgres',
      machine: await describeMachine({ packages: ['graphile-worker', 'pg'] }),
      settings: {
        tasks: TASKS,
        diamonds: DIAMONDS,
        baton_concurrency: CONCURRENCY,
        graphile_concurrency: GRAPHILE_CONCURRENCY,
        latency_samples: LATENCY_N,
        runs,
      },
      table: markdownTable(COLUMNS, rows),
      notes: [
        'Not measured yet: pg-boss and BullMQ, 3-step chains, and claim growth from 1,000 to 1,000,000 pending tasks.',
        'Baton records every transition (task and step rows, six history events per single-step task); graphile-worker deletes a finished job.',
      ],
    }),
  );
  log(JSON.stringify(f));
}

await main();
