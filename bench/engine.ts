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
  /** Peak RSS of a fresh process whose engine opens the store holding the backlog and claims from it. */
  rssMbAt100k: number;
  /** Peak RSS of the process that enqueued the backlog (100 bulk starts of 1,000). */
  rssMbEnqueue: number;
  claimMsAt1k: number;
  claimMsAt100k: number;
}

/** One claim of `limit` steps, timed. */
async function timeClaim(store: SqliteStore, limit: number): Promise<number> {
  const started = performance.now();
  await store.claimSteps({
    workerId: 'bench',
    limit,
    handlers: ['bench/noop@0.1.0'],
    now: Date.now(),
    leaseMs: 60_000,
  });
  return performance.now() - started;
}

/** An engine on `<dir>/<name>.db` with the bench workflows; the caller closes both. */
async function openBacklog(dir: string, name: string) {
  const store = new SqliteStore({ path: join(dir, `${name}.db`) });
  const engine = await createEngine({ store, logger: pino({ level: 'silent' }) });
  defineBenchWorkflows(engine);
  return { engine, store, close: async () => (await engine.close(), await store.close()) };
}

/** First child: fills `small.db` (1,000 pending) and `large.db`; returns its own peak RSS in MB. */
async function buildBacklogs(dir: string): Promise<number> {
  let peak = process.memoryUsage().rss;
  for (const [name, pending] of [
    ['small', 1000],
    ['large', PENDING],
  ] as const) {
    const backlog = await openBacklog(dir, name);
    for (let start = 0; start < pending; start += 1000) {
      await enqueue(backlog.engine, 'bench.single', Math.min(1000, pending - start));
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    await backlog.close();
  }
  return peak / 2 ** 20;
}

/**
 * Second child, fresh: opens both stores and claims from them in turns (order swapped each
 * round, so load from other processes hits both sizes alike), sampling its RSS throughout.
 */
async function measureBacklogs(dir: string): Promise<Omit<BacklogResult, 'rssMbEnqueue'>> {
  const rss = startRssSampler(10);
  const small = await openBacklog(dir, 'small');
  const large = await openBacklog(dir, 'large');
  try {
    const times = { small: [] as number[], large: [] as number[] };
    for (let round = 0; round < CLAIMS + 5; round++) {
      const order = round % 2 === 0 ? ([small, large] as const) : ([large, small] as const);
      for (const backlog of order) {
        const ms = await timeClaim(backlog.store, 16);
        if (round >= 5) times[backlog === small ? 'small' : 'large'].push(ms); // 5 warm-up rounds
      }
      await new Promise((resolve) => setImmediate(resolve)); // let the sampler run
    }
    return {
      rssMbAt100k: rss.stop() / 2 ** 20,
      claimMsAt1k: median(times.small),
      claimMsAt100k: median(times.large),
    };
  } finally {
    rss.stop();
    await small.close();
    await large.close();
  }
}

/** Runs this file as a child in `mode` and returns what it sends back. */
function runChild<T>(mode: string, dir: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = fork(import.meta.filename, [mode, dir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (message) => resolve(message as T));
    child.once('exit', (code) =>
      code === 0 ? undefined : reject(new Error(`${mode} child exited with ${code}`)),
    );
  });
}

async function runBacklogInChildren(): Promise<BacklogResult> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-backlog-'));
  try {
    const rssMbEnqueue = await runChild<number>('--backlog-build', dir);
    return {
      ...(await runChild<Omit<BacklogResult, 'rssMbEnqueue'>>('--backlog-measure', dir)),
      rssMbEnqueue,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
  const backlog = await runBacklogInChildren();

  const figures = {
    sqlite_tasks_per_s: Math.round(median(single.map((r) => r.tasksPerSecond))),
    graphile_batched_jobs_per_s: Math.round(median(graphile)),
    ratio_sqlite_vs_graphile_batched: 0,
    diamond_tasks_per_s: Math.round(median(diamond.map((r) => r.tasksPerSecond))),
    diamond_steps_per_s: Math.round(median(diamond.map((r) => r.stepsPerSecond))),
    raw_sqlite_autocommit_rows_per_s: Math.round(median(raw)),
    concurrency: best,
    rss_mb_100k_pending: Math.round(backlog.rssMbAt100k),
    rss_mb_enqueue_100k: Math.round(backlog.rssMbEnqueue),
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
        `Backlog: one child process enqueues ${PENDING.toLocaleString('en')} tasks in bulk (1,000 per call) into one SQLite file and 1,000 into another (its peak RSS is the enqueue figure: garbage of the returned task views, not retained state); a fresh child then opens both stores and claims 16 steps at a time from each in turns, ${CLAIMS} timed claims after 5 warm-up rounds, sampling its RSS (the pending figure).`,
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
  rss_mb_enqueue_100k: number;
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
    {
      figure: `peak RSS while enqueueing them in bulk, MB`,
      value: String(f.rss_mb_enqueue_100k),
      bar: '',
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

const [, , mode, dir] = process.argv;
if (mode === '--backlog-build' && dir) {
  const result = await buildBacklogs(dir);
  process.send?.(result, () => process.exit(0));
} else if (mode === '--backlog-measure' && dir) {
  const result = await measureBacklogs(dir);
  process.send?.(result, () => process.exit(0));
} else {
  await main();
}
