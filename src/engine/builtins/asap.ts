/**
 * The built-in `asap` step handler (SPEC §2.2, §3): one `task.request` per step attempt to
 * another agent, through the engine's HTTP client with the ASAP client's own retries off, so that
 * the engine owns attempts, delays and history (as for `http` steps).
 *
 * - `completed` → the step's result `{status, result, task_id}`.
 * - `failed` / `cancelled` → `PermanentError` naming the remote task and its error.
 * - `working` (the agent held the request `timeout_seconds` and the task is still going) → the
 *   step follows the remote task with `state_query` every `poll_interval_ms` until it ends or the
 *   step's signal aborts. Waiting inside the attempt, rather than throwing `RetryableError`,
 *   keeps the attempt budget for failures: a long remote task would otherwise burn attempts just
 *   by being slow. The `task.request` carries `config.idempotency_key` (see `stepIdempotencyKey`), so
 *   a retried attempt (after a timeout, a lease loss, a transport error) re-attaches to the same
 *   remote task on a Baton agent instead of starting another, while a replay of the task starts
 *   a new one.
 * - JSON-RPC errors: recoverable → `RetryableError` with the agent's `retry_after_ms`, else
 *   `PermanentError` with the remote message; transport errors keep the HTTP client's `retryable`
 *   and `retryAfterMs` (429/5xx/network retried by the engine, other 4xx not).
 *
 * Code handlers that need more use `createAsapClient` from `baton/client` with `ctx.http`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AsapClient, currentContext, redactUrl, type HttpClient } from '../../client/index.ts';
import { parseTraceparent } from '../../client/trace.ts';
import {
  isAsapError,
  type AsapError,
  type Envelope,
  type JsonObject,
  type TaskStatus,
} from '../../protocol/index.ts';
import { PermanentError, RetryableError } from '../errors.ts';
import type { BuiltinHandler, StepContext } from '../handler.ts';
import { checkAsapConfig, checkAsapInput, readAsapConfig, type AsapStepConfig } from './asap-config.ts';
import { stepIdempotencyKey } from './idempotency-key.ts';
import { render, type Scope } from './placeholders.ts';

/** What an `asap` step returns: its result, as later steps see it in `results`. */
export interface AsapStepResult {
  status: 'completed';
  /** The remote task's result (`task.response` `result`). */
  result: JsonObject | null;
  /** The remote agent's task id. */
  task_id: string;
}

/** Slack over `timeout_seconds` for the agent to answer `working` before the request times out. */
const ANSWER_SLACK_MS = 10_000;
const TERMINAL: ReadonlySet<string> = new Set<TaskStatus>(['completed', 'failed', 'cancelled']);

export const asapHandler: BuiltinHandler = {
  checkConfig: (config, step) => checkAsapConfig(config, step.upstream),
  checkInput: checkAsapInput,
  run: async (context, raw) => {
    const config = readAsapConfig(raw);
    const call = prepare(context, config);
    try {
      let outcome = readTaskResponse(await call.client.send(call.request, call.sendOptions), call);
      while (!TERMINAL.has(outcome.status)) {
        await sleep(config.pollIntervalMs, undefined, { signal: context.signal });
        outcome = await queryState(call, outcome.taskId);
      }
      return finish(outcome, call);
    } catch (error) {
      throw stepError(error, call);
    }
  },
};

interface RemoteCall {
  readonly client: AsapClient;
  readonly where: string;
  readonly skillId: string;
  readonly recipient: string | undefined;
  readonly request: Parameters<AsapClient['send']>[0];
  readonly sendOptions: Parameters<AsapClient['send']>[1];
  readonly context: StepContext;
}

function prepare(context: StepContext, config: AsapStepConfig): RemoteCall {
  const scope: Scope = { input: context.input, results: context.results };
  const url = render(config.url, scope, {
    asText: true,
    encode: (text, offset) => (offset === 0 ? text : encodeURIComponent(text)),
  }) as string;
  const skillId = render(config.skillId, scope, { asText: true }) as string;
  const recipient =
    config.recipient === undefined
      ? undefined
      : (render(config.recipient, scope, { asText: true }) as string);
  const input = config.input === undefined ? {} : render(config.input, scope);
  const where = `asap ${skillId} at ${redactUrl(url).replace(/\/+$/, '')}`;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new PermanentError(`${where}: input must be an object, got ${JSON.stringify(input)}`, {
      code: 'validation_failed',
    });
  }
  const key = stepIdempotencyKey(context);
  const requestTimeoutMs = config.timeoutSeconds * 1000 + ANSWER_SLACK_MS;
  return {
    client: clientFor(context.http, url, config.sender),
    where,
    skillId,
    recipient,
    context,
    request: {
      ...(recipient === undefined ? {} : { recipient }),
      ...envelopeTrace(),
      payload_type: 'task.request',
      payload: {
        conversation_id: `conv_${context.task.id}`,
        parent_task_id: context.task.id,
        skill_id: skillId,
        input,
        config: { timeout_seconds: config.timeoutSeconds, idempotency_key: key },
      },
    },
    sendOptions: {
      signal: context.signal,
      idempotencyKey: key,
      maxAttempts: 1,
      timeouts: { headersMs: requestTimeoutMs, totalMs: requestTimeoutMs + ANSWER_SLACK_MS },
    },
  };
}

