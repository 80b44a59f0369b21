import type { Command } from 'commander';
import { NotFoundError } from '../../util/errors.ts';
import { withBackend } from '../backend/index.ts';
import type { RegisterCommand } from '../context.ts';
import { writeJson } from '../format.ts';
import { renderHandlers } from '../render.ts';

interface HandlersOptions {
  readonly json?: boolean;
}

/** `baton handlers [namespace]`: the step handlers the server (or this process) can run, by namespace. */
export const registerHandlersCommand: RegisterCommand = (program, context) => {
  program
    .command('handlers')
    .description('List step handlers by namespace (built-in types under "builtin")')
    .argument('[namespace]', 'Only this namespace')
    .option('--json', 'Print {namespaces} as JSON')
    .action(async (namespace: string | undefined, options: HandlersOptions, command: Command) => {
      let namespaces = await withBackend(context, command, (backend) => backend.listHandlers());
      if (namespace !== undefined) {
        const handlers = namespaces[namespace];
        if (!handlers) throw new NotFoundError(`no handlers are registered in namespace ${namespace}`);
        namespaces = { [namespace]: handlers };
      }
      if (options.json === true) writeJson(context.io, { namespaces });
      else context.io.stdout.write(renderHandlers(namespaces));
    });
};
