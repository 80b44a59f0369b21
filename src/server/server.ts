/**
 * `createServer`: Baton's HTTP app, a fastify instance built from plugins (`asapPlugin`,
 * `healthPlugin`, `restPlugin`; auth and metrics come as more plugins). Every response carries
 * `ASAP-Version`: the version negotiated on `POST /asap` and `/asap/stream`, else the default.
 */
import {
  fastify,
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { pino, type Logger } from 'pino';
import { withoutUndefined } from '../util/defined.ts';
import { Registry } from 'prom-client';
import { restPlugin, type RestOptions } from '../api/index.ts';
import type { BatonConfig } from '../config/index.ts';
import type { Engine } from '../engine/index.ts';
import { collectProcessMetrics, EngineMetrics } from '../observability/index.ts';
import {
  ASAP_DEFAULT_TRANSPORT_VERSION,
  ASAP_VERSION_HEADER,
  MAX_REQUEST_SIZE,
  type AsapTransportVersion,
  type Manifest,
} from '../protocol/index.ts';
import { asapPlugin } from './asap-plugin.ts';
import { registerBatonHandlers, type BatonHandlerOptions } from './handlers/index.ts';
import { healthPlugin } from './health.ts';
import { ManifestSource, type ManifestInfo } from './manifest.ts';
import { AsapServerMetrics, metricsPlugin } from './metrics.ts';
import { AsapPipeline } from './pipeline.ts';
import { PayloadHandlerRegistry, type AsapHandler, type AsapStreamingHandler } from './registry.ts';
import { MemoryNonceStore, type NonceStore } from './replay.ts';
import { addServerSpans } from './tracing.ts';
import type { TracerProvider } from '@opentelemetry/api';
import { resolveTracer } from '../observability/tracing.ts';
import { requestContextHook } from './request-context.ts';

/** The configuration keys the server reads (see `baton config --docs`). */
export type ServerConfig = Pick<
  BatonConfig,
  'agentId' | 'publicUrl' | 'maxRequestBytes' | 'requireNonce' | 'debug'
>;

export interface ServerOptions {
  engine: Engine;
  /** Defaults: `urn:asap:agent:baton`, the listening address, 10 MiB, no nonce, no debug. */
  config?: Partial<ServerConfig>;
  /** Default: the engine's logger. */
  logger?: Logger;
  /** Where seen nonces are kept when `requireNonce` is on (default: in memory). */
  nonceStore?: NonceStore;
  /** Manifest name, description and version. */
  manifest?: ManifestInfo;
  /** Baton's own payload handlers (`task.request`, `task.cancel`, `state_query`, `state_restore`); `false` for none. */
  batonHandlers?: BatonHandlerOptions | false;
  /**
   * Where the server's Prometheus metrics go (ASAP, engine, process), served at `/metrics` and
   * `/asap/metrics` with those of `engine.metrics` (its HTTP client's); default: a registry of this
   * server's own. Pass the engine's registry to have all of them in one.
   */
  metrics?: Registry;
  /** The REST API under `/api/v1`, its OpenAPI document and docs UI; `false` for none. */
  rest?: RestOptions | false;
  /** Clock in epoch ms, for tests (timestamp window, nonce TTL, uptime). */
  now?: () => number;
  /**
   * Where the server's spans go (HTTP server spans, `asap.dispatch`). Default: the engine's
   * (`engine.tracerProvider`); without one, no spans and no tracing hooks at all.
   */
  tracerProvider?: TracerProvider;
}

/** `server.asap`: the payload handler registry and the manifest. */
export interface AsapApi {
  /** Registers (or replaces) the `/asap` handler of an exact `payload_type`. */
  register(payloadType: string, handler: AsapHandler): void;
  /** Registers (or replaces) the `/asap/stream` handler of an exact `payload_type`. */
  registerStreaming(payloadType: string, handler: AsapStreamingHandler): void;
  readonly registry: PayloadHandlerRegistry;
  /** The manifest as currently served. */
  manifest(): Manifest;
}

declare module 'fastify' {
  interface FastifyInstance {
    asap: AsapApi;
  }
  interface FastifyRequest {
    /** The negotiated `ASAP-Version`, sent back on the response. */
    asapVersion: AsapTransportVersion;
  }
}

export const DEFAULT_SERVER_CONFIG: ServerConfig = {
  agentId: 'urn:asap:agent:baton',
  publicUrl: undefined,
  maxRequestBytes: MAX_REQUEST_SIZE,
  requireNonce: false,
  debug: false,
};

/**
 * Baton's HTTP app on `engine`. Call `listen()` (or `inject()`) on it; `close()` ends open
 * streams and waits, answers `working` to `task.request`s still waiting, then closes. Closing the
 * engine stays the caller's job.
 *
 * @example
 * const app = createServer({ engine, config: { agentId: 'urn:asap:agent:shop' } });
 * app.asap.register('ping', (envelope, ctx) => ctx.reply('pong', {}));
 * await app.listen({ port: 8080 });
 */
export function createServer(options: ServerOptions): FastifyInstance {
  const config: ServerConfig = { ...DEFAULT_SERVER_CONFIG, ...withoutUndefined(options.config ?? {}) };
  const logger = options.logger ?? options.engine.logger ?? pino({ level: 'warn' });
  const now = options.now ?? Date.now;
  const app = fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    // `request.log` is the server's logger itself: a pino child per request costs about 5 µs,
    // and the ASAP pipeline binds the envelope's ids where it logs.
    childLoggerFactory: (parent) => parent,
    bodyLimit: config.maxRequestBytes,
  }) as unknown as FastifyInstance;

  const tracer =
    options.tracerProvider === undefined ? options.engine.tracer : resolveTracer(options.tracerProvider);
  // On the root, before any plugin: every route gets a server span.
  if (tracer !== undefined) addServerSpans(app, tracer);

  const closing = new AbortController();
  const registry = new PayloadHandlerRegistry();
  const manifest = new ManifestSource(options.engine, {
    agentId: config.agentId,
    publicUrl: () => config.publicUrl ?? listeningUrl(app),
    info: options.manifest,
  });
  const currentManifest = (): Manifest => manifest.current().manifest;
  const metricsRegistry = options.metrics ?? new Registry();
  collectProcessMetrics(metricsRegistry);
  const engineMetrics = new EngineMetrics(options.engine, metricsRegistry, { now });
  const pipeline = new AsapPipeline({
    metrics: new AsapServerMetrics(metricsRegistry, now),
    registry,
    agentId: config.agentId,
    manifest: currentManifest,
    nonces: config.requireNonce ? (options.nonceStore ?? new MemoryNonceStore({ now })) : undefined,
    now,
    debug: config.debug,
    logger,
    signal: closing.signal,
    ...(tracer === undefined ? {} : { tracer }),
  });

  app.decorate('asap', {
    register: (payloadType: string, handler: AsapHandler) => registry.register(payloadType, handler),
    registerStreaming: (payloadType: string, handler: AsapStreamingHandler) =>
      registry.registerStreaming(payloadType, handler),
    registry,
    manifest: currentManifest,
  } satisfies AsapApi);
  app.decorateRequest('asapVersion', ASAP_DEFAULT_TRANSPORT_VERSION);
  // Waiting handlers and open streams answer at once, so close() does not wait for them.
  app.addHook('preClose', (done) => {
    closing.abort();
    engineMetrics.close();
    done();
  });

  if (options.batonHandlers !== false) registerBatonHandlers(registry, options.engine, options.batonHandlers);
  void app.register(asapPlugin, {
    pipeline,
    registry,
    manifest,
    maxRequestBytes: config.maxRequestBytes,
    signal: closing.signal,
  });
  // The ASAP routes set `ASAP-Version` as they negotiate it; every other route, in this context,
  // sends the default. (A hook on the root would cost the ASAP hot path a hook run per request.)
  void app.register(async (operator) => {
    operator.addHook('onRequest', defaultVersionHeader);
    operator.addHook('preHandler', requestContextHook);
    await operator.register(healthPlugin, { manifest: currentManifest, now, engine: options.engine });
    await operator.register(metricsPlugin, { registries: [metricsRegistry, options.engine.metrics] });
    if (options.rest !== false) {
      await operator.register(restPlugin, {
        ...options.rest,
        engine: options.engine,
        signal: closing.signal,
      });
    }
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .header(ASAP_VERSION_HEADER, ASAP_DEFAULT_TRANSPORT_VERSION)
      .code(404)
      .send({
        message: `Route ${request.method}:${request.url} not found`,
        error: 'Not Found',
        statusCode: 404,
      }),
  );
  return app;
}

function defaultVersionHeader(_request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  reply.header(ASAP_VERSION_HEADER, ASAP_DEFAULT_TRANSPORT_VERSION);
  done();
}

/** The first address the app listens on, as a URL; the default port's before it listens. */
function listeningUrl(app: FastifyInstance): string {
  const address = app.server.address();
  if (address === null || typeof address === 'string') return 'http://127.0.0.1:8080';
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}
