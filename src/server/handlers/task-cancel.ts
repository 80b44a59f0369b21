/**
 * `task.cancel` (SPEC §3): cancels the task and answers `task.response` with its new status. An
 * unknown task is -32010; one already finished is -32030 with its status.
 */
import type { Engine, TaskView } from '../../engine/index.ts';
import {
  taskAlreadyCompletedError,
  taskNotFoundError,
  taskResponsePayload,
  type TaskCancel,
} from '../../protocol/index.ts';
import { isBatonError } from '../../util/errors.ts';
import type { AsapHandler } from '../registry.ts';
import { asapStatus } from './tasks.ts';

export function taskCancelHandler(engine: Engine): AsapHandler {
  return async (envelope, context) => {
    const { task_id: taskId } = envelope.payload as TaskCancel;
    let task: TaskView;
    try {
      task = await engine.cancelTask(taskId);
    } catch (error) {
      if (isBatonError(error) && error.code === 'not_found') throw taskNotFoundError(taskId);
      if (isBatonError(error) && error.code === 'conflict') {
        const current = await engine.getTask(taskId, { history: false });
        throw taskAlreadyCompletedError(taskId, asapStatus(current.status));
      }
      throw error;
    }
    return context.reply(
      'task.response',
      taskResponsePayload({ task_id: task.id, status: asapStatus(task.status) }),
    );
  };
}
