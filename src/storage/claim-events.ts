import type { EventDraft, StepRow } from './records.ts';

/** The history rows a claim writes; every store records claims the same way. */
export function stepStartedEvent(step: StepRow, now: number): EventDraft {
  return {
    type: 'step.started',
    taskId: step.taskId,
    step: step.name,
    from: 'ready',
    to: 'running',
    reason: 'claimed',
    attempt: step.attempts,
    error: null,
    data: null,
    at: now,
  };
}

export function taskStartedEvent(taskId: string, now: number): EventDraft {
  return {
    type: 'task.started',
    taskId,
    step: null,
    from: 'pending',
    to: 'running',
    reason: 'first step claimed',
    attempt: null,
    error: null,
    data: null,
    at: now,
  };
}
