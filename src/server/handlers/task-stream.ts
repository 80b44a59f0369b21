/**
 * `task.request` on `/asap/stream` (SPEC §3): starts the task like the unary handler, then sends
 * one `TaskStream` chunk per step event (`progress` = finished steps / all steps) and a final chunk
 * (`final: true`) when the task ends, when `config.timeout_seconds` passes (status `working`), or
 * when the server closes. Each chunk's `chunk` is a JSON text naming the task.
 */
import type { BatonEvent, Engine, TaskView } from '../../engine/index.ts';
import { taskStreamPayload, type Envelope, type TaskRequest, type TaskStream } from '../../protocol/index.ts';
import type { AsapHandlerContext, AsapStreamingHandler } from '../registry.ts';
import {
  asapStatus,
  isFinished,
  pause,
  progressOf,
  recordUsage,
  startRequestedTask,
  usageParties,
} from './tasks.ts';
import { DEFAULT_TASK_TIMEOUT_SECONDS, type TaskRequestOptions } from './task-request.ts';

/** The payload type of stream chunks; the reference TS client accepts only this spelling. */
export const TASK_STREAM_PAYLOAD_TYPE = 'TaskStream';

export function taskStreamHandler(engine: Engine, options: TaskRequestOptions = {}): AsapStreamingHandler {
  return async (envelope, context) => {
    const request = envelope.payload as TaskRequest;
    // Listen before starting, so no event of the new task is missed.
    const events: BatonEvent[] = [];
    let wake: (() => void) | undefined;
    const unsubscribe = engine.on('*', (event) => {
      events.push(event);
      wake?.();
    });
    let task: TaskView;
    try {
      task = await startRequestedTask(engine, request);
    } catch (error) {
      unsubscribe();
      throw error;
    }
    const timeoutSeconds =
      request.config?.timeout_seconds ?? options.defaultTimeoutSeconds ?? DEFAULT_TASK_TIMEOUT_SECONDS;
    const follow: Following = {
      engine,
      context,
      envelope,
      events,
      deadline: Date.now() + timeoutSeconds * 1000,
      pollMs: options.pollMs ?? 500,
      setWake: (resolve) => (wake = resolve),
      unsubscribe,
    };
    return chunks(task, follow);
  };
}

interface Following {
  engine: Engine;
  context: AsapHandlerContext;
  envelope: Envelope;
  /** Events since the request arrived, of every task; consumed as they are read. */
  events: BatonEvent[];
  deadline: number;
  pollMs: number;
  setWake: (resolve: (() => void) | undefined) => void;
  unsubscribe(): void;
}

async function* chunks(started: TaskView, follow: Following): AsyncGenerator<Envelope<TaskStream>> {
  const { engine, context, events } = follow;
  const steps = new Map<string, string>(started.steps.map((step) => [step.name, step.status]));
  try {
    let task = started;
    for (;;) {
      for (const event of events.splice(0)) {
        if (event.task_id !== task.id || event.step === null) continue;
        if (event.to !== null) steps.set(event.step, event.to);
        yield context.reply(TASK_STREAM_PAYLOAD_TYPE, stepChunk(task.id, event, progressOf(steps.values())));
      }
      if (isFinished(task)) break;
      const remaining = follow.deadline - Date.now();
      if (remaining <= 0 || context.signal.aborted) break;
      if (events.length === 0)
        await pause(Math.min(follow.pollMs, remaining), context.signal, follow.setWake);
      // A task that ends here brings its last step events with it: they are sent before the final chunk.
      task = await engine.getTask(task.id, { history: false });
    }
    await recordUsage(engine, task, usageParties(follow.envelope, context));
    yield context.reply(TASK_STREAM_PAYLOAD_TYPE, finalChunk(task, steps));
  } finally {
    follow.unsubscribe();
  }
}

function stepChunk(taskId: string, event: BatonEvent, progress: number): TaskStream {
  return taskStreamPayload({
    chunk: JSON.stringify({
      task_id: taskId,
      event: event.type,
      step: event.step,
      status: event.to,
      attempt: event.attempt,
    }),
    progress,
    status: 'working',
  });
}

/** The last chunk: the task's status, and its result or error once it has finished. */
function finalChunk(task: TaskView, steps: Map<string, string>): TaskStream {
  const finished = isFinished(task);
  const status = finished ? asapStatus(task.status) : 'working';
  return taskStreamPayload({
    chunk: JSON.stringify({ task_id: task.id, status, result: task.result, error: task.error }),
    progress: finished ? progressOf(task.steps.map((step) => step.status)) : progressOf(steps.values()),
    final: true,
    status,
  });
}
