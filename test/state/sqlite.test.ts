import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { SqliteStore } from '../../src/storage/index.ts';
import { stateStoreContract } from './contract.ts';

stateStoreContract('sqlite :memory:', {
  async open({ now }) {
    const store = new SqliteStore({ path: ':memory:', now });
    await store.migrate();
    return store;
  },
});

const dir = mkdtempSync(join(tmpdir(), 'baton-state-'));
stateStoreContract('sqlite file (WAL)', {
  async open({ now }) {
    const store = new SqliteStore({ path: join(dir, 'state.db'), now });
    await store.migrate();
    return store;
  },
  cleanup() {
    rmSync(dir, { recursive: true, force: true });
    return Promise.resolve();
  },
});

test('the state stores refuse work before migrate() and after close()', async () => {
  const store = new SqliteStore({ path: ':memory:' });
  await assert.rejects(store.state.snapshots.get('task_x'), /not migrated: call migrate\(\) first/);
  await assert.rejects(store.state.metering.aggregate('agent', 'all'), /not migrated/);
  await store.migrate();
  assert.deepEqual(await store.state.snapshots.listVersions('task_x'), []);
  await store.close();
  await assert.rejects(store.state.snapshots.get('task_x'), /closed/);
  await assert.rejects(store.state.metering.query('agent', new Date(0), new Date()), /closed/);
});

test('timestamps are stored as epoch milliseconds and data as tagged JSON text', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-state-'));
  const path = join(dir, 'raw.db');
  const store = new SqliteStore({ path });
  await store.migrate();
  const when = new Date('2024-01-02T03:04:05.678Z');
  await store.state.snapshots.save({
    id: 'snap_1',
    task_id: 'task_1',
    version: 1,
    data: { when },
    created_at: when,
  });
  await store.state.metering.record({ task_id: 'task_1', agent_id: 'a', consumer_id: 'c', timestamp: when });
  await store.close();
  const db = new DatabaseSync(path);
  assert.deepEqual(
    { ...db.prepare('SELECT data, created_at FROM asap_snapshots').get() },
    {
      data: '{"when":{"$date":"2024-01-02T03:04:05.678Z"}}',
      created_at: when.getTime(),
    },
  );
  const event = db.prepare('SELECT id, timestamp FROM asap_usage_events').get() as {
    id: string;
    timestamp: number;
  };
  assert.equal(event.timestamp, when.getTime());
  assert.match(event.id, /^evt_[0-9A-HJKMNP-TV-Z]{26}$/);
  db.close();
  rmSync(dir, { recursive: true, force: true });
});
