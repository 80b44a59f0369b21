import { ValidationError } from '../util/errors.ts';
import { PostgresStore } from './postgres/postgres-store.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

export type * from './records.ts';
export type * from './store.ts';
export { EVENT_TYPES, STEP_STATUSES, TASK_STATUSES } from './records.ts';
export { PostgresStore, type PostgresStoreOptions } from './postgres/postgres-store.ts';
export { SqliteStore, type SqliteStoreOptions } from './sqlite/sqlite-store.ts';

/**
 * Opens the store named by a `BATON_STORE` value: `sqlite:PATH`, `sqlite::memory:` or a
 * `postgres://` URL. The caller owns the store and must `close()` it.
 */
export function openStore(url: string): Store {
  if (url.startsWith('sqlite:')) return new SqliteStore({ path: url.slice('sqlite:'.length) || ':memory:' });
  if (/^postgres(ql)?:\/\//i.test(url)) return new PostgresStore({ connectionString: url });
  throw new ValidationError(
    `unsupported store "${url.split(':')[0]}:": expected sqlite:PATH, sqlite::memory: or postgres://…`,
  );
}