/**
 * The current trace for the envelope (asap-wire §1): `trace_id` and `extensions.span_id` of the
 * current span (the step's), so that the receiving agent continues this trace even when the HTTP
 * `traceparent` does not reach it. Nothing when there is no current trace.
 */
function envelopeTrace(): { trace_id: string; extensions: { span_id: string } } | Record<string, never> {
  const parent = parseTraceparent(currentContext()?.traceparent);
  return parent === undefined ? {} : { trace_id: parent.traceId, extensions: { span_id: parent.spanId } };
}

interface Outcome {
  status: string;
  taskId: string;
  result: JsonObject | null;
}

function readTaskResponse(reply: Envelope, call: RemoteCall): Outcome {
  if (reply.payload_type !== 'task.response') {
    throw new PermanentError(`${call.where}: expected a task.response, got ${reply.payload_type}`, {
      code: 'asap_protocol',
    });
  }
  const payload = reply.payload as { task_id: string; status: string; result: JsonObject | null };
  return { status: payload.status, taskId: payload.task_id, result: payload.result ?? null };
}

/** The remote task's state, from a Baton agent's `state_snapshot` answer. */
async function queryState(call: RemoteCall, taskId: string): Promise<Outcome> {
  const reply = await call.client.send(
    {
      ...(call.recipient === undefined ? {} : { recipient: call.recipient }),
      payload_type: 'state_query',
      payload: { task_id: taskId, version: null },
    },
    // A read: the client's own retries are fine here.
    { signal: call.context.signal },
  );
  const data = (
    reply.payload as { data?: { status?: unknown; task?: { result?: unknown; error?: unknown } } }
  ).data;
  if (typeof data?.status !== 'string') {
    throw new PermanentError(
      `${call.where}: cannot follow remote task ${taskId}: the state_query answer (${reply.payload_type}) has no data.status`,
      { code: 'asap_protocol' },
    );
  }
  const task = data.task ?? {};
  const result =
    data.status === 'failed'
      ? { error: (task.error ?? null) as JsonObject | null }
      : ((task.result ?? null) as JsonObject | null);
  return { status: data.status, taskId, result };
}

function finish(outcome: Outcome, call: RemoteCall): AsapStepResult {
  if (outcome.status === 'completed') {
    return { status: 'completed', result: outcome.result, task_id: outcome.taskId };
  }
  const detail = outcome.result === null ? '' : `: ${JSON.stringify(outcome.result)}`;
  throw new PermanentError(`${call.where}: remote task ${outcome.taskId} ${outcome.status}${detail}`, {
    code: 'asap_remote_task',
  });
}

/** What the engine should make of a failure (see the module comment). */
function stepError(error: unknown, call: RemoteCall): unknown {
  if (error instanceof PermanentError || error instanceof RetryableError) return error;
  if (call.context.signal.aborted) return call.context.signal.reason ?? error;
  if (!isAsapError(error)) return error;
  const message = `${call.where}: ${describeRemote(error)}`;
  if (error.recoverable) {
    return new RetryableError(message, {
      cause: error,
      code: 'asap_error',
      ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
    });
  }
  return new PermanentError(message, { cause: error, code: 'asap_error' });
}

/** `JSON-RPC -32602 Invalid params: unknown skill "x": …` */
function describeRemote(error: AsapError): string {
  const reason = error.details.error;
  const text = typeof reason === 'string' && reason !== error.message ? `: ${reason}` : '';
  return `JSON-RPC ${error.wireCode} ${error.message}${text}`;
}

// One ASAP client per engine HTTP client and agent, so discovered manifests stay cached across
// steps. The clients own nothing (the HTTP client is the engine's), so dropping them is enough.
const MAX_CLIENTS = 64;
const clients = new WeakMap<HttpClient, Map<string, AsapClient>>();

function clientFor(http: HttpClient, baseUrl: string, sender: string): AsapClient {
  let byAgent = clients.get(http);
  if (byAgent === undefined) clients.set(http, (byAgent = new Map<string, AsapClient>()));
  const key = `${baseUrl}\n${sender}`;
  let client = byAgent.get(key);
  if (client === undefined) {
    client = new AsapClient({ baseUrl, agentId: sender, http });
    if (byAgent.size >= MAX_CLIENTS) byAgent.delete(byAgent.keys().next().value as string);
    byAgent.set(key, client);
  }
  return client;
}
