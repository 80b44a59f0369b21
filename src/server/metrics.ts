/**
 * The reference server's ASAP metrics (asap-wire §5.7) on a prom-client registry: requests by
 * payload type and outcome, their duration, handler runs, and the counters of each kind of
 * rejection. `payload_type` is the envelope's only when a handler is registered for it, else
 * `other`, so unknown payload types cannot grow the series without bound.
 */
import type { FastifyPluginCallback } from 'fastify';
import { Gauge, type Registry } from 'prom-client';
import type { JsonRpcResponse } from '../protocol/index.ts';
import {
  TallyCounter,
  TallyHistogram,
  type CounterSeries,
  type HistogramSeries,
} from '../observability/index.ts';

/** Error types of asap-wire §5.7, by JSON-RPC code; ASAP errors of handlers use their class name. */
const ERROR_TYPES: Record<number, string> = {
  [-32700]: 'parse_error',
  [-32600]: 'invalid_request',
  [-32601]: 'invalid_request',
  [-32602]: 'invalid_params',
  [-32603]: 'internal_error',
  [-32002]: 'invalid_timestamp',
  [-32003]: 'invalid_nonce',
  [-32012]: 'handler_not_found',
  [-32000]: 'InvalidTransitionError',
  [-32001]: 'MalformedEnvelopeError',
  [-32010]: 'TaskNotFoundError',
  [-32030]: 'TaskAlreadyCompletedError',
};

/** `-32602` splits by what was wrong with the params (the reference's validation reasons). */
function invalidParamsReason(data: unknown): string {
  const error = (data as { error?: unknown } | undefined)?.error;
  if (error === "Missing 'envelope' in params") return 'missing_envelope';
  if (error === 'Invalid envelope structure') return 'invalid_envelope';
  return 'invalid_params';
}

export class AsapServerMetrics {
  readonly registry: Registry;
  readonly #requests: TallyCounter<'payload_type' | 'status'>;
  readonly #successes: TallyCounter<'payload_type'>;
  readonly #errors: TallyCounter<'payload_type' | 'error_type'>;
  readonly #duration: TallyHistogram<'payload_type' | 'status'>;
  readonly #handlerRuns: TallyCounter<'payload_type'>;
  readonly #handlerErrors: TallyCounter<'payload_type'>;
  readonly #handlerDuration: TallyHistogram<'payload_type'>;
  readonly #byErrorType: Map<string, TallyCounter>;
  readonly #validationErrors: TallyCounter<'reason'>;
  /** The series a successful request and a handler run touch, by payload type. */
  readonly #hot = new Map<string, HotSeries>();

