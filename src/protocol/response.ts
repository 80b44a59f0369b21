/**
 * Building envelopes the way reference peers do: every field present (`null` where unset), a
 * fresh ULID id, a UTC timestamp with microseconds, and for a reply the sender/recipient swap, the
 * request id as `correlation_id`, and the request's `asap_version` and `trace_id` copied.
 */
import { ASAP_ENVELOPE_VERSION } from './constants.ts';
import type { Envelope } from './envelope.ts';
import { malformedEnvelopeError, type AsapError } from './errors.ts';
import type { JsonObject } from './lax.ts';
import type { TaskMetrics, TaskResponse, TaskStatus, TaskStream } from './payloads.ts';
import { requiresCorrelation } from './payloads.ts';
import { formatTimestamp } from './timestamp.ts';
import { newTaskId, ulid } from '../util/ids.ts';

export interface EnvelopeInit<P extends object> {
  sender: string;
  recipient: string;
  payload_type: string;
  payload: P;
  id?: string;
  asap_version?: string;
  timestamp?: string;
  correlation_id?: string | null;
  trace_id?: string | null;
  requires_ack?: boolean;
  extensions?: JsonObject | null;
}

/** A new envelope (e.g. a request to send), defaults filled in. */
export function createEnvelope<P extends object>(init: EnvelopeInit<P>, now?: number): Envelope<P> {
  return {
    id: init.id ?? ulid(),
    asap_version: init.asap_version ?? ASAP_ENVELOPE_VERSION,
    timestamp: init.timestamp ?? formatTimestamp(now),
    sender: init.sender,
    recipient: init.recipient,
    payload_type: init.payload_type,
    payload: init.payload,
    correlation_id: init.correlation_id ?? null,
    trace_id: init.trace_id ?? null,
    requires_ack: init.requires_ack ?? false,
    extensions: init.extensions ?? null,
  };
}

export interface ReplyInit<P extends object> {
  /** This agent's URN (the manifest id). */
  sender: string;
  payload_type: string;
  payload: P;
  extensions?: JsonObject | null;
}

/**
 * The reply to `request`, as the reference's echo handler builds it: `recipient` is the request's
 * sender, `correlation_id` the request's id, `asap_version` and `trace_id` copied.
 */
export function createReplyEnvelope<P extends object>(
  request: Envelope,
  init: ReplyInit<P>,
  now?: number,
): Envelope<P> {
  return {
    id: ulid(),
    asap_version: request.asap_version,
    timestamp: formatTimestamp(now),
    sender: init.sender,
    recipient: request.sender,
    payload_type: init.payload_type,
    payload: init.payload,
    correlation_id: request.id,
    trace_id: request.trace_id,
    requires_ack: false,
    extensions: init.extensions ?? null,
  };
}

/** A `TaskResponse` payload with every field present; the task id defaults to `task_<ULID>`. */
export function taskResponsePayload(init: {
  status: TaskStatus;
  task_id?: string;
  result?: JsonObject | null;
  final_state?: JsonObject | null;
  metrics?: Partial<TaskMetrics> | null;
}): TaskResponse {
  return {
    task_id: init.task_id ?? newTaskId(),
    status: init.status,
    result: init.result ?? null,
    final_state: init.final_state ?? null,
    metrics:
      init.metrics === undefined || init.metrics === null
        ? null
        : {
            duration_ms: null,
            tokens_in: null,
            tokens_out: null,
            tokens_used: null,
            api_calls: null,
            ...init.metrics,
          },
  };
}

/** A `TaskStream` chunk (send it with `payload_type: 'TaskStream'`, the TS client needs that). */
export function taskStreamPayload(init: Partial<TaskStream> = {}): TaskStream {
  return {
    chunk: init.chunk ?? '',
    progress: init.progress ?? null,
    final: init.final ?? false,
    status: init.status ?? null,
  };
}

/**
 * The client-side correlation check (reference client ≥ 2.5.1): a reply whose type needs a
 * `correlation_id` must carry the request's envelope id. Returns the -32001 error on mismatch.
 */
export function checkCorrelation(
  requestEnvelopeId: string,
  reply: Pick<Envelope, 'payload_type' | 'correlation_id'>,
): AsapError | undefined {
  if (!requiresCorrelation(reply.payload_type) || reply.correlation_id === requestEnvelopeId)
    return undefined;
  return malformedEnvelopeError('correlation_id does not match the request envelope id', {
    request_id: requestEnvelopeId,
    correlation_id: reply.correlation_id,
  });
}
