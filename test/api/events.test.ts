import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import type { BatonEvent, TaskView } from '../../src/engine/index.ts';
import { describePostgres } from '../support/postgres.ts';
import { takeSettled } from '../../src/api/events.ts';
import { apiFixture, call, openSse, type SseMessage, type SseReader } from './helpers.ts';

const eventOf = (message: SseMessage): BatonEvent => JSON.parse(message.data) as BatonEvent;
const isEnd = (taskId: string) => (message: SseMessage) => {
  const event = eventOf(message);
  return event.task_id === taskId && event.type === 'task.completed';
};

async function start(url: string, template: string, input: unknown = {}): Promise<TaskView> {
  const response = await fetch(`${url}/api/v1/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ template, input }),
  });
  assert.equal(response.status, 201);
  return ((await response.json()) as { task: TaskView }).task;
}

describe('REST events (SSE)', () => {
  const server = apiFixture({ listen: true, server: { rest: { events: { heartbeatMs: 100 } } } });
  const open: SseReader[] = [];
  const sse = async (path: string, headers?: Record<string, string>) => {
    const reader = await openSse(`${server.url}${path}`, headers);
    open.push(reader);
    return reader;
  };

  test("?task_id= streams that task's events from its first one, each with its seq as id", async () => {
    const task = await start(server.url, 'test.pair');
    const stream = await sse(`/api/v1/events?task_id=${task.id}`);
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get('content-type') ?? '', /^text\/event-stream/);
    const messages = await stream.until(isEnd(task.id));
    stream.close();
    const events = messages.map(eventOf);
    assert.ok(events.every((event) => event.task_id === task.id));
    assert.equal(events[0]!.type, 'task.created');
    assert.deepEqual(
      messages.map((message) => Number(message.id)),
      events.map((event) => event.seq),
    );
    const stored = await server.engine.listEvents({ taskId: task.id });
    assert.deepEqual(events, stored);
  });

  test('without a filter the stream starts now and sends live events of every task', async () => {
    const before = await start(server.url, 'test.echo');
    await server.engine.waitForTask(before.id, { timeoutMs: 5000 });
    const stream = await sse('/api/v1/events');
    const task = await start(server.url, 'test.echo');
    const events = (await stream.until(isEnd(task.id))).map(eventOf);
    stream.close();
    assert.ok(!events.some((event) => event.task_id === before.id));
    assert.equal(events[0]!.type, 'task.created');
    assert.equal(events[0]!.task_id, task.id);
  });

  test('reconnecting with Last-Event-ID resumes with exactly the missed events, then live ones', async () => {
    const stream = await sse('/api/v1/events');
    const first = await start(server.url, 'test.pair');
    const seen = (await stream.until((message) => eventOf(message).type === 'step.started')).map(eventOf);
    stream.close();
    const lastId = seen.at(-1)!.seq;
    // Missed while disconnected: the rest of `first`, and all of `second`.
    await server.engine.waitForTask(first.id, { timeoutMs: 5000 });
    const second = await start(server.url, 'test.echo');
    await server.engine.waitForTask(second.id, { timeoutMs: 5000 });

    const resumed = await sse('/api/v1/events', { 'last-event-id': String(lastId) });
    const missed = (await resumed.until(isEnd(second.id))).map(eventOf);
    const stored = await server.engine.listEvents({ afterSeq: lastId });
    assert.deepEqual(
      missed.map((event) => event.seq),
      stored.map((event) => event.seq),
    );
    const seqs = [...seen, ...missed].map((event) => event.seq);
    assert.equal(new Set(seqs).size, seqs.length, 'no duplicates');
    // Live events follow on the same stream.
    const third = await start(server.url, 'test.echo');
    const live = (await resumed.until(isEnd(third.id))).map(eventOf);
    resumed.close();
    assert.equal(live[0]!.seq, stored.at(-1)!.seq + 1);
  });

  test('Last-Event-ID with task_id resumes within that task only', async () => {
    const task = await start(server.url, 'test.pair');
    await server.engine.waitForTask(task.id, { timeoutMs: 5000 });
    const all = await server.engine.listEvents({ taskId: task.id });
    const stream = await sse(`/api/v1/events?task_id=${task.id}`, { 'last-event-id': String(all[2]!.seq) });
    const events = (await stream.until(isEnd(task.id))).map(eventOf);
    stream.close();
    assert.deepEqual(events, all.slice(3));
  });

  test('an idle stream gets heartbeat comments', async () => {
    const task = await start(server.url, 'test.echo');
    await server.engine.waitForTask(task.id, { timeoutMs: 5000 });
    const stream = await sse(`/api/v1/events?task_id=${task.id}`);
    await stream.until(isEnd(task.id));
    await assert.rejects(stream.next(350), /no SSE message in time/);
    stream.close();
    assert.ok(stream.comments.includes('heartbeat'), JSON.stringify(stream.comments));
  });

  test('an unknown task_id is 404 and a bad Last-Event-ID 400, in the error shape', async () => {
    const unknown = await call<{ error: { code: string } }>(
      server.app,
      'GET',
      '/api/v1/events?task_id=task_nope',
    );
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'not_found');
    const bad = await call<{ error: { code: string; details: { path: string }[] } }>(
      server.app,
      'GET',
      '/api/v1/events',
      undefined,
      { 'last-event-id': 'abc' },
    );
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details[0]!.path, 'headers["last-event-id"]');
  });

  test('a resume from Last-Event-ID: 0 pages through the whole store in order, without holes', async () => {
    const requests = Array.from({ length: 40 }, () => ({ template: 'test.echo' }));
    const started = await server.engine.startTasks(requests);
    for (const { task } of started) await server.engine.waitForTask(task.id, { timeoutMs: 5000 });
    const stored = await server.engine.listEvents({ limit: 500 });
    assert.ok(stored.length > 200, `${stored.length} events, more than one page`);
    const latest = stored.at(-1)!.seq;
    const stream = await sse('/api/v1/events', { 'last-event-id': '0' });
    const seqs = (await stream.until((message) => Number(message.id) === latest)).map((m) => Number(m.id));
    stream.close();
    assert.deepEqual(
      seqs,
      stored.map((event) => event.seq),
    );
    assert.deepEqual(
      seqs,
      Array.from({ length: latest }, (_, index) => index + 1),
    );
  });

  test('cleanup', () => {
    for (const reader of open) reader.close();
  });
});

describe('REST events when the server closes', () => {
  const server = apiFixture({ listen: true });

  test('open streams end', async () => {
    const stream = await openSse(`${server.url}/api/v1/events`);
    const closed = server.app.close();
    assert.equal(await stream.next(5000), undefined);
    await closed;
    await sleep(10);
  });
});

describe('REST events held back to settle (as on PostgreSQL)', () => {
  const server = apiFixture({ listen: true, server: { rest: { events: { settleMs: 150, pollMs: 50 } } } });

  test('events still arrive in order, each at least settleMs after it was first read', async () => {
    const task = await start(server.url, 'test.pair');
    const opened = Date.now();
    const stream = await openSse(`${server.url}/api/v1/events?task_id=${task.id}`);
    const first = await stream.next(5000);
    assert.ok(Date.now() - opened >= 140, 'held back');
    const rest = await stream.until(isEnd(task.id));
    stream.close();
    const events = [first!, ...rest].map(eventOf);
    assert.deepEqual(events, await server.engine.listEvents({ taskId: task.id }));
  });
});

describePostgres('REST events on PostgreSQL', (pg) => {
  const server = apiFixture({
    listen: true,
    store: () => pg.url,
    server: { rest: { events: { pollMs: 50 } } },
  });

  test('concurrent writers: the live stream has every event of the store, in seq order, once', async () => {
    const stream = await openSse(`${server.url}/api/v1/events`);
    const first = await start(server.url, 'test.echo');
    const tasks = [
      first,
      ...(await Promise.all(Array.from({ length: 30 }, () => start(server.url, 'test.pair')))),
    ];
    for (const task of tasks) await server.engine.waitForTask(task.id, { timeoutMs: 10_000 });
    const stored = await server.engine.listEvents({ afterSeq: 0, limit: 500 });
    const fromFirst = stored.slice(stored.findIndex((event) => event.task_id === first.id));
    const lastSeq = fromFirst.at(-1)!.seq;
    const received = (await stream.until((message) => Number(message.id) === lastSeq, 10_000)).map(eventOf);
    stream.close();
    assert.deepEqual(
      received.map((event) => event.seq),
      fromFirst.map((event) => event.seq),
    );
  });
});

describe('takeSettled (holding events back for late commits)', () => {
  const at = (seq: number, ms: number): BatonEvent => ({
    seq,
    type: 'task.created',
    task_id: 't',
    step: null,
    from: null,
    to: 'pending',
    reason: null,
    attempt: null,
    error: null,
    data: null,
    at: new Date(ms).toISOString(),
  });

  test('a lower seq committed late is sent before the higher ones read earlier', () => {
    const firstSeen = new Map<number, number>();
    const T = 1_000_000;
    // Seq 1 is not committed yet when 2 and 3 are first read.
    assert.deepEqual(takeSettled([at(2, T), at(3, T)], firstSeen, 1000, T), { messages: [], heldMs: 1000 });
    // It appears later: it is held for its own settle time, and 2 and 3 wait behind it.
    const later = takeSettled([at(1, T), at(2, T), at(3, T)], firstSeen, 1000, T + 600);
    assert.deepEqual(later, { messages: [], heldMs: 1000 });
    const settled = takeSettled([at(1, T), at(2, T), at(3, T)], firstSeen, 1000, T + 1600);
    assert.deepEqual(
      settled.messages.map((message) => message.split('\n')[0]),
      ['id: 1', 'id: 2', 'id: 3'],
    );
  });

  test('old events go at once; without settleMs everything does', () => {
    const T = 1_000_000;
    assert.equal(takeSettled([at(1, T - 10_000)], new Map(), 1000, T).messages.length, 1);
    assert.equal(takeSettled([at(1, T)], new Map(), 0, T).messages.length, 1);
  });
});
