/**
 * Health routes of the ASAP reference (asap-wire §5.6): `GET /health` and `GET /ready` answer
 * `{"status":"ok"}`; `GET /.well-known/asap/health` describes the agent.
 */
import type { FastifyPluginCallback } from 'fastify';
import type { Manifest } from '../protocol/index.ts';

export interface HealthPluginOptions {
  manifest: () => Manifest;
  /** Epoch ms the agent started (default: when the plugin loads). */
  startedAt?: number;
  now?: () => number;
  /** Whether the agent is healthy; `false` answers 503 with `status: "unhealthy"` (default: always healthy). */
  healthy?: () => boolean | Promise<boolean>;
}

export interface AgentHealth {
  status: 'healthy' | 'unhealthy';
  agent_id: string;
  version: string;
  asap_version: string;
  uptime_seconds: number;
  load: { active_tasks: number; queue_depth: number } | null;
}

export const healthPlugin: FastifyPluginCallback<HealthPluginOptions> = (app, options, done) => {
  const now = options.now ?? Date.now;
  const startedAt = options.startedAt ?? now();
  const ok = { status: 'ok' } as const;

  app.get('/health', (_request, reply) => reply.send(ok));
  app.get('/ready', (_request, reply) => reply.send(ok));

  app.get('/.well-known/asap/health', async (_request, reply) => {
    const healthy = (await options.healthy?.()) ?? true;
    const manifest = options.manifest();
    const body: AgentHealth = {
      status: healthy ? 'healthy' : 'unhealthy',
      agent_id: manifest.id,
      version: manifest.version,
      asap_version: manifest.capabilities.asap_version,
      uptime_seconds: Math.round((now() - startedAt) / 10) / 100,
      load: null,
    };
    return reply.code(healthy ? 200 : 503).send(body);
  });
  done();
};
