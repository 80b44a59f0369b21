import type { Command } from 'commander';
import { redactUrl } from '../../config/index.ts';
import { ValidationError } from '../../util/errors.ts';
import type { RegisterCommand } from '../context.ts';
import { loadDefinitions, shutdownSignal } from '../definitions.ts';
import { openProcessEngine } from '../process-engine.ts';

interface WorkerOptions {
  readonly migrate: boolean;
}

/**
 * `baton worker`: runs steps, no HTTP. Start as many as you like on one store (PostgreSQL for
 * several machines); each claims work under its own leases. SIGTERM or SIGINT stops it
 * gracefully: no new claims, running steps get `shutdownTimeoutMs` to finish, the rest go back.
 */
export const registerWorkerCommand: RegisterCommand = (program, context) => {
  program
    .command('worker')
    .description('Run workers only (no HTTP server) on the configured store until SIGTERM/SIGINT')
    .option('--no-migrate', 'Do not apply pending store migrations at start')
    .action(async (options: WorkerOptions, command: Command) => {
      const { config } = context.resolveConfig(command);
      if (config.workerConcurrency === 0) {
        throw new ValidationError(
          'a worker with concurrency 0 would run nothing: set --concurrency or BATON_WORKER_CONCURRENCY',
        );
      }
      if (config.handlers === undefined) {
        throw new ValidationError(
          'a worker needs handlers to run: pass --handlers <module> or set BATON_HANDLERS',
        );
      }
      const stopping = shutdownSignal();
      const { engine, close } = await openProcessEngine(config, { migrate: options.migrate });
      try {
        await loadDefinitions(engine, config, context.io.cwd);
        engine.startWorkers();
        engine.logger.info(
          {
            worker_id: engine.workerId,
            store: redactUrl(config.store),
            handlers: engine.handlers.keys().length,
          },
          'engine.worker.started',
        );
        await stopping.promise;
        engine.logger.info({ worker_id: engine.workerId }, 'engine.worker.stopping');
      } finally {
        stopping.cancel();
        await close();
      }
    });
};
