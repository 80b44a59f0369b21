/**
 * The ASAP state store contract (asap-wire §7): `store.state` of every Store implementation runs
 * this same suite. Each test uses its own task and agent ids, so tests share one store.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { StateSnapshotInput, UsageEventInput, UsagePeriod } from '../../src/state/types.ts';
import type { Store } from '../../src/storage/store.ts';
import { isBatonError } from '../../src/util/errors.ts';
import { ulid } from '../../src/util/ids.ts';

export interface StateStoreFactory {
  /** A fresh, migrated store whose `state.metering` reads the time from `now`. */
  open(options: { now: () => number }): Promise<Store>;
  /** Releases whatever `open` created (files, databases). */
  cleanup?(): Promise<void>;
}

const T0 = Date.UTC(2024, 2, 15, 10, 30); // 2024-03-15T10:30:00Z
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const newTask = () => `task_${ulid()}`;
const newAgent = () => `urn:asap:agent:test-${ulid().toLowerCase()}`;

function snapshot(
  taskId: string,
  version: number,
  data: Record<string, unknown> = { v: version },
): StateSnapshotInput {
  return { id: `snap_${ulid()}`, task_id: taskId, version, data, created_at: new Date(T0 + version) };
}

function usage(
  agentId: string,
  at: number,
  tokensIn = 1,
  extra: Partial<UsageEventInput> = {},
): UsageEventInput {
  return {
    task_id: newTask(),
    agent_id: agentId,
    consumer_id: 'urn:asap:agent:consumer',
    metrics: { tokens_in: tokensIn, tokens_out: 0, duration_ms: 0, api_calls: 0 },
    timestamp: new Date(at),
    ...extra,
  };
}

async function rejectsInvalid(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isBatonError(error), `expected a BatonError, got ${String(error)}`);
    assert.equal(error.code, 'validation_failed');
    assert.match(error.message, message);
    return true;
  });
}

