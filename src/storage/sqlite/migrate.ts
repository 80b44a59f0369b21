import { join } from 'node:path';
import { readMigrations } from '../migrations.ts';
import type { DatabaseSync } from 'node:sqlite';

const MIGRATIONS_DIR = join(import.meta.dirname, 'migrations');

/**
 * Applies pending migrations in one `BEGIN IMMEDIATE` transaction: SQLite's write lock makes a
 * second process wait, then see the migrations already recorded. DDL is transactional in SQLite,
 * so a failing migration leaves nothing half-applied.
 */
export function applySqliteMigrations(db: DatabaseSync): string[] {
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec('CREATE TABLE IF NOT EXISTS baton_migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const done = new Set(
      (db.prepare('SELECT id FROM baton_migrations').all() as { id: string }[]).map((row) => row.id),
    );
    const applied: string[] = [];
    for (const migration of readMigrations(MIGRATIONS_DIR)) {
      if (done.has(migration.id)) continue;
      db.exec(migration.sql);
      db.prepare('INSERT INTO baton_migrations (id, applied_at) VALUES (?, ?)').run(migration.id, Date.now());
      applied.push(migration.id);
    }
    db.exec('COMMIT');
    return applied;
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
}
