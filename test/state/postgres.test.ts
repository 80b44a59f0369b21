import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PostgresStore } from '../../src/storage/postgres/postgres-store.ts';
import { describePostgres, withPgClient } from '../support/postgres.ts';
import { stateStoreContract } from './contract.ts';

describePostgres('postgres state store contract', (pg) => {
  stateStoreContract('postgres (schema baton)', {
    async open({ now }) {
      const db = await pg.createDatabase();
      const store = new PostgresStore({ connectionString: db.url, now });
      await store.migrate();
      return store;
    },
  });

  stateStoreContract('postgres (custom schema, pool of 2)', {
    async open({ now }) {
      const db = await pg.createDatabase();
      const store = new PostgresStore({ connectionString: db.url, schema: 'tenant_a', max: 2, now });
      await store.migrate();
      return store;
    },
  });
});

describePostgres('postgres state stores', (pg) => {
  test('two schemas in one database keep their state apart, on one pool per store', async () => {
    const db = await pg.createDatabase();
    const a = new PostgresStore({ connectionString: db.url, schema: 'state_a', max: 1 });
    const b = new PostgresStore({ connectionString: db.url, schema: 'state_b', max: 1 });
    try {
      await a.migrate();
      await b.migrate();
      const when = new Date('2024-01-02T03:04:05.678Z');
      await a.state.snapshots.save({
        id: 'snap_a',
        task_id: 'task_1',
        version: 1,
        data: {},
        created_at: when,
      });
      await b.state.snapshots.save({
        id: 'snap_b',
        task_id: 'task_1',
        version: 2,
        data: {},
        created_at: when,
      });
      assert.deepEqual(await a.state.snapshots.listVersions('task_1'), [1]);
      assert.deepEqual(await b.state.snapshots.listVersions('task_1'), [2]);
      const rows = await withPgClient(db.url, async (client) => {
        const result = await client.query<{ id: string; created_at: Date }>(
          'SELECT id, created_at FROM state_a.asap_snapshots',
        );
        return result.rows;
      });
      assert.deepEqual(rows, [{ id: 'snap_a', created_at: when }]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('the state stores name the fix before migrate() and refuse work after close()', async () => {
    const db = await pg.createDatabase();
    const store = new PostgresStore({ connectionString: db.url, schema: 'never_migrated' });
    try {
      await assert.rejects(store.state.snapshots.get('task_x'), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'store_unavailable');
        assert.match(error.message, /schema "never_migrated" is not migrated: call migrate\(\) first/);
        return true;
      });
      await assert.rejects(store.state.metering.aggregate('agent', 'all'), /not migrated/);
    } finally {
      await store.close();
    }
    await assert.rejects(store.state.snapshots.listVersions('task_x'), /closed/);
    await assert.rejects(store.state.metering.query('agent', new Date(0), new Date()), /closed/);
  });
});
