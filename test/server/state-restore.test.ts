// `state_restore` and the task state behind it: steps save snapshots through `ctx.state`, an
// ASAP peer restores an earlier one, and it becomes the latest, values intact.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { envelope, errorOf, post, resultOf, rpc, serverFixture, taskRequest } from './helpers.ts';

describe('state_restore', () => {
  const fixture = serverFixture();

  /** Runs `test.counter`: its step saves two snapshots; answers the task id. */
  async function runCounter(): Promise<string> {
    const { engine, app } = fixture;
    if (engine.templates.resolve('test.counter') === undefined) {
      engine.registerHandler({
        namespace: 'test',
        name: 'counter',
        version: '1.0.0',
        handler: async (ctx) => {
          await ctx.state.save({ count: 1, seen: new Set(['a']), at: new Date('2026-01-02T03:04:05.678Z') });
          await ctx.state.save({ count: 2, seen: new Set(['a', 'b']), big: 2n ** 70n });
          return { saved: (await ctx.state.versions()).length };
        },
      });
      engine.registerTemplate({
        namespace: 'test',
        name: 'counter',
        version: '1.0.0',
        steps: [{ name: 'count', handler: 'test/counter' }],
      });
    }
    const answer = resultOf(await post(app, rpc(taskRequest('test.counter', {}))));
    assert.equal(answer.payload.status, 'completed');
    assert.deepEqual(answer.payload.result, { count: { saved: 2 } });
    return answer.payload.task_id as string;
  }

  const restore = (taskId: string, snapshotId: string) =>
    rpc(envelope({ payload_type: 'state_restore', payload: { task_id: taskId, snapshot_id: snapshotId } }));

  test('an earlier snapshot becomes the latest version, as a checkpoint, values intact', async () => {
    const taskId = await runCounter();
    const snapshots = fixture.engine.store.state.snapshots;
    const first = await snapshots.get(taskId, 1);
    assert.ok(first);
    const reply = resultOf(await post(fixture.app, restore(taskId, first.id)));
    assert.equal(reply.payload_type, 'state_restore.ack');
    assert.deepEqual(reply.payload, { ok: true, task_id: taskId, snapshot_id: first.id });
    assert.deepEqual(await snapshots.listVersions(taskId), [1, 2, 3]);
    const latest = await snapshots.get(taskId);
    assert.equal(latest?.version, 3);
    assert.equal(latest?.checkpoint, true);
    assert.notEqual(latest?.id, first.id);
    assert.deepEqual(latest?.data, {
      count: 1,
      seen: new Set(['a']),
      at: new Date('2026-01-02T03:04:05.678Z'),
    });
    assert.deepEqual((await snapshots.get(taskId, 2))?.data, {
      count: 2,
      seen: new Set(['a', 'b']),
      big: 2n ** 70n,
    });
  });

  test('a snapshot id the task does not have is acknowledged with ok false and changes nothing', async () => {
    const taskId = await runCounter();
    const reply = resultOf(await post(fixture.app, restore(taskId, 'snap_nope')));
    assert.deepEqual(reply.payload, {
      ok: false,
      task_id: taskId,
      snapshot_id: 'snap_nope',
      error: `task ${taskId} has no snapshot snap_nope`,
    });
    assert.deepEqual(await fixture.engine.store.state.snapshots.listVersions(taskId), [1, 2]);
  });

  test("another task's snapshot id is not restored", async () => {
    const [a, b] = [await runCounter(), await runCounter()];
    const ofA = await fixture.engine.store.state.snapshots.get(a, 1);
    const reply = resultOf(await post(fixture.app, restore(b, ofA!.id)));
    assert.equal(reply.payload.ok, false);
  });

  test('an unknown task is -32010; a payload without snapshot_id is -32602', async () => {
    const unknown = errorOf(await post(fixture.app, restore('tsk_unknown', 'snap_1')));
    assert.equal(unknown.code, -32010);
    assert.deepEqual(unknown.data?.details, { task_id: 'tsk_unknown' });
    const bad = rpc(envelope({ payload_type: 'state_restore', payload: { task_id: 'tsk_1' } }));
    assert.equal(errorOf(await post(fixture.app, bad)).code, -32602);
  });
});