  constructor(registry: Registry, now: () => number = Date.now) {
    this.registry = registry;
    const registers = [registry];
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
      new TallyCounter<L>({ name, help, labelNames, registers });
    this.#requests = counter('asap_requests_total', 'ASAP requests by payload type and outcome', [
      'payload_type',
      'status',
    ]);
    this.#successes = counter('asap_requests_success_total', 'Successful ASAP requests', ['payload_type']);
    this.#errors = counter('asap_requests_error_total', 'Failed ASAP requests by error type', [
      'payload_type',
      'error_type',
    ]);
    this.#duration = new TallyHistogram({
      name: 'asap_request_duration_seconds',
      help: 'ASAP request duration in seconds',
      labelNames: ['payload_type', 'status'],
      registers,
    });
    this.#handlerRuns = counter('asap_handler_executions_total', 'Payload handler runs', ['payload_type']);
    this.#handlerErrors = counter('asap_handler_errors_total', 'Payload handler failures', ['payload_type']);
    this.#handlerDuration = new TallyHistogram({
      name: 'asap_handler_duration_seconds',
      help: 'Payload handler duration in seconds',
      labelNames: ['payload_type'],
      registers,
    });
    this.#byErrorType = new Map([
      ['parse_error', counter('asap_parse_errors_total', 'Request bodies that were not JSON')],
      [
        'invalid_timestamp',
        counter('asap_invalid_timestamp_total', 'Envelopes outside the timestamp window'),
      ],
      ['invalid_nonce', counter('asap_invalid_nonce_total', 'Envelopes with a replayed or invalid nonce')],
    ]);
    // Counted by the auth and thread-pool layers the reference has; always present, as there.
    counter('asap_auth_failures_total', 'Requests refused by authentication');
    counter('asap_sender_mismatch_total', 'Envelopes whose sender is not the authenticated agent');
    counter('asap_thread_pool_exhausted_total', 'Requests refused because the handler pool was full');
    this.#validationErrors = counter('asap_validation_errors_total', 'Requests with invalid params', [
      'reason',
    ]);
    const started = now();
    new Gauge({
      name: 'asap_process_uptime_seconds',
      help: 'Seconds since the server started',
      registers,
      collect() {
        this.set((now() - started) / 1000);
      },
    });
  }

  /**
   * One JSON-RPC answer given after `seconds`. `payloadType` is the envelope's when a handler
   * exists for it (else `other`, or unset when no envelope was read).
   */
  request(response: JsonRpcResponse, payloadType: string, seconds: number): void {
    if ('result' in response) {
      const hot = this.#hotSeries(payloadType);
      hot.requests.add();
      hot.successes.add();
      hot.duration.record(seconds);
      return;
    }
    const { code, data } = response.error;
    let errorType = ERROR_TYPES[code] ?? 'internal_error';
    if (code === -32602) {
      errorType = invalidParamsReason(data);
      this.#validationErrors.add([errorType]);
    }
    this.#byErrorType.get(errorType)?.add();
    this.#requests.add([payloadType, 'error']);
    this.#errors.add([payloadType, errorType]);
    this.#duration.record([payloadType, 'error'], seconds);
  }

  /** One payload handler run. */
  handler(payloadType: string, ok: boolean, seconds: number): void {
    const hot = this.#hotSeries(payloadType);
    hot.runs.add();
    if (!ok) this.#handlerErrors.add([payloadType]);
    hot.handlerDuration.record(seconds);
  }

  // Payload types are bounded: only those with a handler, and `other`.
  #hotSeries(payloadType: string): HotSeries {
    let hot = this.#hot.get(payloadType);
    if (!hot) {
      hot = {
        requests: this.#requests.series([payloadType, 'success']),
        successes: this.#successes.series([payloadType]),
        duration: this.#duration.series([payloadType, 'success']),
        runs: this.#handlerRuns.series([payloadType]),
        handlerDuration: this.#handlerDuration.series([payloadType]),
      };
      this.#hot.set(payloadType, hot);
    }
    return hot;
  }
}

interface HotSeries {
  requests: CounterSeries;
  successes: CounterSeries;
  duration: HistogramSeries;
  runs: CounterSeries;
  handlerDuration: HistogramSeries;
}

/** The reference serves classic Prometheus text under the OpenMetrics type (asap-wire §5.7). */
const ASAP_METRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

export interface MetricsPluginOptions {
  /** Served one after the other (each once); their metric names must not overlap. */
  registries: readonly Registry[];
}

/** `GET /metrics` (Prometheus text) and `GET /asap/metrics` (the same, as the reference labels it). */
export const metricsPlugin: FastifyPluginCallback<MetricsPluginOptions> = (app, options, done) => {
  const registries = [...new Set(options.registries)];
  const contentType = registries[0]?.contentType ?? 'text/plain; version=0.0.4; charset=utf-8';
  const text = async () => (await Promise.all(registries.map((registry) => registry.metrics()))).join('');
  app.get('/metrics', async (_request, reply) => reply.type(contentType).send(await text()));
  app.get('/asap/metrics', async (_request, reply) =>
    reply.type(ASAP_METRICS_CONTENT_TYPE).send(await text()),
  );
  done();
};
