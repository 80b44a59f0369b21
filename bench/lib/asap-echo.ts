import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

/** The agent id of the echo server, the recipient of the benchmarks' envelopes. */
export const ECHO_AGENT = 'urn:asap:agent:bench-echo';

/**
 * Baton's ASAP endpoint as `baton serve` configures it, with a `task.request` handler that
 * answers `task.response` with the input; listens on a free port and returns it. Modules are
 * loaded here, in the server process, not by the benchmark that forks it.
 */
export async function startEchoServer(options: { logger: Logger; requireNonce?: boolean }): Promise<number> {
  const { createEngine } = await import('../../src/engine/index.ts');
  const { createServer } = await import('../../src/server/index.ts');
  const engine = await createEngine({ store: 'sqlite::memory:', logger: options.logger });
  const app = createServer({
    engine,
    logger: options.logger,
    batonHandlers: false,
    config: {
      agentId: ECHO_AGENT,
      requireNonce: options.requireNonce ?? false,
      publicUrl: 'http://127.0.0.1/',
    },
  });
  app.asap.register('task.request', (envelope, context) =>
    context.reply('task.response', {
      task_id: 'tsk_echo',
      status: 'completed',
      result: (envelope.payload as { input: unknown }).input,
    }),
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  return (app.server.address() as AddressInfo).port;
}
