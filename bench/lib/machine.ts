/** A description of the machine and software versions a benchmark ran on. */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { benchPgUrl, pgServerVersion } from './pg.ts';

/** The repository root (this file lives in `bench/lib/`). */
export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface MachineInfo {
  /** CPU model from /proc/cpuinfo (`model name`), else `os.cpus()[0].model`. */
  cpu: string;
  /** Logical CPUs of the machine. */
  cores: number;
  /** CPUs this process may run on (`Cpus_allowed_list`, e.g. `1` under `taskset -c 1`). */
  cpusAllowed: string | null;
  memoryGiB: number;
  /** e.g. `Debian GNU/Linux 12 (bookworm), Linux 6.1.0 x64` */
  os: string;
  /** 1/5/15-minute load averages when described (the machine is shared and noisy). */
  loadavg: [number, number, number];
  node: string;
  sqlite: string;
  /** `SHOW server_version`, `null` when not asked for, or `unavailable: …` on error. */
  postgres: string | null;
  /** Versions from `node_modules/<pkg>/package.json`; `null` when not installed. */
  packages: Record<string, string | null>;
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function cpuModel(): string {
  const info = readText('/proc/cpuinfo');
  const m = info?.match(/^model name\s*:\s*(.+)$/m);
  return (m?.[1] ?? os.cpus()[0]?.model ?? 'unknown').trim();
}

function cpusAllowed(): string | null {
  const status = readText('/proc/self/status');
  return status?.match(/^Cpus_allowed_list:\s*(.+)$/m)?.[1]?.trim() ?? null;
}

function osName(): string {
  const release = readText('/etc/os-release');
  const pretty = release?.match(/^PRETTY_NAME="?([^"\n]+)"?$/m)?.[1];
  const kernel = `${os.type()} ${os.release()} ${os.arch()}`;
  return pretty ? `${pretty}, ${kernel}` : kernel;
}

/** Version of an installed package, read from `node_modules/<pkg>/package.json` at the repo root. */
export function packageVersion(pkg: string, root = REPO_ROOT): string | null {
  const text = readText(path.join(root, 'node_modules', pkg, 'package.json'));
  if (text === null) return null;
  const parsed = JSON.parse(text) as { version?: unknown };
  return typeof parsed.version === 'string' ? parsed.version : null;
}

function sqliteVersion(): string {
  const db = new DatabaseSync(':memory:');
  try {
    const row = db.prepare('select sqlite_version() as v').get() as { v: string } | undefined;
    return row?.v ?? 'unknown';
  } finally {
    db.close();
  }
}

export interface DescribeOptions {
  /** Ask a PostgreSQL server its version: `true` for `benchPgUrl()`, or a URL. */
  postgres?: boolean | string;
  /** Packages whose installed versions to report. */
  packages?: readonly string[];
}

export async function describeMachine(options: DescribeOptions = {}): Promise<MachineInfo> {
  let postgres: string | null = null;
  if (options.postgres) {
    const url = typeof options.postgres === 'string' ? options.postgres : benchPgUrl();
    try {
      postgres = await pgServerVersion(url);
    } catch (err) {
      postgres = `unavailable: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  const packages: Record<string, string | null> = {};
  for (const pkg of options.packages ?? []) packages[pkg] = packageVersion(pkg);
  const [l1 = 0, l5 = 0, l15 = 0] = os.loadavg();
  return {
    cpu: cpuModel(),
    cores: os.cpus().length,
    cpusAllowed: cpusAllowed(),
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: osName(),
    loadavg: [l1, l5, l15],
    node: process.version,
    sqlite: sqliteVersion(),
    postgres,
    packages,
  };
}

/** One line for the hardware, e.g. `AMD EPYC, 2 cores (allowed: 0-1), 23.4 GiB, Debian …`. */
export function formatMachineLine(m: MachineInfo): string {
  const allowed = m.cpusAllowed ? ` (allowed: ${m.cpusAllowed})` : '';
  const load = m.loadavg.map((x) => x.toFixed(2)).join(' ');
  return `${m.cpu}, ${m.cores} cores${allowed}, ${m.memoryGiB} GiB RAM, ${m.os}, load ${load}`;
}

/** One line for the software, e.g. `Node v24.21.0, SQLite 3.50.4, PostgreSQL 15.20, pg 8.23.1`. */
export function formatVersionsLine(m: MachineInfo): string {
  const parts = [`Node ${m.node}`, `SQLite ${m.sqlite}`];
  if (m.postgres !== null) parts.push(`PostgreSQL ${m.postgres}`);
  for (const [pkg, v] of Object.entries(m.packages)) parts.push(`${pkg} ${v ?? '(not installed)'}`);
  return parts.join(', ');
}
