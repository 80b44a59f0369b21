/**
 * `npm run bench:engine`: Baton on SQLite against graphile-worker (batched) on the local
 * PostgreSQL, in the same run on the same machine, with raw `node:sqlite` inserts as the physical
 * floor. Also: peak RSS with 100,000 pending tasks, and how claim time grows from 1,000 to
 * 100,000 pending tasks (both measured in a fresh child process). Writes its section of
 * BENCHMARKS.md and ends with one JSON line.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createEngine } from '../src/engine/index.ts';
import { SqliteStore } from '../src/storage/index.ts';
import {
  benchRuns,
  describeMachine,
  envInt,
  envIntList,
  formatNumber,
  formatRatio,
  formatTable,
  markdownTable,
  median,
  renderSection,
  startRssSampler,
  writeSection,
  type Column,
} from './lib/index.ts';
import { defineBenchWorkflows, enqueue, timeDrain, type DrainResult, type Shape } from './baton.ts';
import { drainGraphile } from './peers/graphile.ts';
import { sqliteAutocommitInserts } from './peers/sqlite-raw.ts';

const SINGLE_TASKS = envInt('BENCH_TASKS', 20_000);
const DIAMOND_TASKS = envInt('BENCH_DIAMONDS', 5_000);
const PENDING = envInt('BENCH_PENDING', 100_000);
const CONCURRENCY_CANDIDATES = envIntList('BENCH_ENGINE_CONCURRENCY', [256, 1024, 4096]);
const GRAPHILE_CONCURRENCY = envInt('BENCH_GRAPHILE_CONCURRENCY', 24);
const DRAIN_TIMEOUT_MS = 180_000;
/** Claims timed per backlog size (16 steps each; 5 warm-up claims first). */
const CLAIMS = 40;

// ── Baton drains ─────────────────────────────────────────────────────────────

/** A drain on a fresh SQLite file. */
async function drainBaton(shape: Shape, tasks: number, concurrency: number): Promise<DrainResult> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-bench-'));
  const engine = await createEngine({
    store: `sqlite:${join(dir, 'bench.db')}`,
    concurrency,
    pollIntervalMs: 50,
    logger: pino({ level: 'silent' }),
  });
  try {
    defineBenchWorkflows(engine);
    return await timeDrain(engine, shape, tasks, DRAIN_TIMEOUT_MS);
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ── pending backlog: RSS and claim time (child process) ──────────────────────

interface BacklogResult {
  rssMbAt100k: number;
  claimMsAt1k: number;
  claimMsAt100k: number;
}

/** Median time of `claims` claims of `limit` steps each, on the store as it is. */
async function medianClaimMs(store: SqliteStore, claims: number, limit: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < claims; i++) {
    const started = performance.now();
    await store.claimSteps({
      workerId: 'bench',
      limit,
      handlers: ['bench/noop@0.1.0'],
      now: Date.now(),
      leaseMs: 60_000,
    });
    times.push(performance.now() - started);
  }
  return median(times);
}

