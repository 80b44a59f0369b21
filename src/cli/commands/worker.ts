import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { redactUrl, type BatonConfig } from '../../config/index.ts';
import { createEngine, type Engine } from '../../engine/index.ts';
import { ValidationError } from '../../util/errors.ts';
import type { CliIo, RegisterCommand } from '../context.ts';
import { engineOptionsFrom } from '../engine-options.ts';

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
      const engine = await createEngine(engineOptionsFrom(config, { migrate: options.migrate }));
      try {
        await loadDefinitions(engine, config, context.io);
        engine.startWorkers();
        engine.logger.info(
          {
            worker_id: engine.workerId,
            store: redactUrl(config.store),
            handlers: engine.handlers.keys().length,
          },
          'engine.worker.started',
        );
        await shutdownSignal();
        engine.logger.info({ worker_id: engine.workerId }, 'engine.worker.stopping');
      } finally {
        await engine.close({ timeoutMs: config.shutdownTimeoutMs });
      }
    });
};

/** Runs the handlers module (its default export receives the engine), then loads the templates folder. */
async function loadDefinitions(engine: Engine, config: BatonConfig, io: CliIo): Promise<void> {
  if (config.handlers !== undefined) {
    const url = pathToFileURL(resolve(io.cwd, config.handlers)).href;
    const module = (await import(url)) as { default?: unknown };
    if (typeof module.default !== 'function') {
      throw new ValidationError(
        `${config.handlers} must export a default function that registers handlers: export default (engine) => { engine.registerHandler(…) }`,
      );
    }
    await (module.default as (engine: Engine) => unknown)(engine);
  }
  if (config.templatesDir !== undefined) await engine.loadTemplates(resolve(io.cwd, config.templatesDir));
}

/** Resolves on the first SIGTERM or SIGINT, and stops listening for both. */
function shutdownSignal(): Promise<void> {
  return new Promise((done) => {
    const stop = (): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      done();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
