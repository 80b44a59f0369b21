import type { StepContext } from '../handler.ts';

/**
 * The idempotency key a built-in sends for a step's side effect (an `asap` task request, an
 * `http` POST or PATCH): `<task id>/<step name>` on the step's first run, `<task id>/<step
 * name>/r<n>` after its n-th task replay. Every attempt of one run sends the same key, so a retry
 * after a lost answer re-attaches to the operation it started; a replay sends a new one, since the
 * old key would only get back the operation that failed. The first run keeps the key steps used
 * before replays were counted.
 */
export function stepIdempotencyKey(context: Pick<StepContext, 'task' | 'step'>): string {
  const key = `${context.task.id}/${context.step.name}`;
  return context.step.replays === 0 ? key : `${key}/r${context.step.replays}`;
}
