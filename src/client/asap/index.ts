/**
 * The ASAP client (SPEC §4, asap-wire §6): discovery with manifest caching, `send` with the
 * reference client's retry rules and correlation check, request compression, `stream()`.
 *
 * @example
 * const agent = createAsapClient({ baseUrl: 'http://127.0.0.1:9000', agentId: 'urn:asap:agent:me' });
 * const manifest = await agent.discover();
 * const reply = await agent.send({
 *   payload_type: 'task.request',
 *   payload: { conversation_id: 'c1', skill_id: manifest.capabilities.skills[0].id, input: {} },
 * });
 * for await (const chunk of agent.stream({ payload_type: 'task.request', payload })) …
 * await agent.close();
 *
 * @module
 */
export {
  AsapClient,
  createAsapClient,
  DEFAULT_AGENT_ID,
  MANIFEST_PATH,
  type AsapClientOptions,
  type DiscoverOptions,
  type OutgoingMessage,
  type SendOptions,
} from './client.ts';
export { DEFAULT_MANIFEST_TTL_MS, freshnessMs, MAX_MANIFEST_TTL_MS } from './manifest-cache.ts';
export { SseParser, sseData } from './sse.ts';
export { COMPRESSION_THRESHOLD_BYTES, IDEMPOTENCY_HEADER, type Compression } from './wire.ts';
