/**
 * The store contract: every Store implementation runs this same suite (SQLite now, PostgreSQL
 * next). It checks storage behaviour only; engine rules are tested in test/engine.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { planNewTask, planOutcomes, planReplay } from '../../src/engine/transitions.ts';
import type { StepRow, TaskRow } from '../../src/storage/records.ts';
import type { Store, TaskDraft } from '../../src/storage/store.ts';
import { ConflictError } from '../../src/util/errors.ts';
import { newTaskId, ulid } from '../../src/util/ids.ts';

export interface StoreFactory {
  /** A fresh, empty, migrated store. */
  open(): Promise<Store>;
  /** Releases whatever `open` created (files, databases). */
  cleanup?(): Promise<void>;
}

const HANDLER = 'test/noop@1.0.0';
const T0 = 1_700_000_000_000;

interface StepSketch {
  name: string;
  depends_on?: string[];
  handler?: string;
}

/** A task draft in the shape the engine builds, with root steps ready at `now`. */
export function sketchTask(
  steps: StepSketch[],
  options: {
    now?: number;
    input?: unknown;
    idempotencyKey?: string;
    name?: string;
    traceparent?: string;
  } = {},
): TaskDraft {
  const now = options.now ?? T0;
  const task: TaskRow = {
    id: newTaskId(now),
    namespace: 'test',
    name: options.name ?? 'flow',
    version: '1.0.0',
    status: 'pending',
    input: options.input ?? { n: 1 },
    error: null,
    idempotencyKey: options.idempotencyKey ?? null,
    traceparent: options.traceparent ?? null,
    createdAt: now,
    startedAt: null,
    finishedAt: null,
    updatedAt: now,
  };
  const rows: Omit<StepRow, 'id'>[] = steps.map((step, position) => ({
    taskId: task.id,
    position,
    name: step.name,
    handler: step.handler ?? HANDLER,
    spec: {
      depends_on: step.depends_on ?? [],
      retry: {
        max_attempts: 3,
        backoff: { base_ms: 10, factor: 2, max_ms: 100, jitter: 0 },
        max_retry_after_ms: 1000,
      },
      retryable: true,
      timeout_ms: null,
      handler_config: null,
    },
    status: 'pending',
    attempts: 0,
    replays: 0,
    runAt: null,
    leaseOwner: null,
    leaseUntil: null,
    startedAt: null,
    finishedAt: null,
    result: null,
    error: null,
  }));
  const events = planNewTask(task, rows, { now, newId: ulid });
  return { task, steps: rows, events };
}

/** Creates one task through the batch API. */
export async function createOne(store: Store, draft: TaskDraft) {
  const [result] = await store.createTasks([draft]);
  return result!;
}

const context = (now: number) => ({ now, newId: ulid, random: () => 0.5 });

