import { join } from 'node:path';
import { readMigrations } from '../migrations.ts';
import type { ClientBase } from 'pg';

export const MIGRATIONS_DIR = join(import.meta.dirname, 'migrations');

/**
 * Key of the advisory lock every Baton migrator takes (`'baton'` in ASCII). It is the same for
 * every schema: migrations are rare, so serializing them across schemas costs nothing.
 */
const MIGRATION_LOCK_KEY = 0x6261746f6e;

/** How long a migrator waits for another one before giving up with a clear error. */
const LOCK_TIMEOUT = '60s';

/**
 * Applies pending migrations to `schema` (an already quoted identifier) in one transaction that
 * holds `pg_advisory_xact_lock`: a second migrator, in this process or another, waits, then sees
 * every migration recorded and applies nothing. The schema is created under the lock too, because
 * two concurrent `CREATE SCHEMA IF NOT EXISTS` can still fail on a duplicate key. DDL is
 * transactional in PostgreSQL, so a failing migration leaves nothing half-applied.
 */
export async function applyPostgresMigrations(client: ClientBase, schema: string): Promise<string[]> {
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${schema}.baton_migrations (
      id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = await client.query<{ id: string }>(`SELECT id FROM ${schema}.baton_migrations`);
    const applied = await applyPending(client, schema, new Set(done.rows.map((row) => row.id)));
    await client.query('COMMIT');
    return applied;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw lockTimeoutHint(error);
  }
}

async function applyPending(
  client: ClientBase,
  schema: string,
  done: ReadonlySet<string>,
): Promise<string[]> {
  const applied: string[] = [];
  // Migration files use unqualified names; SET LOCAL ends with the transaction.
  await client.query(`SET LOCAL search_path TO ${schema}`);
  for (const migration of readMigrations(MIGRATIONS_DIR)) {
    if (done.has(migration.id)) continue;
    // The row goes in first: a migrator that somehow ran without the lock fails on the primary
    // key instead of applying the same DDL twice.
    await client.query(`INSERT INTO ${schema}.baton_migrations (id) VALUES ($1)`, [migration.id]);
    try {
      await client.query(migration.sql);
    } catch (error) {
      throw new Error(`migration ${migration.id} failed`, { cause: error });
    }
    applied.push(migration.id);
  }
  return applied;
}

function lockTimeoutHint(error: unknown): unknown {
  if ((error as { code?: unknown } | null)?.code !== '55P03') return error;
  return new Error(
    `another process held the Baton migration lock (pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})) ` +
      `for over ${LOCK_TIMEOUT}; check for a stuck migrator in pg_stat_activity`,
    { cause: error },
  );
}
