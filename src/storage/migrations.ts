import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface Migration {
  /** The file name without `.sql`, e.g. `0001_init`; recorded once applied. */
  id: string;
  sql: string;
}

/** A store's numbered SQL files, in order: `0001_init.sql`, `0002_….sql`, … */
export function readMigrations(dir: string): Migration[] {
  return readdirSync(dir)
    .filter((file) => /^\d{4}_.+\.sql$/.test(file))
    .sort()
    .map((file) => ({ id: file.replace(/\.sql$/, ''), sql: readFileSync(join(dir, file), 'utf8') }));
}
