/**
 * `GET /api/v1/events`: every change as server-sent events (SPEC §2.8), optionally for one task.
 *
 * The store is the source of truth: the stream reads durable events in `seq` order after the last
 * one it sent, and this process's event bus only wakes it early (polling covers events other
 * processes write). Each event's `id:` is its `seq`, so a client that reconnects with
 * `Last-Event-ID` resumes exactly after it: missed events come from the store, then live ones,
 * without duplicates or holes. Comment lines keep idle streams open; streams end when the server
 * closes or the client goes away.
 */
import { Readable } from 'node:stream';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type { BatonEvent, Engine } from '../engine/index.ts';
import { pause } from '../server/handlers/tasks.ts';
import type { ResourceOptions } from './index.ts';
import { errorResponses, EventsHeaders, EventsQuery } from './schemas.ts';

export interface EventStreamOptions {
  /** A comment line is sent after this long without events, so proxies keep the stream (default 15 s). */
  heartbeatMs?: number;
  /** The store is read at least this often, for events written by other processes (default 1 s). */
  pollMs?: number;
  /**
   * How long an event is held back before it is sent. PostgreSQL takes seqs at insert, not at
   * commit, so a lower seq can appear after a higher one was read (see its `0001_init.sql`);
   * holding each event this long lets such a late commit be sent first, so that resuming after
   * an `id` never skips one. Default: 1 s on PostgreSQL, 0 on SQLite (one writer, seqs commit in
   * order).
   */
  settleMs?: number;
}

/** Events read from the store at a time. */
const PAGE = 200;
/** What a client waits before reconnecting (the SSE `retry:` field). */
const RETRY_MS = 2000;

