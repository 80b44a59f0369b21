import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  planCancel,
  planLeaseExpiry,
  planOutcomes,
  planReplay,
  planResolve,
} from '../../src/engine/transitions.ts';
import type { StepRow, TaskState } from '../../src/storage/records.ts';
import { sketchTask } from '../storage/contract.ts';

const NOW = 1_700_000_100_000;
const context = { now: NOW, newId: () => 'dl_1', random: () => 0.5 };

/** A task state from a sketch, with step statuses overridden. */
function state(
  steps: { name: string; depends_on?: string[] }[],
  statuses: Record<string, Partial<StepRow>>,
): TaskState {
  const draft = sketchTask(steps);
  return {
    task: { ...draft.task, status: 'running' },
    steps: draft.steps.map((step, index) => ({ ...step, id: index + 1, ...statuses[step.name] })),
  };
}

const running = {
  status: 'running',
  attempts: 1,
  leaseOwner: 'w',
  leaseUntil: NOW + 1000,
  startedAt: NOW - 10,
} as const;

test('a stale outcome (old attempt, or step no longer running) changes nothing', () => {
  const s = state([{ name: 'a' }], { a: { ...running, attempts: 2 } });
  assert.equal(planOutcomes(s, [{ kind: 'completed', stepId: 1, attempt: 1, result: 'x' }], context), null);
  const cancelled = state([{ name: 'a' }], { a: { status: 'cancelled', attempts: 1 } });
  assert.equal(
    planOutcomes(cancelled, [{ kind: 'completed', stepId: 1, attempt: 1, result: 'x' }], context),
    null,
  );
});

test('a permanent failure skips every transitive dependent, fails the task and adds one dead letter', () => {
  const s = state(
    [{ name: 'a' }, { name: 'b', depends_on: ['a'] }, { name: 'c', depends_on: ['b'] }, { name: 'x' }],
    { a: running, x: { status: 'completed' } },
  );
  const change = planOutcomes(
    s,
    [
      {
        kind: 'failed',
        stepId: 1,
        attempt: 1,
        retryable: false,
        reason: 'error',
        error: { name: 'Error', message: 'bad' },
      },
    ],
    context,
  )!;
  assert.deepEqual(
    change.steps!.map((step) => [step.name, step.status]),
    [
      ['a', 'failed'],
      ['b', 'skipped'],
      ['c', 'skipped'],
    ],
  );
  assert.equal(change.task!.status, 'failed');
  assert.equal(change.deadLetter!.step, 'a');
  assert.deepEqual(
    change.events!.map((e) => e.type),
    ['step.failed', 'step.skipped', 'step.skipped', 'task.failed', 'dlq.added'],
  );
});

test('a retryable failure with attempts left schedules a retry at now + delay', () => {
  const s = state([{ name: 'a' }], { a: running });
  const change = planOutcomes(
    s,
    [
      {
        kind: 'failed',
        stepId: 1,
        attempt: 1,
        retryable: true,
        reason: 'error',
        error: { name: 'Error', message: 'x' },
      },
    ],
    context,
  )!;
  assert.equal(change.steps![0]!.status, 'ready');
  assert.equal(change.steps![0]!.runAt, NOW + 10); // sketch policy: base 10 ms, jitter 0
  assert.equal(change.steps![0]!.leaseOwner, null);
  assert.equal(change.deadLetter, undefined);
});

test('a released step goes back to ready without counting the attempt', () => {
  const s = state([{ name: 'a' }], { a: running });
  const change = planOutcomes(
    s,
    [{ kind: 'released', stepId: 1, attempt: 1, reason: 'shutdown', runAt: NOW }],
    context,
  )!;
  assert.deepEqual([change.steps![0]!.status, change.steps![0]!.attempts], ['ready', 0]);
  assert.equal(change.events![0]!.type, 'step.deferred');
});

test('lease expiry applies only to leases that really ended', () => {
  const live = state([{ name: 'a' }], { a: running });
  assert.equal(planLeaseExpiry(live, [{ stepId: 1, attempt: 1 }], context), null);
  const dead = state([{ name: 'a' }], { a: { ...running, leaseUntil: NOW - 1 } });
  const change = planLeaseExpiry(dead, [{ stepId: 1, attempt: 1 }], context)!;
  assert.equal(change.steps![0]!.status, 'ready');
  assert.equal(change.events![0]!.reason, 'lease_expired');
});

test('cancel refuses finished tasks and cancels every active step', () => {
  const s = state([{ name: 'a' }, { name: 'b', depends_on: ['a'] }, { name: 'c' }], {
    a: running,
    c: { status: 'completed' },
  });
  const change = planCancel(s, context)!;
  assert.deepEqual(
    change.steps!.map((step) => [step.name, step.status]),
    [
      ['a', 'cancelled'],
      ['b', 'cancelled'],
    ],
  );
  assert.equal(change.task!.status, 'cancelled');
  assert.throws(
    () => planCancel({ ...s, task: { ...s.task, status: 'completed' } }, context),
    /already completed/,
  );
});

test('replay resets failed and skipped steps and makes the roots of the rest ready', () => {
  const s = state([{ name: 'a' }, { name: 'b', depends_on: ['a'] }, { name: 'c', depends_on: ['b'] }], {
    a: { status: 'completed', attempts: 1, result: 1 },
    b: { status: 'failed', attempts: 3, replays: 1 },
    c: { status: 'skipped', replays: 1 },
  });
  s.task.status = 'failed';
  const change = planReplay(s, context)!;
  const byName = Object.fromEntries(
    change.steps!.map((step) => [step.name, [step.status, step.attempts, step.replays]]),
  );
  assert.deepEqual(byName, { b: ['ready', 0, 2], c: ['pending', 0, 2] });
  assert.equal(change.task!.status, 'running');
  assert.equal(change.closeDeadLetters, true);
});

test('resolve un-skips dependents only when nothing else blocks them', () => {
  const s = state(
    [{ name: 'a' }, { name: 'b' }, { name: 'c', depends_on: ['a'] }, { name: 'd', depends_on: ['a', 'b'] }],
    { a: { status: 'failed' }, b: { status: 'failed' }, c: { status: 'skipped' }, d: { status: 'skipped' } },
  );
  s.task.status = 'failed';
  const change = planResolve(s, 'a', { manual: true }, context)!;
  const byName = Object.fromEntries(change.steps!.map((step) => [step.name, step.status]));
  assert.deepEqual(byName, { a: 'resolved', c: 'ready' });
  assert.equal(change.task!.status, 'running');
});