export function storeContract(name: string, factory: StoreFactory): void {
  describe(`store contract: ${name}`, () => {
    let store: Store;

    before(async () => {
      store = await factory.open();
    });
    after(async () => {
      await store.close();
      await factory.cleanup?.();
    });

    // Claims and lease scans see every step earlier tests left runnable or running: cancel those
    // tasks so each test starts with nothing runnable.
    beforeEach(async () => {
      const far = Math.floor(Number.MAX_SAFE_INTEGER / 2);
      for (;;) {
        await store.claimSteps({
          workerId: 'drain',
          limit: 500,
          handlers: [HANDLER, 'other/h@1.0.0'],
          now: far,
          leaseMs: 1,
        });
        const running = await store.findExpiredLeases(far * 2, 500);
        if (running.length === 0) break;
        await store.updateTasks(
          running.map((lease) => lease.taskId),
          (state) => ({
            task: { ...state.task, status: 'cancelled' },
            steps: state.steps.map((step) => ({ ...step, status: 'cancelled' as const })),
          }),
        );
      }
    });

    test('migrate is idempotent', async () => {
      const again = await store.migrate();
      assert.deepEqual(again.applied, []);
      await store.ping();
    });

    test('createTask stores the task and steps and returns them with events', async () => {
      const draft = sketchTask([{ name: 'a' }, { name: 'b', depends_on: ['a'] }], {
        input: { deep: { list: [1, 'x', null] } },
      });
      const { state, created, events } = await createOne(store, draft);
      assert.equal(created, true);
      assert.deepEqual(state.task, draft.task);
      assert.deepEqual(
        state.steps.map((s) => [s.name, s.status, s.position, s.spec.depends_on]),
        [
          ['a', 'ready', 0, []],
          ['b', 'pending', 1, ['a']],
        ],
      );
      assert.ok(state.steps.every((s) => Number.isInteger(s.id)));
      assert.deepEqual(
        events.map((e) => e.type),
        ['task.created', 'step.ready'],
      );
      assert.ok(events[0]!.seq < events[1]!.seq);
      const loaded = await store.getTask(draft.task.id);
      assert.deepEqual(loaded, state);
      assert.equal(await store.getTask('task_missing'), undefined);
    });

    test('an idempotency key returns the existing task for the same template', async () => {
      const first = await createOne(store, sketchTask([{ name: 'a' }], { idempotencyKey: 'order-1' }));
      const again = await createOne(store, sketchTask([{ name: 'a' }], { idempotencyKey: 'order-1' }));
      assert.equal(again.created, false);
      assert.equal(again.state.task.id, first.state.task.id);
      assert.deepEqual(again.events, []);
      const otherTemplate = await createOne(
        store,
        sketchTask([{ name: 'a' }], { idempotencyKey: 'order-1', name: 'other' }),
      );
      assert.equal(otherTemplate.created, true);
      const otherKey = await createOne(store, sketchTask([{ name: 'a' }], { idempotencyKey: 'order-2' }));
      assert.equal(otherKey.created, true);
    });

    test('createTasks stores a batch atomically, honouring idempotency keys inside the batch', async () => {
      const drafts = [
        sketchTask([{ name: 'a' }], { idempotencyKey: 'batch-1' }),
        sketchTask([{ name: 'a' }], { idempotencyKey: 'batch-1' }),
        sketchTask([{ name: 'a' }, { name: 'b', depends_on: ['a'] }]),
      ];
      const results = await store.createTasks(drafts);
      assert.deepEqual(
        results.map((r) => r.created),
        [true, false, true],
      );
      assert.equal(results[1]!.state.task.id, results[0]!.state.task.id);
      assert.equal(results[2]!.state.steps.length, 2);
      const seqs = results.flatMap((r) => r.events.map((e) => e.seq));
      assert.deepEqual(
        seqs,
        [...seqs].sort((x, y) => x - y),
      );
      assert.deepEqual(await store.createTasks([]), []);
      // A failing draft (duplicate step name) rolls the whole batch back.
      const good = sketchTask([{ name: 'a' }]);
      const bad = sketchTask([{ name: 'a' }, { name: 'a' }]);
      await assert.rejects(store.createTasks([good, bad]));
      assert.equal(await store.getTask(good.task.id), undefined);
    });

    test("a task's traceparent is stored, read back, kept by updates and handed to its claimed steps", async () => {
      const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      const { state } = await createOne(store, sketchTask([{ name: 'a' }], { traceparent }));
      assert.equal(state.task.traceparent, traceparent);
      const plain = await createOne(store, sketchTask([{ name: 'a' }]));
      assert.equal(plain.state.task.traceparent, null);
      const { claimed } = await store.claimSteps({
        workerId: 'w1',
        limit: 10,
        handlers: [HANDLER],
        now: T0 + 5,
        leaseMs: 1000,
      });
      const byTask = new Map(claimed.map((c) => [c.task.id, c.task.traceparent]));
      assert.equal(byTask.get(state.task.id), traceparent);
      assert.equal(byTask.get(plain.state.task.id), null);
      await store.updateTasks([state.task.id], (s) => ({ task: { ...s.task, status: 'cancelled' } }));
      assert.equal((await store.getTask(state.task.id))!.task.traceparent, traceparent);
    });

    test('claimSteps leases runnable steps of known handlers, starts the task, passes input and dependency results', async () => {
      const { state } = await createOne(
        store,
        sketchTask(
          [{ name: 'a' }, { name: 'b', handler: 'other/h@1.0.0' }, { name: 'c', depends_on: ['a'] }],
          { input: { id: 7 } },
        ),
      );
      const unknown = await store.claimSteps({
        workerId: 'w1',
        limit: 10,
        handlers: ['nobody/x@1.0.0'],
        now: T0,
        leaseMs: 1000,
      });
      assert.equal(unknown.claimed.length, 0);
      const { claimed, events } = await store.claimSteps({
        workerId: 'w1',
        limit: 10,
        handlers: [HANDLER],
        now: T0 + 5,
        leaseMs: 1000,
      });
      assert.deepEqual(
        claimed.map((c) => c.step.name),
        ['a'],
      );
      const [a] = claimed;
      assert.equal(a!.step.status, 'running');
      assert.equal(a!.step.attempts, 1);
      assert.equal(a!.step.leaseOwner, 'w1');
      assert.equal(a!.step.leaseUntil, T0 + 1005);
      assert.deepEqual(a!.task.input, { id: 7 });
      assert.equal(a!.task.id, state.task.id);
      assert.deepEqual(
        events.map((e) => [e.type, e.step]),
        [
          ['task.started', null],
          ['step.started', 'a'],
        ],
      );
      const task = await store.getTask(state.task.id);
      assert.equal(task!.task.status, 'running');

      // Complete a so c becomes ready, then c is claimed with a's result.
      await store.updateTasks([state.task.id], (s) =>
        planOutcomes(
          s,
          [{ kind: 'completed', stepId: a!.step.id, attempt: 1, result: { ok: true } }],
          context(T0 + 10),
        ),
      );
      const next = await store.claimSteps({
        workerId: 'w1',
        limit: 10,
        handlers: [HANDLER],
        now: T0 + 20,
        leaseMs: 1000,
      });
      assert.deepEqual(
        next.claimed.map((c) => c.step.name),
        ['c'],
      );
      assert.deepEqual(next.claimed[0]!.results, { a: { ok: true } });
      assert.deepEqual(
        next.events.map((e) => e.type),
        ['step.started'],
      );
    });

    test('claims respect run_at, order by run_at and the limit', async () => {
      const late = sketchTask([{ name: 'a' }], { now: T0 + 100 });
      const early = sketchTask([{ name: 'a' }], { now: T0 + 50 });
      const future = sketchTask([{ name: 'a' }], { now: T0 + 10_000 });
      for (const draft of [late, early, future]) await createOne(store, draft);
      assert.equal(await store.nextRunAt([HANDLER]), T0 + 50);
      const one = await store.claimSteps({
        workerId: 'w',
        limit: 1,
        handlers: [HANDLER],
        now: T0 + 200,
        leaseMs: 1000,
      });
      assert.deepEqual(
        one.claimed.map((c) => c.task.id),
        [early.task.id],
      );
      const rest = await store.claimSteps({
        workerId: 'w',
        limit: 10,
        handlers: [HANDLER],
        now: T0 + 200,
        leaseMs: 1000,
      });
      assert.deepEqual(
        rest.claimed.map((c) => c.task.id),
        [late.task.id],
      );
      assert.equal(await store.nextRunAt([HANDLER]), T0 + 10_000);
      assert.equal(await store.nextRunAt([]), null);
    });

    test('concurrent claims never hand the same step to two workers', async () => {
      for (let i = 0; i < 40; i++) await createOne(store, sketchTask([{ name: 'a' }]));
      const claims = await Promise.all(
        ['w1', 'w2', 'w3', 'w4'].map((workerId) =>
          store.claimSteps({ workerId, limit: 15, handlers: [HANDLER], now: T0 + 1, leaseMs: 1000 }),
        ),
      );
      const ids = claims.flatMap((c) => c.claimed.map((x) => x.step.id));
      assert.equal(ids.length, 40);
      assert.equal(new Set(ids).size, 40);
    });

    test('renewLeases extends held leases and reports lost ones', async () => {
      await createOne(store, sketchTask([{ name: 'a' }]));
      const { claimed } = await store.claimSteps({
        workerId: 'w1',
        limit: 1,
        handlers: [HANDLER],
        now: T0,
        leaseMs: 100,
      });
      const lease = { stepId: claimed[0]!.step.id, taskId: claimed[0]!.task.id, attempt: 1 };
      assert.deepEqual(await store.renewLeases('w1', [lease], T0 + 5000), []);
      assert.deepEqual(await store.findExpiredLeases(T0 + 4000, 10), []);
      const stale = { ...lease, attempt: 2 };
      assert.deepEqual(await store.renewLeases('w1', [stale], T0 + 6000), [stale]);
      assert.deepEqual(await store.renewLeases('w2', [lease], T0 + 6000), [lease]);
      assert.deepEqual(await store.findExpiredLeases(T0 + 5001, 10), [lease]);
    });

    test('updateTasks applies planned changes atomically and rolls back when a planner throws', async () => {
      const one = await createOne(store, sketchTask([{ name: 'a' }]));
      const two = await createOne(store, sketchTask([{ name: 'a' }]));
      await assert.rejects(
        store.updateTasks([one.state.task.id, two.state.task.id], (state) => {
          if (state.task.id === two.state.task.id) throw new ConflictError('no');
          return { task: { ...state.task, status: 'cancelled' }, events: [] };
        }),
        ConflictError,
      );
      assert.equal((await store.getTask(one.state.task.id))!.task.status, 'pending');
      const events = await store.updateTasks([one.state.task.id, 'task_missing'], (state) => ({
        task: { ...state.task, status: 'cancelled', finishedAt: T0 + 1 },
        steps: state.steps.map((s) => ({ ...s, status: 'cancelled' as const, result: { kept: 'json' } })),
        events: [
          {
            type: 'task.cancelled',
            taskId: state.task.id,
            step: null,
            from: 'pending',
            to: 'cancelled',
            reason: 'test',
            attempt: null,
            error: null,
            data: { x: 1 },
            at: T0 + 1,
          },
        ],
      }));
      assert.deepEqual(
        events.map((e) => [e.type, e.reason, e.data]),
        [['task.cancelled', 'test', { x: 1 }]],
      );
      const loaded = await store.getTask(one.state.task.id);
      assert.equal(loaded!.task.status, 'cancelled');
      assert.equal(loaded!.task.finishedAt, T0 + 1);
      assert.deepEqual(loaded!.steps[0]!.result, { kept: 'json' });
    });

    test('events are listed in order, by task and after a sequence number', async () => {
      const { state, events } = await createOne(store, sketchTask([{ name: 'a' }, { name: 'b' }]));
      const appended = await store.appendEvents([
        {
          type: 'circuit.opened',
          taskId: null,
          step: null,
          from: 'closed',
          to: null,
          reason: null,
          attempt: null,
          error: null,
          data: { handler: 'h' },
          at: T0,
        },
      ]);
      assert.ok(appended[0]!.seq > events.at(-1)!.seq);
      const forTask = await store.listEvents({ taskId: state.task.id, limit: 100 });
      assert.deepEqual(
        forTask.map((e) => e.type),
        ['task.created', 'step.ready', 'step.ready'],
      );
      const after = await store.listEvents({ afterSeq: events[0]!.seq, limit: 2 });
      assert.deepEqual(
        after.map((e) => e.seq),
        [events[1]!.seq, events[2]!.seq],
      );
      const tail = await store.listEvents({ afterSeq: events[2]!.seq, limit: 10 });
      assert.deepEqual(
        tail.map((e) => e.type),
        ['circuit.opened'],
      );
    });

    test('a failed task gets a dead-letter entry that can be listed, paged and closed', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const { state } = await createOne(store, sketchTask([{ name: 'a' }]));
        ids.push(state.task.id);
        await store.updateTasks([state.task.id], (s) => ({
          task: { ...s.task, status: 'failed' },
          deadLetter: {
            id: ulid(),
            taskId: s.task.id,
            step: 'a',
            error: { name: 'Error', message: `boom ${i}` },
            attempts: 3,
            createdAt: T0 + i,
            closedAt: null,
          },
        }));
      }
      const first = await store.listDeadLetters({ limit: 2 });
      assert.equal(first.items.length, 2);
      assert.ok(first.nextCursor);
      const second = await store.listDeadLetters({ limit: 2, cursor: first.nextCursor });
      const all = [...first.items, ...second.items].filter((d) => ids.includes(d.taskId));
      assert.equal(all.length, 3);
      assert.deepEqual(await store.getDeadLetter(all[0]!.id), all[0]);
      await store.updateTasks([all[0]!.taskId], (s) => ({
        task: { ...s.task, status: 'running', updatedAt: T0 + 9 },
        closeDeadLetters: true,
      }));
      const open = await store.listDeadLetters({ limit: 100 });
      assert.ok(!open.items.some((d) => d.id === all[0]!.id));
      const closed = await store.getDeadLetter(all[0]!.id);
      assert.equal(closed!.closedAt, T0 + 9);
      const withClosed = await store.listDeadLetters({ limit: 100, includeClosed: true });
      assert.ok(withClosed.items.some((d) => d.id === all[0]!.id));
      assert.equal(await store.getDeadLetter('missing'), undefined);
    });

    test('a replay counts one more replay on the steps it resets and none on completed ones', async () => {
      const { state } = await createOne(
        store,
        sketchTask([{ name: 'a' }, { name: 'b', depends_on: ['a'] }, { name: 'c', depends_on: ['b'] }]),
      );
      assert.deepEqual(
        state.steps.map((step) => step.replays),
        [0, 0, 0],
      );
      const claimOne = async (now: number) => {
        const { claimed } = await store.claimSteps({
          workerId: 'w1',
          limit: 10,
          handlers: [HANDLER],
          now,
          leaseMs: 1000,
        });
        assert.equal(claimed.length, 1);
        return claimed[0]!.step;
      };
      const a = await claimOne(T0 + 1);
      await store.updateTasks([state.task.id], (s) =>
        planOutcomes(s, [{ kind: 'completed', stepId: a.id, attempt: 1, result: 'a' }], context(T0 + 2)),
      );
      for (let replays = 1; replays <= 2; replays++) {
        const now = T0 + replays * 100;
        const b = await claimOne(now);
        assert.deepEqual([b.name, b.attempts, b.replays], ['b', 1, replays - 1], 'a claim returns the count');
        await store.updateTasks([state.task.id], (s) =>
          planOutcomes(
            s,
            [
              {
                kind: 'failed',
                stepId: b.id,
                attempt: 1,
                retryable: false,
                reason: 'error',
                error: { name: 'Error', message: 'bad' },
              },
            ],
            context(now + 1),
          ),
        );
        assert.equal((await store.getTask(state.task.id))!.task.status, 'failed');
        await store.updateTasks([state.task.id], (s) => planReplay(s, context(now + 2)));
        const replayed = await store.getTask(state.task.id);
        assert.deepEqual(
          replayed!.steps.map((step) => [step.name, step.status, step.attempts, step.replays]),
          [
            ['a', 'completed', 1, 0],
            ['b', 'ready', 0, replays],
            ['c', 'pending', 0, replays],
          ],
        );
      }
    });

    test('listTasks filters and pages newest first', async () => {
      const made: string[] = [];
      for (let i = 0; i < 5; i++)
        made.push((await createOne(store, sketchTask([{ name: 'a' }], { name: 'paged' }))).state.task.id);
      const page1 = await store.listTasks({ name: 'paged', limit: 2 });
      const page2 = await store.listTasks({ name: 'paged', limit: 2, cursor: page1.nextCursor! });
      const page3 = await store.listTasks({ name: 'paged', limit: 2, cursor: page2.nextCursor! });
      assert.deepEqual(
        [...page1.items, ...page2.items, ...page3.items].map((t) => t.id),
        [...made].reverse(),
      );
      assert.equal(page3.nextCursor, null);
      const pending = await store.listTasks({
        name: 'paged',
        status: 'pending',
        namespace: 'test',
        limit: 10,
      });
      assert.equal(pending.items.length, 5);
      assert.equal((await store.listTasks({ name: 'paged', status: 'failed', limit: 10 })).items.length, 0);
    });

    test('stats count tasks by status and runnable steps', async () => {
      const before = await store.stats();
      await createOne(store, sketchTask([{ name: 'a' }, { name: 'b' }]));
      const after = await store.stats();
      assert.equal(after.tasks.pending, before.tasks.pending + 1);
      assert.equal(after.readySteps, before.readySteps + 2);
    });
  });
}
