/**
 * Log lines for the engine's committed events (SPEC §7): a step that completed, failed or will
 * be retried, a task that finished, a dead letter. Written after the change is durable, from the
 * committed events, so a line never announces what a rolled-back transaction did. A worker logs
 * `engine.step.started` itself, inside the step's context.
 */
import type { Logger } from 'pino';
import type { EventRecord, EventType } from '../storage/records.ts';

type Level = 'debug' | 'info' | 'warn' | 'error';

/** The line of each logged event type: its level and name. Types not listed are not logged. */
const EVENT_LINES: Partial<Record<EventType, { level: Level; name: string }>> = {
  // One per step: at info it would be most of a busy engine's log volume.
  'step.completed': { level: 'debug', name: 'engine.step.completed' },
  'step.retry_scheduled': { level: 'info', name: 'engine.step.retry_scheduled' },
  'step.failed': { level: 'warn', name: 'engine.step.failed' },
  // One per task: at info it cost the engine drain 5–15 % CPU per one-step task (bench:logging).
  'task.completed': { level: 'debug', name: 'engine.task.completed' },
  'task.failed': { level: 'warn', name: 'engine.task.failed' },
  'task.cancelled': { level: 'info', name: 'engine.task.cancelled' },
  'dlq.added': { level: 'warn', name: 'engine.dlq.added' },
};

/** Logs the events that have a line, at their level; costs a lookup per event otherwise. */
export function logEngineEvents(logger: Logger, events: readonly EventRecord[]): void {
  for (const event of events) {
    const line = EVENT_LINES[event.type];
    if (line === undefined || !logger.isLevelEnabled(line.level)) continue;
    logger[line.level](fieldsOf(event), line.name);
  }
}

function fieldsOf(event: EventRecord): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  if (event.taskId !== null) {
    fields.task_id = event.taskId;
    // A task's lines are correlated by its id, as its steps' are (see the worker).
    fields.correlation_id = event.taskId;
  }
  if (event.step !== null) fields.step = event.step;
  if (event.attempt !== null) fields.attempt = event.attempt;
  if (event.reason !== null) fields.reason = event.reason;
  if (event.error !== null) fields.error = event.error;
  if (event.type === 'step.retry_scheduled' && event.data !== null) {
    fields.delay_ms = event.data.delay_ms;
    fields.retry_at = event.data.run_at;
  }
  return fields;
}
