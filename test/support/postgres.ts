// PostgreSQL for tests: a throwaway database per test file (or suite), created on the server named
// by TEST_PG_URL and dropped afterwards, so files can run in parallel without sharing state.
//
//   import { describePostgres, withPgClient } from '../support/postgres.ts';
//
//   describePostgres('store contract (postgres)', (pg) => {
//     test('connects', async () => {
//       await withPgClient(pg.url, (client) => client.query('SELECT 1'));
//     });
//   });
import { after, before } from 'node:test';
import { Client, escapeIdentifier } from 'pg';
import { describeWithService, displayAddress, fileSlug, PROBE_TIMEOUT_MS, randomId } from './services.ts';
import type { ClientConfig } from 'pg';
import type { Service } from './services.ts';

export const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** The admin connection tests create their databases from: `TEST_PG_URL` or the local default. */
export function pgTestUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.TEST_PG_URL || DEFAULT_PG_URL;
}

/** The test PostgreSQL as a `Service` for `requireService()`: the probe connects and runs `SELECT 1`. */
export function postgresService(url: string = pgTestUrl()): Service {
  return {
    name: 'PostgreSQL',
    url,
    address: displayAddress(url, 5432),
    envVar: 'TEST_PG_URL',
    probe: async () => {
      const timeouts = { connectionTimeoutMillis: PROBE_TIMEOUT_MS, query_timeout: PROBE_TIMEOUT_MS };
      await withPgClient(url, (client) => client.query('SELECT 1'), timeouts);
    },
  };
}

/**
 * Connects a `pg.Client` to `url`, passes it to `fn` and always closes it, whether `fn` succeeds,
 * throws, or the connection fails. `options` go to the `Client` constructor.
 *
 *   const rows = await withPgClient(db.url, async (client) => (await client.query('SELECT 1 AS x')).rows);
 */
export async function withPgClient<T>(
  url: string,
  fn: (client: Client) => Promise<T>,
  options: Omit<ClientConfig, 'connectionString'> = {},
): Promise<T> {
  const client = new Client({ connectionString: url, ...options });
  // Errors on an idle connection (e.g. the server going away) are emitted as events; without a
  // listener they would crash the test process. A pending call still rejects with the error.
  client.on('error', () => {});
  try {
    await client.connect();
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  /** Database name: `baton_test_<file>_<random>`. */
  readonly name: string;
  /** Connection URL of the database (the admin URL with its path replaced). */
  readonly url: string;
  /** Drops the database, disconnecting any session still using it. Safe to call twice. */
  drop(): Promise<void>;
}

export interface CreateTestDatabaseOptions {
  /** Name fragment after `baton_test_` (a file path is reduced to its base name); default: the running test file. */
  prefix?: string;
  /** Admin connection URL; default `pgTestUrl()`. */
  adminUrl?: string;
  /** Clone this database instead of `template1` (nobody may be connected to it meanwhile). */
  template?: string;
}

/**
 * Creates an empty database with a unique name on the test server. Pair every call with `drop()`,
 * usually in `before()` / `after()`:
 *
 *   let db: TestDatabase;
 *   before(async () => { db = await createTestDatabase(); });
 *   after(() => db.drop());
 *
 * Within a suite from `describePostgres()` prefer `pg.url` or `pg.createDatabase()`, which drop themselves.
 */
export async function createTestDatabase(options: CreateTestDatabaseOptions = {}): Promise<TestDatabase> {
  const adminUrl = options.adminUrl ?? pgTestUrl();
  const name = `baton_test_${fileSlug(options.prefix)}_${randomId()}`;
  const template = options.template ? ` TEMPLATE ${escapeIdentifier(options.template)}` : '';
  await withPgClient(adminUrl, (client) =>
    client.query(`CREATE DATABASE ${escapeIdentifier(name)}${template}`),
  );

  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped: Promise<unknown> | undefined;
  return {
    name,
    url: url.href,
    drop: async () => {
      dropped ??= withPgClient(adminUrl, (client) =>
        client.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(name)} WITH (FORCE)`),
      );
      await dropped;
    },
  };
}

/** What a `describePostgres()` suite function receives. Read it inside hooks and tests only. */
export interface PostgresSuite {
  /** The suite's own database, created in the suite's first `before()` hook. */
  readonly database: TestDatabase;
  /** Shorthand for `database.url`. */
  readonly url: string;
  /** Another fresh database, dropped with the suite's. Call it from hooks or tests. */
  createDatabase(options?: Omit<CreateTestDatabaseOptions, 'adminUrl'>): Promise<TestDatabase>;
}

/**
 * `describe()` with its own PostgreSQL database (see the top of this file). The database exists
 * from the suite's first `before()` to its last `after()`, so hooks declared in `fn` can use it,
 * and pools they close in `after()` are closed before the database is dropped. When PostgreSQL is
 * unreachable the suite is skipped, or fails under `CI=true` (see `describeWithService`).
 *
 *   describePostgres('runs on postgres', (pg) => {
 *     let pool: Pool;
 *     before(() => { pool = new Pool({ connectionString: pg.url }); });
 *     after(() => pool.end());
 *     test('…', async () => { … });
 *   });
 */
export function describePostgres(name: string, fn: (pg: PostgresSuite) => void): void {
  const adminUrl = pgTestUrl();
  describeWithService(name, postgresService(adminUrl), (suite) => {
    const databases: TestDatabase[] = [];
    const createDatabase: PostgresSuite['createDatabase'] = async (options = {}) => {
      const db = await createTestDatabase({ prefix: suite.filePath, ...options, adminUrl });
      databases.push(db);
      return db;
    };
    let database: TestDatabase | undefined;
    const current = (): TestDatabase => {
      if (!database) throw new Error('describePostgres: the database exists only inside hooks and tests');
      return database;
    };

    before(async () => {
      database = await createDatabase();
    });
    fn({
      get database() {
        return current();
      },
      get url() {
        return current().url;
      },
      createDatabase,
    });
    // Declared after fn's hooks, so it runs after them (node:test runs after() hooks in order).
    after(async () => {
      await Promise.all(databases.map((db) => db.drop()));
    });
  });
}
