/**
 * The one logger factory of Baton's processes (`serve`, `worker`, `run`): pino at the configured
 * level, JSON lines or pino-pretty, on stderr (stdout stays free for command output).
 *
 * Every line written inside a request, an envelope dispatch, a task or a step carries the ids of
 * that work, read from the ambient context (`runWithContext`, src/util/context.ts) by a pino
 * `mixin`: `trace_id` and `span_id` (from the current `traceparent`), `correlation_id`,
 * `task_id`, `step`, `envelope_id`. Loggers are not made per request (a pino child costs about
 * 5 µs): the context comes from AsyncLocalStorage. Secrets are hidden by path (pino `redact`) and
 * by key name at any depth (`redactSecretKeys`).
 */
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import PinoPretty from 'pino-pretty';
import type { BatonConfig, LogFormat, LogLevel } from '../config/index.ts';
import { currentContext } from '../util/context.ts';
import { REDACTED } from '../util/redact.ts';
import { REDACT_PATHS, redactSecretKeys } from './log-redact.ts';

/**
 * The event names Baton logs, as the message of each line (SPEC §7). Lines about one request,
 * envelope, task or step also carry its ids (see the module comment).
 */
export const LOG_EVENTS = {
  /** debug: an ASAP envelope reached dispatch (`payload_type`). */
  requestReceived: 'asap.request.received',
  /** debug: an ASAP envelope was answered (`payload_type`, `status`, `duration_ms`). */
  requestProcessed: 'asap.request.processed',
  /** error (internal error) or debug (a refusal the handler chose): a payload handler failed. */
  handlerError: 'asap.handler.error',
  /** error: an ASAP route failed outside the pipeline. */
  requestFailed: 'asap.request.failed',
  /** warn: a usage record could not be written. */
  meteringFailed: 'asap.metering.record_failed',
  /** warn / error: a REST API request failed (5xx). */
  apiRequestFailed: 'api.request.failed',
  /** debug: a worker starts an attempt of a step (`attempt`, `handler`). */
  stepStarted: 'engine.step.started',
  /** debug: a step attempt succeeded. */
  stepCompleted: 'engine.step.completed',
  /** info: a step attempt failed and will be retried (`attempt`, `retry_at`, `error`). */
  stepRetryScheduled: 'engine.step.retry_scheduled',
  /** warn: a step failed for good (`attempt`, `error`). */
  stepFailed: 'engine.step.failed',
  /** debug (one per task, like the per-step lines): every step of a task finished. */
  taskCompleted: 'engine.task.completed',
  /** warn: a task failed. */
  taskFailed: 'engine.task.failed',
  /** info: a task was cancelled. */
  taskCancelled: 'engine.task.cancelled',
  /** warn: a failed step was put in the dead-letter queue. */
  dlqAdded: 'engine.dlq.added',
  /** warn: a handler's circuit changed state (`handler`, `from`, `to`). */
  circuitOpened: 'engine.circuit.opened',
  circuitHalfOpened: 'engine.circuit.half_opened',
  circuitClosed: 'engine.circuit.closed',
  /** info: the HTTP client retries a call (`method`, `url` redacted, `attempt`, `delay_ms`, `reason`). */
  httpClientRetry: 'http.client.retry',
  /** warn: the HTTP client's circuit for an origin changed state. */
  httpClientCircuit: 'http.client.circuit_changed',
} as const;

export type LogEventName = (typeof LOG_EVENTS)[keyof typeof LOG_EVENTS];

export interface CreateLoggerOptions {
  /** Default `info`. */
  level?: LogLevel;
  /** Default `json`. */
  format?: LogFormat;
  /**
   * Where lines go: a stream (tests capture lines this way), a file path, or a file descriptor.
   * Default: stderr. A path or descriptor is written asynchronously, in the background.
   */
  destination?: DestinationStream | string | number;
  /** Fields on every line (default `{ pid }`). */
  base?: Record<string, unknown>;
  /** Colours for `pretty` (default: when the destination is a colour TTY). */
  colorize?: boolean;
}

/**
 * A logger of Baton's shape: context ids on every line, secrets redacted, JSON lines or pretty.
 *
 * @example
 * const logger = createLogger({ level: 'debug', destination: '/var/log/baton.log' });
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const format = options.format ?? 'json';
  const settings: LoggerOptions = {
    level: options.level ?? 'info',
    base: options.base ?? { pid: process.pid },
    mixin: contextFields,
    formatters: { log: redactSecretKeys },
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
  };
  return pino(settings, format === 'pretty' ? prettyStream(options) : jsonStream(options.destination));
}

/** The logger a process gets from its configuration (`BATON_LOG_LEVEL`, `BATON_LOG_FORMAT`). */
export function loggerFromConfig(
  config: Pick<BatonConfig, 'logLevel' | 'logFormat'>,
  options: Omit<CreateLoggerOptions, 'level' | 'format'> = {},
): Logger {
  return createLogger({ ...options, level: config.logLevel, format: config.logFormat });
}

/**
 * The context ids of the running code, for the `mixin`: a fresh object every line (pino merges
 * the line's own fields into it, and those win), with only the fields that are known.
 */
export function contextFields(): Record<string, string> {
  const context = currentContext();
  const fields: Record<string, string> = {};
  if (context === undefined) return fields;
  const { traceparent } = context;
  // `00-<trace id: 32 hex>-<span id: 16 hex>-<flags>`
  if (traceparent !== undefined && traceparent.length >= 55) {
    fields.trace_id = traceparent.slice(3, 35);
    fields.span_id = traceparent.slice(36, 52);
  }
  if (context.correlationId !== undefined) fields.correlation_id = context.correlationId;
  if (context.taskId !== undefined) fields.task_id = context.taskId;
  if (context.step !== undefined) fields.step = context.step;
  if (context.envelopeId !== undefined) fields.envelope_id = context.envelopeId;
  return fields;
}

/**
 * JSON lines through sonic-boom, asynchronously: a line is copied into a buffer and written by
 * the event loop later, never waited for on the caller's path (pino flushes what is left when the
 * process exits).
 */
function jsonStream(destination: CreateLoggerOptions['destination']): DestinationStream {
  if (typeof destination === 'object') return destination;
  return pino.destination({ dest: destination ?? 2, sync: false });
}

/** pino-pretty in this thread (no worker thread to manage), synchronous: it is for humans. */
function prettyStream(options: CreateLoggerOptions): DestinationStream {
  const target = options.destination ?? 2;
  const destination = typeof target === 'object' ? target : pino.destination({ dest: target, sync: true });
  const colorize = options.colorize ?? (target === 2 && process.stderr.isTTY && PinoPretty.isColorSupported);
  return PinoPretty({ destination, colorize, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l' });
}
