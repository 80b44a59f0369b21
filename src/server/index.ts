/**
 * `baton/server`: Baton's HTTP app. `createServer` builds a fastify instance with the ASAP agent
 * endpoint (`POST /asap`, `POST /asap/stream`, the manifest) and the health routes, Baton's
 * payload handlers on the engine, and `server.asap.register` for your own.
 *
 * @example
 * const app = createServer({ engine, config: { agentId: 'urn:asap:agent:shop' } });
 * await app.listen({ host: '127.0.0.1', port: 8080 });
 *
 * @module
 */
export {
  createServer,
  DEFAULT_SERVER_CONFIG,
  type AsapApi,
  type ServerConfig,
  type ServerOptions,
} from './server.ts';
export { asapPlugin, type AsapPluginOptions } from './asap-plugin.ts';
export {
  healthPlugin,
  type AgentHealth,
  type CheckResult,
  type HealthCheck,
  type HealthPluginOptions,
  type ReadyHealth,
  type StatusHealth,
} from './health.ts';
export {
  PayloadHandlerRegistry,
  type AsapHandler,
  type AsapHandlerContext,
  type AsapStreamingHandler,
} from './registry.ts';
export { MemoryNonceStore, type MemoryNonceStoreOptions, type NonceStore } from './replay.ts';
export { ManifestSource, type ManifestInfo } from './manifest.ts';
export { HttpError } from './http-error.ts';
export {
  asapStatus,
  DEFAULT_TASK_TIMEOUT_SECONDS,
  registerBatonHandlers,
  STATE_RESTORE_ACK_PAYLOAD_TYPE,
  STATE_SNAPSHOT_PAYLOAD_TYPE,
  TASK_STREAM_PAYLOAD_TYPE,
  type BatonHandlerOptions,
} from './handlers/index.ts';
