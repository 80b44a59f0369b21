/**
 * Baton tasks in ASAP terms: status mapping (SPEC §2.3), starting a task from a `task.request`,
 * the `task.response` payload of a task, and waiting for a task to end without outliving a
 * deadline or an abort.
 */
import type { Logger } from 'pino';
import type { Engine, TaskView } from '../../engine/index.ts';
import type { AsapHandlerContext } from '../registry.ts';
import {
  taskNotFoundError,
  taskResponsePayload,
  type Envelope,
  type JsonObject,
  type TaskRequest,
  type TaskResponse,
  type TaskStatus,
} from '../../protocol/index.ts';
import { isBatonError, NotFoundError } from '../../util/errors.ts';

const ASAP_STATUS: Record<TaskView['status'], TaskStatus> = {
  pending: 'submitted',
  running: 'working',
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
};

/** SPEC §2.3: pending → submitted, running → working, then the terminal states as they are. */
export function asapStatus(status: TaskView['status']): TaskStatus {
  return ASAP_STATUS[status];
}

export function isFinished(task: Pick<TaskView, 'status'>): boolean {
  return task.status === 'completed' || task.status === 'failed' || task.status === 'cancelled';
}

const FINISHED_STEP: ReadonlySet<string> = new Set([
  'completed',
  'failed',
  'cancelled',
  'skipped',
  'resolved',
]);

export function isStepFinished(status: string): boolean {
  return FINISHED_STEP.has(status);
}

/** Finished steps / all steps, 0..1. */
export function progressOf(statuses: Iterable<string>): number {
  let all = 0;
  let done = 0;
  for (const status of statuses) {
    all++;
    if (isStepFinished(status)) done++;
  }
  return all === 0 ? 1 : done / all;
}

/** The task, or -32010 (`asap:task/not_found`) when the engine has none with this id. */
export async function getTaskOrNotFound(
  engine: Engine,
  taskId: string,
  options?: { history?: boolean },
): Promise<TaskView> {
  try {
    return await engine.getTask(taskId, options);
  } catch (error) {
    if (isBatonError(error) && error.code === 'not_found') throw taskNotFoundError(taskId);
    throw error;
  }
}

/**
 * Starts the task a `task.request` asks for: `skill_id` is a template id (`namespace.name`, or
 * `namespace.name@1.2.3`), `input` the task input, `config.idempotency_key` its idempotency key.
 */
export async function startRequestedTask(engine: Engine, request: TaskRequest): Promise<TaskView> {
  const skill = request.skill_id;
  let known: boolean;
  try {
    known = engine.templates.resolve(skill) !== undefined;
  } catch {
    known = false; // a malformed reference is an unknown skill too
  }
  if (!known) {
    throw new NotFoundError(
      `unknown skill ${JSON.stringify(skill)}: skills are template ids, namespace.name or namespace.name@version (see the manifest)`,
    );
  }
  const key = request.config?.idempotency_key ?? undefined;
  const { task } = await engine.startTask({
    template: skill,
    input: request.input,
    ...(key !== undefined ? { idempotencyKey: key } : {}),
  });
  return task;
}

/**
 * The `task.response` payload of a task. A finished task carries its result (each leaf step's
 * result, by step name; `{error}` when it failed) and `metrics.duration_ms`; a task still going
 * is `working`, whatever its step states.
 */
export function taskResponseOf(task: TaskView): TaskResponse {
  if (!isFinished(task)) return taskResponsePayload({ task_id: task.id, status: 'working' });
  let result: JsonObject | null = null;
  if (task.status === 'completed') result = task.result ?? {};
  else if (task.status === 'failed') result = { error: task.error ? { ...task.error } : null };
  const duration = durationMs(task);
  return taskResponsePayload({
    task_id: task.id,
    status: asapStatus(task.status),
    result,
    metrics: duration === null ? null : { duration_ms: duration },
  });
}

/** From the task's start (or creation) to its end, in ms; `null` while it has not ended. */
function durationMs(task: TaskView): number | null {
  if (task.finished_at === null) return null;
  const ms = Date.parse(task.finished_at) - Date.parse(task.started_at ?? task.created_at);
  return Number.isFinite(ms) ? Math.max(0, ms) : null;
}

/**
 * Records a finished task in the metering store (asap-wire §7) as one usage event of this agent
 * for the requesting agent: its duration and its step attempts as API calls. A failure to record
 * is logged, never the request's failure.
 */
export async function recordUsage(
  engine: Engine,
  task: TaskView,
  parties: { agentId: string; consumerId: string; logger: Logger },
): Promise<void> {
  if (!isFinished(task)) return;
  try {
    await engine.store.state.metering.record({
      task_id: task.id,
      agent_id: parties.agentId,
      consumer_id: parties.consumerId,
      metrics: {
        duration_ms: durationMs(task) ?? 0,
        api_calls: task.steps.reduce((sum, step) => sum + step.attempts, 0),
      },
      timestamp: new Date(task.finished_at ?? Date.now()),
    });
  } catch (error) {
    parties.logger.warn({ err: error, task_id: task.id }, 'asap.metering.record_failed');
  }
}

/** This agent serves `envelope`'s sender. */
export function usageParties(envelope: Envelope, context: AsapHandlerContext) {
  return { agentId: context.manifest.id, consumerId: envelope.sender, logger: context.logger };
}

export interface WaitOptions {
  timeoutMs: number;
  signal: AbortSignal;
  /** Polls the store this often for tasks finished by other processes (default 500 ms). */
  pollMs?: number;
}

/**
 * The task once it has finished, or `undefined` when `timeoutMs` passes or `signal` aborts first.
 * Woken by this process's events; polling covers tasks that other processes finish.
 */
export async function waitForFinish(
  engine: Engine,
  taskId: string,
  options: WaitOptions,
): Promise<TaskView | undefined> {
  const deadline = Date.now() + options.timeoutMs;
  const pollMs = options.pollMs ?? 500;
  let pending: boolean;
  let wake: (() => void) | undefined;
  const unsubscribe = engine.on('*', (event) => {
    if (event.task_id !== taskId || event.step !== null) return;
    pending = true;
    wake?.();
  });
  try {
    for (;;) {
      pending = false;
      const task = await engine.getTask(taskId, { history: false });
      if (isFinished(task)) return task;
      const remaining = deadline - Date.now();
      if (remaining <= 0 || options.signal.aborted) return undefined;
      if (!pending) await pause(Math.min(pollMs, remaining), options.signal, (resolve) => (wake = resolve));
    }
  } finally {
    unsubscribe();
  }
}

/**
 * Waits `ms`, or less: until `signal` aborts or the function handed to `expose` is called. The
 * timer never outlives the wait.
 */
export function pause(
  ms: number,
  signal: AbortSignal,
  expose: (wake: (() => void) | undefined) => void,
): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      expose(undefined);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    expose(done);
    if (signal.aborted) done();
  });
}
