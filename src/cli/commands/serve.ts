import { isIP } from 'node:net';
import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { redactUrl, type BatonConfig } from '../../config/index.ts';
import { BatonError } from '../../util/errors.ts';
import { createServer } from '../../server/index.ts';
import type { RegisterCommand } from '../context.ts';
import { definitionSources, loadDefinitions, shutdownSignal } from '../definitions.ts';
import { openProcessEngine } from '../process-engine.ts';

interface ServeOptions {
  readonly migrate: boolean;
}

/**
 * `baton serve` (and `npm start`): the HTTP server (ASAP agent endpoint, manifest, health) with
 * workers, on the configured store. Without `--handlers` and `--templates-dir` it serves the
 * example templates of `examples/templates`. SIGTERM or SIGINT stops it gracefully: the server
 * stops accepting and answers what is in flight, workers finish their steps, the engine closes.
 */
export const registerServeCommand: RegisterCommand = (program, context) => {
  program
    .command('serve')
    .description('Run the HTTP server (ASAP agent endpoint, health) and workers until SIGTERM/SIGINT')
    .option('--no-migrate', 'Do not apply pending store migrations at start')
    .action(async (options: ServeOptions, command: Command) => {
      const { config } = context.resolveConfig(command);
      const stopping = shutdownSignal();
      const { engine, close } = await openProcessEngine(config, { migrate: options.migrate });
      const log = engine.logger;
      let app: FastifyInstance | undefined;
      try {
        const sources = definitionSources(config);
        await loadDefinitions(engine, sources, context.io.cwd);
        if (config.workerConcurrency > 0) engine.startWorkers();
        app = createServer({ engine, config, logger: log });
        const url = await listen(app, config);
        log.info(
          {
            url,
            agent_id: config.agentId,
            store: redactUrl(config.store),
            templates: engine.templates.list().length,
            definitions: sources.label,
            workers: config.workerConcurrency,
          },
          'baton.server.listening',
        );
        if (!isLoopback(config.host)) {
          log.warn({ host: config.host }, 'baton.server.exposed: listening beyond this machine');
        }
        context.io.stdout.write(`Baton listening on ${url} (agent ${config.agentId})\n`);
        await stopping.promise;
        log.info({ url }, 'baton.server.stopping');
      } finally {
        stopping.cancel();
        await app?.close();
        await close();
      }
    });
};

/** Listens, or fails with what to change when the address is taken or not this machine's. */
async function listen(app: FastifyInstance, config: BatonConfig): Promise<string> {
  try {
    return await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const where = `${config.host}:${config.port}`;
    if (code === 'EADDRINUSE') {
      throw new BatonError(
        'config_invalid',
        `cannot listen on ${where}: the port is taken by another process (choose another with --port or BATON_PORT)`,
      );
    }
    if (code === 'EADDRNOTAVAIL' || code === 'EACCES') {
      throw new BatonError(
        'config_invalid',
        `cannot listen on ${where}: ${code === 'EACCES' ? 'permission denied' : 'no such address on this machine'} (check --host/--port or BATON_HOST/BATON_PORT)`,
      );
    }
    throw error;
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}
