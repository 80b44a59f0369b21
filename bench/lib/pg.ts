/** PostgreSQL helpers: a throw-away database per peer run. */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** The admin URL benchmarks connect to: `BENCH_PG_URL`, else the local `test` database. */
export function benchPgUrl(): string {
  const url = process.env.BENCH_PG_URL;
  return url !== undefined && url.trim() !== '' ? url : DEFAULT_PG_URL;
}

/** `url` with its database name replaced. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

export interface FreshDatabase {
  /** e.g. `bench_graphile_3f9a1c2b` */
  name: string;
  /** Connection string to the new database (same server and credentials as the admin URL). */
  url: string;
  /** Drops the database, terminating leftover connections (`WITH (FORCE)`). Idempotent. */
  drop(): Promise<void>;
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Creates `bench_<name>_<random>` on the server of `adminUrl` (default `benchPgUrl()`).
 * `name` must be lowercase letters, digits or `_`.
 */
export async function createFreshDatabase(name: string, adminUrl = benchPgUrl()): Promise<FreshDatabase> {
  if (!/^[a-z0-9_]{1,40}$/.test(name)) {
    throw new Error(`database name part must match [a-z0-9_]{1,40}, got ${JSON.stringify(name)}`);
  }
  const dbName = `bench_${name}_${randomBytes(4).toString('hex')}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${dbName}`);
  let dropped = false;
  return {
    name: dbName,
    url: withDatabase(adminUrl, dbName),
    async drop() {
      if (dropped) return;
      dropped = true;
      await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    },
  };
}

/** Creates a fresh database, runs `fn` with it and always drops it afterwards. */
export async function withFreshDatabase<T>(
  name: string,
  fn: (db: FreshDatabase) => Promise<T>,
  adminUrl = benchPgUrl(),
): Promise<T> {
  const db = await createFreshDatabase(name, adminUrl);
  try {
    return await fn(db);
  } finally {
    await db.drop();
  }
}

/** `SHOW server_version` of the server at `url`. */
export async function pgServerVersion(url = benchPgUrl()): Promise<string> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const res = await client.query<{ server_version: string }>('SHOW server_version');
    return res.rows[0]?.server_version ?? 'unknown';
  } finally {
    await client.end();
  }
}
