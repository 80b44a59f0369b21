/**
 * Raw SQLite reference: the physical floor for SQLite on this disk, with nothing but
 * `node:sqlite` between the benchmark and the file. Baton's SQLite store can at best approach
 * these rates (see bench/README.md).
 *
 * Run directly for a quick check: `npx node bench/peers/sqlite-raw.ts [--write]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import {
  benchRuns,
  describeMachine,
  envInt,
  formatMs,
  formatNumber,
  formatRatio,
  formatTable,
  markdownTable,
  perSecond,
  renderSection,
  repeat,
  writeSection,
  type Column,
  type Repeated,
} from '../lib/index.ts';

export type Synchronous = 'OFF' | 'NORMAL' | 'FULL';

export interface SqliteInsertOptions {
  /** Rows to insert (default 100,000). */
  rows?: number;
  /** `PRAGMA synchronous` (default NORMAL; the journal is always WAL). */
  synchronous?: Synchronous;
  /** Directory for the temporary database (default `BENCH_SQLITE_DIR`, else the OS temp dir). */
  dir?: string;
}

export interface SqliteBatchedOptions extends SqliteInsertOptions {
  /** Rows per transaction (default 500). */
  batchSize?: number;
}

export interface SqliteInsertResult {
  rows: number;
  /** Rows per transaction (1 = autocommit). */
  batchSize: number;
  synchronous: Synchronous;
  ms: number;
  rowsPerSecond: number;
}

function tempDir(dir?: string): string {
  const base = dir ?? process.env.BENCH_SQLITE_DIR ?? os.tmpdir();
  return mkdtempSync(path.join(base, 'baton-bench-sqlite-'));
}

/** Opens a fresh WAL database in a temp dir, runs `fn`, then closes it and deletes the files. */
function withTempDb<T>(options: SqliteInsertOptions, fn: (db: DatabaseSync) => T): T {
  const dir = tempDir(options.dir);
  const db = new DatabaseSync(path.join(dir, 'raw.db'));
  try {
    db.exec('PRAGMA journal_mode = WAL');
    db.exec(`PRAGMA synchronous = ${options.synchronous ?? 'NORMAL'}`);
    db.exec(`CREATE TABLE item (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      value INTEGER NOT NULL,
      created_at INTEGER NOT NULL
    )`);
    return fn(db);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true }); // raw.db, raw.db-wal, raw.db-shm
  }
}

/**
 * Inserts `rows` rows in transactions of `batchSize` rows (1 = autocommit: every insert is its
 * own transaction) with one prepared statement, and times the whole loop.
 */
function insertRows(db: DatabaseSync, rows: number, batchSize: number): number {
  const insert = db.prepare('INSERT INTO item (name, value, created_at) VALUES (?, ?, ?)');
  const now = Date.now();
  const t0 = performance.now();
  if (batchSize === 1) {
    for (let i = 0; i < rows; i++) insert.run(`row-${i}`, i, now);
  } else {
    for (let i = 0; i < rows;) {
      const end = Math.min(rows, i + batchSize);
      db.exec('BEGIN');
      try {
        for (; i < end; i++) insert.run(`row-${i}`, i, now);
        db.exec('COMMIT');
      } catch (err) {
        db.exec('ROLLBACK');
        throw err;
      }
    }
  }
  const ms = performance.now() - t0;
  const count = (db.prepare('SELECT count(*) AS n FROM item').get() as { n: number }).n;
  if (count !== rows) throw new Error(`sqlite-raw: expected ${rows} rows, found ${count}`);
  return ms;
}

function measure(options: SqliteInsertOptions, batchSize: number): SqliteInsertResult {
  const rows = options.rows ?? 100_000;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`batchSize must be ≥ 1, got ${batchSize}`);
  const ms = withTempDb(options, (db) => insertRows(db, rows, batchSize));
  return {
    rows,
    batchSize,
    synchronous: options.synchronous ?? 'NORMAL',
    ms,
    rowsPerSecond: perSecond(rows, ms),
  };
}

/** (a) `rows` single-row autocommit inserts, each its own transaction → rows/s. */
export function sqliteAutocommitInserts(options: SqliteInsertOptions = {}): SqliteInsertResult {
  return measure(options, 1);
}

