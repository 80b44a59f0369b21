import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { openStore, SqliteStore } from '../../src/storage/index.ts';
import { createOne, sketchTask, storeContract } from './contract.ts';

storeContract('sqlite :memory:', {
  async open() {
    const store = new SqliteStore({ path: ':memory:' });
    await store.migrate();
    return store;
  },
});

const dir = mkdtempSync(join(tmpdir(), 'baton-sqlite-'));
storeContract('sqlite file (WAL)', {
  async open() {
    const store = new SqliteStore({ path: join(dir, 'contract.db') });
    await store.migrate();
    return store;
  },
  cleanup() {
    rmSync(dir, { recursive: true, force: true });
    return Promise.resolve();
  },
});

test('a file store uses WAL and records applied migrations', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'baton-sqlite-')), 'nested', 'baton.db');
  const store = new SqliteStore({ path });
  const migrations = ['0001_init', '0002_asap_state', '0003_step_replays', '0004_task_traceparent'];
  assert.deepEqual((await store.migrate()).applied, migrations);
  await store.close();
  const db = new DatabaseSync(path);
  assert.equal((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal');
  assert.deepEqual(
    db
      .prepare('SELECT id FROM baton_migrations')
      .all()
      .map((row) => (row as { id: string }).id),
    migrations,
  );
  db.close();
  rmSync(join(path, '..', '..'), { recursive: true, force: true });
});

test('migration 0003 gives the steps of an existing database a replay count of 0', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'baton-sqlite-')), 'baton.db');
  const older = new SqliteStore({ path });
  await older.migrate();
  const { state } = await createOne(older, sketchTask([{ name: 'a' }, { name: 'b', depends_on: ['a'] }]));
  await older.close();
  // Back to the schema before 0003, with the steps already there.
  const db = new DatabaseSync(path);
  db.exec(`ALTER TABLE steps DROP COLUMN replays;
    DELETE FROM baton_migrations WHERE id = '0003_step_replays'`);
  db.close();
  const upgraded = new SqliteStore({ path });
  try {
    assert.deepEqual((await upgraded.migrate()).applied, ['0003_step_replays']);
    const loaded = (await upgraded.getTask(state.task.id))!;
    assert.deepEqual(
      loaded.steps.map((step) => [step.name, step.replays]),
      [
        ['a', 0],
        ['b', 0],
      ],
    );
  } finally {
    await upgraded.close();
    rmSync(join(path, '..'), { recursive: true, force: true });
  }
});

test('a store refuses work before migrate() and after close()', async () => {
  const store = new SqliteStore({ path: ':memory:' });
  await assert.rejects(store.getTask('x'), /not migrated/);
  await store.migrate();
  await store.close();
  await assert.rejects(store.getTask('x'), /closed/);
  await store.close(); // closing twice is harmless
});

test('openStore understands sqlite URLs and rejects others clearly', async () => {
  const memory = openStore('sqlite::memory:');
  assert.equal(memory.kind, 'sqlite');
  await memory.close();
  assert.throws(() => openStore('mysql://x'), /unsupported store "mysql:"/);
});