export function stateStoreContract(name: string, factory: StateStoreFactory): void {
  describe(`state store contract: ${name}`, () => {
    let store: Store;
    let clock = T0;

    before(async () => {
      store = await factory.open({ now: () => clock });
    });
    after(async () => {
      await store?.close();
      await factory.cleanup?.();
    });

    describe('snapshots', () => {
      test('a saved snapshot reads back equal, with checkpoint defaulting to false', async () => {
        const task = newTask();
        const input = snapshot(task, 1, { step: 'draft', count: 3 });
        const saved = await store.state.snapshots.save(input);
        assert.equal(saved.checkpoint, false);
        assert.deepStrictEqual(await store.state.snapshots.get(task, 1), { ...input, checkpoint: false });
        await store.state.snapshots.save({ ...snapshot(task, 2), checkpoint: true });
        assert.equal((await store.state.snapshots.get(task, 2))?.checkpoint, true);
      });

      test('saving an existing version replaces it', async () => {
        const task = newTask();
        await store.state.snapshots.save(snapshot(task, 1, { first: true }));
        const replacement = { ...snapshot(task, 1, { second: true }), checkpoint: true };
        await store.state.snapshots.save(replacement);
        assert.deepStrictEqual(await store.state.snapshots.get(task, 1), replacement);
        assert.deepEqual(await store.state.snapshots.listVersions(task), [1]);
      });

      test('get without a version returns the highest; versions list ascending, numerically', async () => {
        const task = newTask();
        for (const version of [2, 10, 3]) await store.state.snapshots.save(snapshot(task, version));
        assert.equal((await store.state.snapshots.get(task))?.version, 10);
        assert.deepEqual((await store.state.snapshots.get(task))?.data, { v: 10 });
        assert.deepEqual(await store.state.snapshots.listVersions(task), [2, 3, 10]);
      });

      test('missing tasks and versions read as undefined and []', async () => {
        const task = newTask();
        assert.equal(await store.state.snapshots.get(task), undefined);
        assert.deepEqual(await store.state.snapshots.listVersions(task), []);
        await store.state.snapshots.save(snapshot(task, 1));
        assert.equal(await store.state.snapshots.get(task, 2), undefined);
      });

      test('delete removes one version or all of them, and reports whether anything went', async () => {
        const task = newTask();
        const other = newTask();
        for (const version of [1, 2, 3]) await store.state.snapshots.save(snapshot(task, version));
        await store.state.snapshots.save(snapshot(other, 1));

        assert.equal(await store.state.snapshots.delete(task, 2), true);
        assert.deepEqual(await store.state.snapshots.listVersions(task), [1, 3]);
        assert.equal(await store.state.snapshots.delete(task, 2), false);
        assert.equal(await store.state.snapshots.delete(task, 99), false);

        assert.equal(await store.state.snapshots.delete(task), true);
        assert.deepEqual(await store.state.snapshots.listVersions(task), []);
        assert.equal(await store.state.snapshots.get(task), undefined);
        assert.equal(await store.state.snapshots.delete(task), false);
        assert.equal(await store.state.snapshots.delete(newTask()), false);
        assert.deepEqual(await store.state.snapshots.listVersions(other), [1]);
      });

      test('getById finds a snapshot by task and snapshot id', async () => {
        const task = newTask();
        const first = snapshot(task, 1);
        const second = snapshot(task, 2);
        await store.state.snapshots.save(first);
        await store.state.snapshots.save(second);
        assert.deepStrictEqual(await store.state.snapshots.getById(task, first.id), {
          ...first,
          checkpoint: false,
        });
        assert.equal((await store.state.snapshots.getById(task, second.id))?.version, 2);
        assert.equal(await store.state.snapshots.getById(newTask(), first.id), undefined);
        assert.equal(await store.state.snapshots.getById(task, `snap_${ulid()}`), undefined);
      });

      test('data with Date, Map, Set, BigInt, NaN, undefined and awkward strings round-trips', async () => {
        const task = newTask();
        const data = {
          when: new Date('2024-01-02T03:04:05.678Z'),
          index: new Map<unknown, unknown>([
            ['a', new Set([1, 2])],
            [3n, { nested: new Date(0) }],
          ]),
          big: 2n ** 70n,
          numbers: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 1.5e300],
          missing: undefined,
          lookalike: { $date: 'not a tag' },
          strings: ['nul \u0000 inside', 'lone \ud800 surrogate', 'emoji 😀', 'é'],
          ['__proto__']: 'own key',
        };
        await store.state.snapshots.save({ ...snapshot(task, 1), data });
        const back = await store.state.snapshots.get(task, 1);
        assert.deepStrictEqual(back?.data, data);
        assert.ok(Object.hasOwn(back.data, 'missing'));
        assert.equal(Object.getPrototypeOf(back.data), Object.prototype);
      });

      test('invalid snapshots are validation errors and write nothing', async () => {
        const task = newTask();
        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;
        const invalid: [unknown, RegExp][] = [
          [{ ...snapshot(task, 1), version: 0 }, /version must be an integer from 1/],
          [{ ...snapshot(task, 1), version: 1.5 }, /version must be an integer/],
          [{ ...snapshot(task, 1), version: '1' }, /version must be an integer/],
          [{ ...snapshot(task, 1), id: '' }, /id must be a non-empty string/],
          [{ ...snapshot(task, 1), task_id: undefined }, /task_id must be a non-empty string/],
          [{ ...snapshot(task, 1), data: [1, 2] }, /data must be an object/],
          [{ ...snapshot(task, 1), data: null }, /data must be an object/],
          [{ ...snapshot(task, 1), data: new Date() }, /data must be an object/],
          [{ ...snapshot(task, 1), checkpoint: 'yes' }, /checkpoint must be true or false/],
          [{ ...snapshot(task, 1), created_at: '2024-01-01' }, /created_at must be a valid Date/],
          [{ ...snapshot(task, 1), created_at: new Date(Number.NaN) }, /created_at must be a valid Date/],
          [{ ...snapshot(task, 1), extra: 1 }, /unknown field extra/],
          [{ ...snapshot(task, 1), data: { run: () => 1 } }, /data\.run is a function/],
          [{ ...snapshot(task, 1), data: cyclic }, /data\.self refers back to itself/],
          [null, /snapshot must be an object/],
        ];
        for (const [input, message] of invalid)
          await rejectsInvalid(store.state.snapshots.save(input as StateSnapshotInput), message);
        assert.deepEqual(await store.state.snapshots.listVersions(task), []);

        await rejectsInvalid(store.state.snapshots.get(task, 0), /version/);
        await rejectsInvalid(store.state.snapshots.delete(task, -1), /version/);
        await rejectsInvalid(store.state.snapshots.get(''), /task_id/);
        await rejectsInvalid(store.state.snapshots.getById(task, ''), /snapshot_id/);
      });

      test('concurrent saves of different versions all land; racing saves of one version leave one', async () => {
        const task = newTask();
        const versions = Array.from({ length: 20 }, (_, i) => i + 1);
        await Promise.all(versions.map((version) => store.state.snapshots.save(snapshot(task, version))));
        assert.deepEqual(await store.state.snapshots.listVersions(task), versions);

        const racers = Array.from({ length: 10 }, (_, i) => snapshot(task, 50, { racer: i }));
        await Promise.all(racers.map((racer) => store.state.snapshots.save(racer)));
        const winner = await store.state.snapshots.get(task, 50);
        assert.ok(racers.some((racer) => racer.id === winner?.id && racer.data.racer === winner.data.racer));
        assert.deepEqual(await store.state.snapshots.listVersions(task), [...versions, 50]);
      });
    });

    describe('metering', () => {
      test('record fills in metric defaults and returns the event as stored', async () => {
        const agent = newAgent();
        const event = await store.state.metering.record({ ...usage(agent, T0), metrics: { tokens_out: 7 } });
        assert.deepEqual(event.metrics, { tokens_in: 0, tokens_out: 7, duration_ms: 0, api_calls: 0 });
        const noMetrics = usage(agent, T0 + 1);
        delete noMetrics.metrics;
        await store.state.metering.record(noMetrics);
        const stored = await store.state.metering.query(agent, new Date(T0), new Date(T0 + 1));
        assert.deepStrictEqual(stored, [
          event,
          { ...noMetrics, metrics: { tokens_in: 0, tokens_out: 0, duration_ms: 0, api_calls: 0 } },
        ]);
      });

      test('query bounds are inclusive to the millisecond', async () => {
        const agent = newAgent();
        for (const offset of [0, 1, 2, 3])
          await store.state.metering.record(usage(agent, T0 + offset, offset));
        const tokens = async (start: number, end: number) =>
          (await store.state.metering.query(agent, new Date(start), new Date(end))).map(
            (e) => e.metrics.tokens_in,
          );
        assert.deepEqual(await tokens(T0 + 1, T0 + 2), [1, 2]);
        assert.deepEqual(await tokens(T0 + 2, T0 + 2), [2]);
        assert.deepEqual(await tokens(T0 - DAY, T0 + DAY), [0, 1, 2, 3]);
        assert.deepEqual(await tokens(T0 + 4, T0 + DAY), []);
        assert.deepEqual(await tokens(T0 + 3, T0), []);
      });

      test('query orders by timestamp, ties in recording order', async () => {
        const agent = newAgent();
        for (const [at, tokens] of [
          [T0 + 30, 30],
          [T0 + 10, 10],
          [T0 + 20, 21],
          [T0 + 20, 22],
          [T0 + 20, 23],
        ] as const)
          await store.state.metering.record(usage(agent, at, tokens));
        const events = await store.state.metering.query(agent, new Date(T0), new Date(T0 + 100));
        assert.deepEqual(
          events.map((e) => e.metrics.tokens_in),
          [10, 21, 22, 23, 30],
        );
        assert.ok(events.every((e) => e.timestamp instanceof Date));
      });

      test('limit and offset page through the events', async () => {
        const agent = newAgent();
        for (let i = 0; i < 5; i++) await store.state.metering.record(usage(agent, T0 + i, i));
        const page = async (options: { limit?: number; offset?: number }) =>
          (await store.state.metering.query(agent, new Date(T0), new Date(T0 + 10), options)).map(
            (e) => e.metrics.tokens_in,
          );
        assert.deepEqual(await page({ limit: 2 }), [0, 1]);
        assert.deepEqual(await page({ limit: 2, offset: 2 }), [2, 3]);
        assert.deepEqual(await page({ limit: 2, offset: 4 }), [4]);
        assert.deepEqual(await page({ offset: 3 }), [3, 4]);
        assert.deepEqual(await page({ offset: 10 }), []);
        assert.deepEqual(await page({ limit: 0 }), []);
      });

      test('bad paging, bounds and events are validation errors; bad events record nothing', async () => {
        const agent = newAgent();
        const start = new Date(T0 - DAY);
        const end = new Date(T0 + DAY);
        await rejectsInvalid(store.state.metering.query(agent, start, end, { offset: -1 }), /offset must be/);
        await rejectsInvalid(store.state.metering.query(agent, start, end, { limit: -1 }), /limit must be/);
        await rejectsInvalid(store.state.metering.query(agent, start, end, { limit: 1.5 }), /limit must be/);
        await rejectsInvalid(store.state.metering.query(agent, start, end, { limit: Number.NaN }), /limit/);
        await rejectsInvalid(store.state.metering.query(agent, new Date(Number.NaN), end), /start must be/);
        await rejectsInvalid(store.state.metering.query('', start, end), /agent_id/);

        const invalid: [Partial<UsageEventInput> | Record<string, unknown>, RegExp][] = [
          [{ metrics: { tokens_in: -1 } }, /metrics\.tokens_in must be an integer ≥ 0/],
          [{ metrics: { duration_ms: 1.5 } }, /metrics\.duration_ms/],
          [{ metrics: { api_calls: '3' } as never }, /metrics\.api_calls/],
          [{ metrics: { tokens: 3 } as never }, /metrics has unknown field tokens/],
          [{ agent_id: '' }, /agent_id must be a non-empty string/],
          [{ consumer_id: 7 }, /consumer_id/],
          [{ timestamp: new Date(Number.NaN) }, /timestamp must be a valid Date/],
          [{ cost: 1 }, /unknown field cost/],
        ];
        for (const [change, message] of invalid)
          await rejectsInvalid(store.state.metering.record({ ...usage(agent, T0), ...change }), message);
        assert.deepEqual(await store.state.metering.query(agent, start, end), []);
      });

      test('aggregate honours each period against the injected clock', async () => {
        const agent = newAgent();
        clock = T0; // 10:30 UTC
        const midnight = Date.UTC(2024, 2, 15);
        // One event per bit of tokens_in, so each total names exactly the events it counted.
        const events: [number, number][] = [
          [T0, 1], // now: every period
          [T0 - HOUR, 2], // exactly an hour ago: hour's bound is inclusive
          [T0 - HOUR - 1, 4], // just outside the hour
          [midnight, 8], // UTC midnight: today's bound is inclusive
          [midnight - 1, 16], // yesterday, inside the last 24 hours
          [T0 - DAY - 1, 32], // just outside the day
          [T0 - 7 * DAY, 64], // week's bound
          [T0 - 7 * DAY - 1, 128], // just outside the week
          [T0 - 30 * DAY, 256], // month's bound
          [T0 - 30 * DAY - 1, 512], // only all
          [T0 + 1, 1024], // the future: only all
        ];
        for (const [at, tokens] of events)
          await store.state.metering.record(
            usage(agent, at, tokens, {
              metrics: { tokens_in: tokens, tokens_out: 1, duration_ms: 10, api_calls: 2 },
            }),
          );
        const expected: Record<UsagePeriod, number> = {
          hour: 1 + 2,
          day: 1 + 2 + 4 + 8 + 16,
          today: 1 + 2 + 4 + 8,
          week: 1 + 2 + 4 + 8 + 16 + 32 + 64,
          month: 1 + 2 + 4 + 8 + 16 + 32 + 64 + 128 + 256,
          all: 2047,
        };
        for (const [period, tokensIn] of Object.entries(expected) as [UsagePeriod, number][]) {
          const count = tokensIn.toString(2).replaceAll('0', '').length;
          assert.deepEqual(
            await store.state.metering.aggregate(agent, period),
            {
              agent_id: agent,
              period,
              total_tokens: tokensIn + count,
              total_duration: 10 * count,
              total_tasks: count,
              total_api_calls: 2 * count,
            },
            period,
          );
        }

        clock = T0 + 2 * HOUR; // the clock moves on: the last hour is now empty
        assert.equal((await store.state.metering.aggregate(agent, 'hour')).total_tasks, 0);
        clock = T0;
      });

      test('aggregate of an agent without events is all zeros; unknown periods are refused', async () => {
        const agent = newAgent();
        assert.deepEqual(await store.state.metering.aggregate(agent, 'all'), {
          agent_id: agent,
          period: 'all',
          total_tokens: 0,
          total_duration: 0,
          total_tasks: 0,
          total_api_calls: 0,
        });
        await rejectsInvalid(
          store.state.metering.aggregate(agent, 'year' as UsagePeriod),
          /period must be one of hour, day, today, week, month, all; got "year"/,
        );
      });

      test('agents are isolated from each other', async () => {
        const [a, b] = [newAgent(), newAgent()];
        await store.state.metering.record(usage(a, T0, 5));
        await store.state.metering.record(usage(b, T0, 7));
        await store.state.metering.record(usage(b, T0, 9));
        const range = [new Date(T0 - DAY), new Date(T0 + DAY)] as const;
        assert.deepEqual(
          (await store.state.metering.query(a, ...range)).map((e) => [e.agent_id, e.metrics.tokens_in]),
          [[a, 5]],
        );
        assert.equal((await store.state.metering.query(b, ...range)).length, 2);
        assert.equal((await store.state.metering.aggregate(a, 'all')).total_tokens, 5);
        assert.equal((await store.state.metering.aggregate(b, 'all')).total_tokens, 16);
      });
    });
  });
}
