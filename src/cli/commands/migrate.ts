import type { Command } from 'commander';
import { redactUrl } from '../../config/index.ts';
import { openStore } from '../../storage/index.ts';
import type { RegisterCommand } from '../context.ts';

interface MigrateOptions {
  readonly json?: boolean;
}

/** `baton migrate`: applies the store's pending migrations (safe to run from several processes at once). */
export const registerMigrateCommand: RegisterCommand = (program, context) => {
  program
    .command('migrate')
    .description('Apply pending store migrations to the configured store')
    .option('--json', 'Print the result as JSON')
    .action(async (options: MigrateOptions, command: Command) => {
      const { config } = context.resolveConfig(command);
      const store = openStore(config.store);
      try {
        const { applied } = await store.migrate();
        const where = redactUrl(config.store);
        context.io.stdout.write(
          options.json === true
            ? `${JSON.stringify({ store: where, applied })}\n`
            : applied.length === 0
              ? `${where}: already up to date\n`
              : `${where}: applied ${applied.join(', ')}\n`,
        );
      } finally {
        await store.close();
      }
    });
};
