/**
 * `task.request` (SPEC §3): starts the template named by `skill_id` with `input`, waits up to
 * `config.timeout_seconds` (default 30) and answers `task.response`: completed or failed with the
 * result, else `working` with the `task_id` (follow it with `state_query`).
 */
import type { Engine } from '../../engine/index.ts';
import type { TaskRequest } from '../../protocol/index.ts';
import type { AsapHandler } from '../registry.ts';
import { recordUsage, startRequestedTask, taskResponseOf, usageParties, waitForFinish } from './tasks.ts';

export const DEFAULT_TASK_TIMEOUT_SECONDS = 30;

export interface TaskRequestOptions {
  /** When the request has no `config.timeout_seconds` (default 30). */
  defaultTimeoutSeconds?: number;
  /** How often a wait polls the store (default 500 ms). */
  pollMs?: number;
}

export function taskRequestHandler(engine: Engine, options: TaskRequestOptions = {}): AsapHandler {
  return async (envelope, context) => {
    const request = envelope.payload as TaskRequest;
    const started = await startRequestedTask(engine, request);
    const timeoutSeconds =
      request.config?.timeout_seconds ?? options.defaultTimeoutSeconds ?? DEFAULT_TASK_TIMEOUT_SECONDS;
    const finished = await waitForFinish(engine, started.id, {
      timeoutMs: timeoutSeconds * 1000,
      signal: context.signal,
      ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
    });
    if (finished) await recordUsage(engine, finished, usageParties(envelope, context));
    return context.reply('task.response', taskResponseOf(finished ?? started));
  };
}