export const eventRoutes: FastifyPluginCallbackTypebox<ResourceOptions & EventStreamOptions> = (
  app,
  options,
  done,
) => {
  const { engine, signal } = options;
  const timing: Required<EventStreamOptions> = {
    heartbeatMs: options.heartbeatMs ?? 15_000,
    pollMs: options.pollMs ?? 1000,
    settleMs: options.settleMs ?? (engine.store.kind === 'postgres' ? 1000 : 0),
  };

  app.get(
    '/events',
    {
      schema: {
        tags: ['events'],
        operationId: 'streamEvents',
        summary: 'Stream events (server-sent events)',
        description:
          'One SSE message per change: `id` is the event `seq`, `data` the event as JSON (its ' +
          '`type` says what changed). Without `Last-Event-ID` the stream starts now, or with ' +
          "`task_id` at the task's first event; with it, right after that event. Lines starting " +
          'with `:` are heartbeats.',
        querystring: EventsQuery,
        headers: EventsHeaders,
        response: {
          200: {
            description: 'A `text/event-stream` of `Event`s',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          ...errorResponses(400, 404),
        },
      },
    },
    async (request, reply) => {
      const taskId = request.query.task_id;
      if (taskId !== undefined) await engine.getTask(taskId, { history: false }); // 404 when unknown
      const lastEventId = request.headers['last-event-id'];
      const afterSeq =
        lastEventId !== undefined ? Number(lastEventId) : taskId !== undefined ? 0 : await latestSeq(engine);

      // Ends the stream when the server closes or the client goes away.
      const stop = new AbortController();
      const onServerClose = (): void => stop.abort();
      signal.addEventListener('abort', onServerClose, { once: true });
      reply.raw.once('close', () => {
        stop.abort();
        signal.removeEventListener('abort', onServerClose);
      });
      const events = eventStream(engine, { afterSeq, taskId }, timing, stop.signal);
      return (
        reply
          .header('content-type', 'text/event-stream; charset=utf-8')
          .header('cache-control', 'no-cache')
          // One stream per connection: closed when the stream ends, so a closing server is not
          // left waiting for an idle keep-alive connection.
          .header('connection', 'close')
          .header('x-accel-buffering', 'no')
          // The documented body is the stream's text; the type provider cannot know a stream sends it.
          .send(Readable.from(events) as unknown as string)
      );
    },
  );
  done();
};

/** One SSE message: `id` is the event's seq, so `Last-Event-ID` resumes after it. */
export function sseMessage(event: BatonEvent): string {
  return `id: ${event.seq}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** The stream's text, from the event after `afterSeq` on, until `signal` aborts. */
async function* eventStream(
  engine: Engine,
  query: { afterSeq: number; taskId: string | undefined },
  timing: Required<EventStreamOptions>,
  signal: AbortSignal,
): AsyncGenerator<string> {
  const { taskId } = query;
  let last = query.afterSeq;
  /** Counts this process's events for the stream: one that arrives while reading means read again. */
  let wakes = 0;
  let wake: (() => void) | undefined;
  const unsubscribe = engine.on('*', (event) => {
    if (taskId !== undefined && event.task_id !== taskId) return;
    wakes++;
    wake?.();
  });
  /** When each held-back event was first read (only with `settleMs`). */
  const firstSeen = new Map<number, number>();
  let lastWrite = Date.now();
  try {
    // Sent at once so the client sees the response start even when nothing happens.
    yield `: baton events\nretry: ${RETRY_MS}\n\n`;
    while (!signal.aborted) {
      const wakesBefore = wakes;
      const batch = await engine.listEvents({
        afterSeq: last,
        limit: PAGE,
        ...(taskId !== undefined ? { taskId } : {}),
      });
      const { messages, heldMs } = takeSettled(batch, firstSeen, timing.settleMs, Date.now());
      if (messages.length > 0) {
        last = batch[messages.length - 1]!.seq;
        for (const seq of firstSeen.keys()) if (seq <= last) firstSeen.delete(seq);
        yield messages.join('');
        lastWrite = Date.now();
      }
      if (signal.aborted) break;
      if ((batch.length === PAGE && heldMs === undefined) || wakes !== wakesBefore) continue; // more to read now
      const untilHeartbeat = lastWrite + timing.heartbeatMs - Date.now();
      if (untilHeartbeat <= 0) {
        yield ': heartbeat\n\n';
        lastWrite = Date.now();
        continue;
      }
      const waitMs = Math.min(timing.pollMs, untilHeartbeat, heldMs ?? Number.POSITIVE_INFINITY);
      await pause(waitMs, signal, (resolve) => (wake = resolve));
    }
  } finally {
    unsubscribe();
  }
}

/**
 * An event written this many `settleMs` ago is settled whenever it is first read: every
 * transaction that took a lower seq has long committed. This keeps a resume over a long backlog
 * from waiting `settleMs` per page; the margin covers the time from an event's `at` to its insert
 * and some clock skew between processes.
 */
const OLD_EVENT_FACTOR = 5;

/**
 * The messages of the events that may be sent now, in seq order: with `settleMs`, sending stops
 * at the first recent event read less than `settleMs` ago (`heldMs` says how long until it may go).
 */
export function takeSettled(
  batch: readonly BatonEvent[],
  firstSeen: Map<number, number>,
  settleMs: number,
  now: number,
): { messages: string[]; heldMs: number | undefined } {
  if (settleMs > 0) for (const event of batch) if (!firstSeen.has(event.seq)) firstSeen.set(event.seq, now);
  const messages: string[] = [];
  for (const event of batch) {
    const seen = firstSeen.get(event.seq) ?? now;
    const settled = now - seen >= settleMs || now - Date.parse(event.at) >= settleMs * OLD_EVENT_FACTOR;
    if (!settled) return { messages, heldMs: seen + settleMs - now };
    messages.push(sseMessage(event));
  }
  return { messages, heldMs: undefined };
}

/**
 * The highest event seq, found by a galloping then binary search over "is there an event after
 * x" (one indexed lookup each, about 2·log2(seq) of them) since the store lists events forwards only.
 */
async function latestSeq(engine: Engine): Promise<number> {
  const after = async (seq: number): Promise<boolean> =>
    (await engine.listEvents({ afterSeq: seq, limit: 1 })).length > 0;
  const first = (await engine.listEvents({ afterSeq: 0, limit: 1 }))[0];
  if (!first) return 0;
  // Invariant: an event exists after `low`, none after `high`.
  let low = first.seq - 1;
  let high = first.seq;
  while (await after(high)) {
    low = high;
    high = Math.max(high * 2, high + 1);
  }
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (await after(middle)) low = middle;
    else high = middle;
  }
  return high;
}