async function backlogChild(): Promise<BacklogResult> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-backlog-'));
  const store = new SqliteStore({ path: join(dir, 'backlog.db') });
  const engine = await createEngine({ store, logger: pino({ level: 'silent' }) });
  const rss = startRssSampler(10);
  try {
    defineBenchWorkflows(engine);
    await enqueue(engine, 'bench.single', 1000);
    await medianClaimMs(store, 5, 16); // warm-up: statement caches, page cache
    const claimMsAt1k = await medianClaimMs(store, CLAIMS, 16);
    await enqueue(engine, 'bench.single', PENDING - 1000);
    await medianClaimMs(store, 5, 16);
    const claimMsAt100k = await medianClaimMs(store, CLAIMS, 16);
    return { rssMbAt100k: rss.peakBytes / 2 ** 20, claimMsAt1k, claimMsAt100k };
  } finally {
    rss.stop();
    await engine.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function runBacklogInChild(): Promise<BacklogResult> {
  return new Promise((resolve, reject) => {
    const child = fork(import.meta.filename, ['--backlog-child'], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('message', (message) => resolve(message as BacklogResult));
    child.once('exit', (code) =>
      code === 0 ? undefined : reject(new Error(`backlog child exited with ${code}`)),
    );
  });
}

// ── the run ──────────────────────────────────────────────────────────────────

async function main(): Promise<void> {
  const runs = benchRuns();
  const log = (line: string) => process.stdout.write(`${line}\n`);
  log(
    `bench:engine · ${runs} runs per figure · load average ${(await describeMachine({ postgres: false })).loadavg.map((x) => x.toFixed(2)).join(' ')}`,
  );

  log(`choosing the worker concurrency (one drain of ${SINGLE_TASKS.toLocaleString('en')} tasks each)…`);
  const sweep: { concurrency: number; tasksPerSecond: number }[] = [];
  for (const concurrency of CONCURRENCY_CANDIDATES) {
    const { tasksPerSecond } = await drainBaton('single', SINGLE_TASKS, concurrency);
    sweep.push({ concurrency, tasksPerSecond });
    log(`  concurrency ${concurrency}: ${formatNumber(tasksPerSecond)} tasks/s`);
  }
  const best = sweep.reduce((a, b) => (b.tasksPerSecond > a.tasksPerSecond ? b : a)).concurrency;

  // Interleave systems run by run so that machine noise hits them alike.
  const single: DrainResult[] = [];
  const diamond: DrainResult[] = [];
  const graphile: number[] = [];
  const raw: number[] = [];
  for (let run = 1; run <= runs; run++) {
    single.push(await drainBaton('single', SINGLE_TASKS, best));
    diamond.push(await drainBaton('diamond', DIAMOND_TASKS, best));
    graphile.push(
      (await drainGraphile({ jobs: SINGLE_TASKS, concurrency: GRAPHILE_CONCURRENCY, batched: true }))
        .jobsPerSecond,
    );
    raw.push(sqliteAutocommitInserts({ rows: SINGLE_TASKS }).rowsPerSecond);
    log(
      `  run ${run}: baton single ${formatNumber(single.at(-1)!.tasksPerSecond)} tasks/s · diamond ${formatNumber(diamond.at(-1)!.stepsPerSecond)} steps/s · graphile batched ${formatNumber(graphile.at(-1)!)} jobs/s · raw sqlite ${formatNumber(raw.at(-1)!)} rows/s`,
    );
  }
  log('pending backlog (fresh child process)…');
  const backlog = await runBacklogInChild();

  const figures = {
    sqlite_tasks_per_s: Math.round(median(single.map((r) => r.tasksPerSecond))),
    graphile_batched_jobs_per_s: Math.round(median(graphile)),
    ratio_sqlite_vs_graphile_batched: 0,
    diamond_tasks_per_s: Math.round(median(diamond.map((r) => r.tasksPerSecond))),
    diamond_steps_per_s: Math.round(median(diamond.map((r) => r.stepsPerSecond))),
    raw_sqlite_autocommit_rows_per_s: Math.round(median(raw)),
    concurrency: best,
    rss_mb_100k_pending: Math.round(backlog.rssMbAt100k),
    claim_ms_1k_pending: Number(backlog.claimMsAt1k.toFixed(3)),
    claim_ms_100k_pending: Number(backlog.claimMsAt100k.toFixed(3)),
    claim_growth_1k_to_100k: Number((backlog.claimMsAt100k / backlog.claimMsAt1k).toFixed(2)),
  };
  figures.ratio_sqlite_vs_graphile_batched = Number(
    (figures.sqlite_tasks_per_s / figures.graphile_batched_jobs_per_s).toFixed(2),
  );

  const rows = tableRows(figures);
  log(`\n${formatTable(COLUMNS, rows)}`);
  const machine = await describeMachine({ packages: ['graphile-worker', 'pg'] });
  writeSection(
    'engine',
    renderSection({
      title: 'Engine on SQLite (`npm run bench:engine`)',
      summary: `Drain of pre-inserted no-op tasks by Baton on SQLite, against graphile-worker batched on the local PostgreSQL and raw node:sqlite inserts, in the same run; medians of ${runs} interleaved runs.`,
      command: 'npm run bench:engine',
      machine,
      settings: {
        single_tasks: SINGLE_TASKS,
        diamond_tasks: DIAMOND_TASKS,
        baton_concurrency: best,
        baton_store: 'SQLite file, WAL, synchronous=NORMAL',
        graphile: `concurrency ${GRAPHILE_CONCURRENCY}, localQueue 500, batch delays 0`,
        runs,
      },
      table: markdownTable(COLUMNS, rows),
      notes: [
        `Concurrency sweep (tasks/s): ${sweep.map((s) => `${s.concurrency} → ${formatNumber(s.tasksPerSecond)}`).join(', ')}.`,
        'Baton records every transition durably (task and step rows, six history events per single-step task); graphile-worker deletes a finished job.',
        'Baton-on-SQLite runs in one Node thread; graphile-worker uses the PostgreSQL server process as well, i.e. both cores.',
        `Backlog: ${PENDING.toLocaleString('en')} pending tasks enqueued in bulk in a fresh process; claim time is the median of ${CLAIMS} claims of 16 steps after 5 warm-up claims, at 1,000 and at ${PENDING.toLocaleString('en')} pending.`,
      ],
    }),
  );
  log(JSON.stringify(figures));
}

interface Row {
  figure: string;
  value: string;
  bar: string;
}

const COLUMNS: Column<Row>[] = [
  { title: 'figure', value: (row) => row.figure },
  { title: 'value', value: (row) => row.value, align: 'right' },
  { title: 'bar', value: (row) => row.bar },
];

function tableRows(f: {
  sqlite_tasks_per_s: number;
  graphile_batched_jobs_per_s: number;
  ratio_sqlite_vs_graphile_batched: number;
  diamond_tasks_per_s: number;
  diamond_steps_per_s: number;
  raw_sqlite_autocommit_rows_per_s: number;
  rss_mb_100k_pending: number;
  claim_ms_1k_pending: number;
  claim_ms_100k_pending: number;
  claim_growth_1k_to_100k: number;
}): Row[] {
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  return [
    { figure: 'Baton SQLite, single-step tasks/s', value: formatNumber(f.sqlite_tasks_per_s), bar: '' },
    {
      figure: 'graphile-worker batched, jobs/s',
      value: formatNumber(f.graphile_batched_jobs_per_s),
      bar: '',
    },
    {
      figure: 'ratio Baton / graphile batched',
      value: formatRatio(f.ratio_sqlite_vs_graphile_batched),
      bar: `≥ 1.0× — ${verdict(f.ratio_sqlite_vs_graphile_batched >= 1)}`,
    },
    { figure: 'Baton SQLite, diamond tasks/s', value: formatNumber(f.diamond_tasks_per_s), bar: '' },
    { figure: 'Baton SQLite, diamond steps/s', value: formatNumber(f.diamond_steps_per_s), bar: '' },
    {
      figure: 'raw node:sqlite autocommit inserts, rows/s',
      value: formatNumber(f.raw_sqlite_autocommit_rows_per_s),
      bar: '',
    },
    {
      figure: `peak RSS with ${PENDING.toLocaleString('en')} pending tasks, MB`,
      value: String(f.rss_mb_100k_pending),
      bar: `< 300 MB — ${verdict(f.rss_mb_100k_pending < 300)}`,
    },
    { figure: 'claim time, 1k pending (ms)', value: f.claim_ms_1k_pending.toFixed(3), bar: '' },
    {
      figure: `claim time, ${PENDING.toLocaleString('en')} pending (ms)`,
      value: f.claim_ms_100k_pending.toFixed(3),
      bar: '',
    },
    {
      figure: `claim growth 1,000 → ${PENDING.toLocaleString('en')}`,
      value: formatRatio(f.claim_growth_1k_to_100k),
      bar: `< 1.5× — ${verdict(f.claim_growth_1k_to_100k < 1.5)}`,
    },
  ];
}

if (process.argv.includes('--backlog-child')) {
  const result = await backlogChild();
  process.send?.(result, () => process.exit(0));
} else {
  await main();
}