/** (b) the same rows inserted `batchSize` (default 500) per transaction → rows/s. */
export function sqliteBatchedInserts(options: SqliteBatchedOptions = {}): SqliteInsertResult {
  return measure(options, options.batchSize ?? 500);
}

// ---------------------------------------------------------------------------------------------
// Standalone entry: `npx node bench/peers/sqlite-raw.ts [--write]`

interface Row {
  label: string;
  result: Repeated<SqliteInsertResult>;
  vsAutocommit: number | null;
}

async function main(): Promise<void> {
  const rows = envInt('BENCH_ROWS', 100_000);
  const fullRows = envInt('BENCH_FULL_ROWS', 5_000);
  const batchSize = envInt('BENCH_BATCH', 500);
  const runs = benchRuns();
  const write = process.argv.includes('--write');
  const machine = await describeMachine();
  console.log(
    `raw SQLite inserts: ${runs} runs each, WAL, temp dir ${process.env.BENCH_SQLITE_DIR ?? os.tmpdir()}`,
  );
  sqliteBatchedInserts({ rows: 2000 }); // unmeasured warm-up

  const cases: { label: string; run: () => SqliteInsertResult; base?: string }[] = [
    { label: 'NORMAL autocommit', run: () => sqliteAutocommitInserts({ rows }) },
    {
      label: `NORMAL ${batchSize}/tx`,
      run: () => sqliteBatchedInserts({ rows, batchSize }),
      base: 'NORMAL autocommit',
    },
    { label: 'FULL autocommit', run: () => sqliteAutocommitInserts({ rows: fullRows, synchronous: 'FULL' }) },
    {
      label: `FULL ${batchSize}/tx`,
      run: () => sqliteBatchedInserts({ rows, batchSize, synchronous: 'FULL' }),
      base: 'FULL autocommit',
    },
  ];
  const out: Row[] = [];
  for (const c of cases) {
    const result = await repeat(c.run, {
      runs,
      metric: (r) => r.rowsPerSecond,
      onRun: (i, v) => console.log(`  ${c.label} run ${i + 1}/${runs}: ${formatNumber(v)} rows/s`),
    });
    const base = out.find((r) => r.label === c.base);
    out.push({ label: c.label, result, vsAutocommit: base ? result.median / base.result.median : null });
  }
  const columns: Column<Row>[] = [
    { title: 'case', value: (r) => r.label },
    { title: 'rows', value: (r) => r.result.medianRun.rows },
    { title: 'rows/s (median)', value: (r) => r.result.median },
    { title: 'runs (rows/s)', value: (r) => r.result.values.map((v) => formatNumber(v)).join(' / ') },
    { title: 'time (median run)', value: (r) => formatMs(r.result.medianRun.ms), align: 'right' },
    { title: 'µs/row', value: (r) => (r.result.medianRun.ms * 1000) / r.result.medianRun.rows },
    {
      title: 'vs autocommit',
      value: (r) => (r.vsAutocommit === null ? null : formatRatio(r.vsAutocommit)),
      align: 'right',
    },
  ];
  console.log(`\n${formatTable(columns, out)}`);

  if (write) {
    const file = writeSection(
      'peer-sqlite-raw',
      renderSection({
        title: 'Reference: raw SQLite inserts (node:sqlite)',
        summary:
          'The floor for any SQLite-backed store on this disk: single-row inserts through one prepared ' +
          'statement, with no engine in between. Median of the runs shown.',
        command: 'npx node bench/peers/sqlite-raw.ts --write',
        machine,
        settings: { rows, fullRows, batchSize, runs, journal_mode: 'WAL' },
        table: markdownTable(columns, out),
        notes: [
          'Each case uses a fresh database file in the OS temp dir (same disk as the repository), deleted afterwards.',
          'synchronous=NORMAL in WAL mode does not fsync on commit (only at checkpoints): autocommit rows/s is ' +
            'the per-transaction CPU cost. synchronous=FULL fsyncs the WAL on every commit: the durable floor.',
          'Table: `item(id INTEGER PRIMARY KEY, name TEXT, value INTEGER, created_at INTEGER)`.',
        ],
      }),
    );
    console.log(`\nwrote section peer-sqlite-raw of ${file}`);
  }
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
