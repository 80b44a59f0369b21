/**
 * `state_query` (SPEC §3): answers `state_snapshot`, a StateSnapshot (asap-wire §7) of the task's
 * current state: `data` holds the ASAP status, the progress and the task (status, steps with their
 * states and results, result, error). `version` counts the task's recorded transitions, so it
 * grows with every change; only the latest version is kept, an older one is -32010.
 */
import type { Engine } from '../../engine/index.ts';
import {
  ASAP_ERRORS,
  AsapError,
  formatTimestamp,
  type JsonObject,
  type StateQuery,
} from '../../protocol/index.ts';
import { ulid } from '../../util/ids.ts';
import type { AsapHandler } from '../registry.ts';
import { asapStatus, getTaskOrNotFound, progressOf } from './tasks.ts';

export const STATE_SNAPSHOT_PAYLOAD_TYPE = 'state_snapshot';

export function stateQueryHandler(engine: Engine): AsapHandler {
  return async (envelope, context) => {
    const { task_id: taskId, version } = envelope.payload as StateQuery;
    const task = await getTaskOrNotFound(engine, taskId);
    const { history = [], ...current } = task;
    const latest = Math.max(1, history.length);
    if (version !== null && version !== latest) {
      throw new AsapError(ASAP_ERRORS.taskNotFound, {
        message: `Task ${taskId} has no state version ${version} (the latest is ${latest})`,
        details: { task_id: taskId, version },
      });
    }
    const data = {
      status: asapStatus(task.status),
      progress: progressOf(task.steps.map((step) => step.status)),
      task: JSON.parse(JSON.stringify(current)) as JsonObject,
    };
    return context.reply(STATE_SNAPSHOT_PAYLOAD_TYPE, {
      id: `snap_${ulid()}`,
      task_id: taskId,
      version: latest,
      data,
      checkpoint: false,
      created_at: formatTimestamp(),
    });
  };
}
