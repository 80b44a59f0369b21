// The PostgreSQL helper against the real server: skipped when it is unreachable, failed under CI.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestDatabase, describePostgres, pgTestUrl, withPgClient } from './postgres.ts';

async function databaseExists(name: string): Promise<boolean> {
  const { rowCount } = await withPgClient(pgTestUrl(), (client) =>
    client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]),
  );
  return rowCount === 1;
}

let firstSuiteDatabases: string[] = [];

describePostgres('describePostgres', (pg) => {
  test('gives the suite its own empty, usable database', async () => {
    assert.match(pg.database.name, /^baton_test_postgres_[0-9a-f]{10}$/);
    assert.equal(new URL(pg.url).pathname, `/${pg.database.name}`);
    const rows = await withPgClient(pg.url, async (client) => {
      await client.query('CREATE TABLE t (x int)');
      await client.query('INSERT INTO t VALUES (1), (2)');
      return (
        await client.query<{ db: string; sum: string }>('SELECT current_database() AS db, sum(x) FROM t')
      ).rows;
    });
    assert.deepEqual(rows, [{ db: pg.database.name, sum: '3' }]);
  });

  test('createDatabase() gives another database, dropped with the suite', async () => {
    const other = await pg.createDatabase({ prefix: 'second' });
    assert.match(other.name, /^baton_test_second_[0-9a-f]{10}$/);
    assert.ok(await databaseExists(other.name));
    firstSuiteDatabases = [pg.database.name, other.name];
  });
});

describePostgres('createTestDatabase', (pg) => {
  test("the previous suite's databases were dropped after it, and this suite has a different one", async () => {
    assert.equal(firstSuiteDatabases.length, 2);
    assert.ok(!firstSuiteDatabases.includes(pg.database.name));
    for (const name of firstSuiteDatabases) assert.equal(await databaseExists(name), false, name);
  });

  test('drop() removes the database, disconnecting sessions still using it, and can run twice', async () => {
    const db = await createTestDatabase();
    assert.ok(await databaseExists(db.name));
    await withPgClient(db.url, async (client) => {
      await client.query('SELECT 1');
      await db.drop(); // WITH (FORCE) terminates this still-open session
      await assert.rejects(client.query('SELECT 1'));
    });
    assert.equal(await databaseExists(db.name), false);
    await db.drop();
  });

  test('withPgClient() closes the client when the callback throws', async () => {
    await assert.rejects(
      withPgClient(pg.url, () => Promise.reject(new Error('boom'))),
      /boom/,
    );
    // A leaked client would fail this file through the resource check in test/support/setup.ts.
  });
});
