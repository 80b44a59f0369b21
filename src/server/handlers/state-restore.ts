/**
 * `state_restore` (SPEC §3): makes an earlier state snapshot of the task the latest again (see
 * `TaskState.restore`), so the task's steps read it from `ctx.state.get()`. Answers
 * `state_restore.ack` as the reference examples do: `{ok, task_id, snapshot_id}`, with `error`
 * when the task has no snapshot of that id. An unknown task is -32010.
 */
import type { Engine } from '../../engine/index.ts';
import type { StateRestore } from '../../protocol/index.ts';
import { taskState } from '../../state/index.ts';
import type { AsapHandler } from '../registry.ts';
import { getTaskOrNotFound } from './tasks.ts';

export const STATE_RESTORE_ACK_PAYLOAD_TYPE = 'state_restore.ack';

export function stateRestoreHandler(engine: Engine): AsapHandler {
  return async (envelope, context) => {
    const { task_id: taskId, snapshot_id: snapshotId } = envelope.payload as StateRestore;
    await getTaskOrNotFound(engine, taskId, { history: false });
    const restored = await taskState(engine.store.state.snapshots, taskId).restore(snapshotId);
    const ack = { ok: restored !== undefined, task_id: taskId, snapshot_id: snapshotId };
    return context.reply(
      STATE_RESTORE_ACK_PAYLOAD_TYPE,
      restored ? ack : { ...ack, error: `task ${taskId} has no snapshot ${snapshotId}` },
    );
  };
}
