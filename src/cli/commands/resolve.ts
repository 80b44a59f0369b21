import type { Command } from 'commander';
import { withBackend } from '../backend/index.ts';
import type { RegisterCommand } from '../context.ts';
import { parseJsonArgument, writeJson } from '../format.ts';

interface ResolveOptions {
  readonly result?: string;
  readonly json?: boolean;
}

/** `baton resolve <task> <step>`: marks a failed step as resolved by hand, so its dependents proceed. */
export const registerResolveCommand: RegisterCommand = (program, context) => {
  program
    .command('resolve')
    .description('Resolve a failed step by hand, with an optional result, so its dependents proceed')
    .argument('<task>', 'Task id')
    .argument('<step>', 'Step name')
    .option('--result <json>', "The step's result as JSON (default null)")
    .option('--json', 'Print {task} as JSON')
    .action(async (taskId: string, step: string, options: ResolveOptions, command: Command) => {
      const result = options.result === undefined ? null : parseJsonArgument(options.result, '--result');
      const task = await withBackend(context, command, (backend) =>
        backend.resolveStep(taskId, step, result),
      );
      if (options.json === true) writeJson(context.io, { task });
      else context.io.stdout.write(`step ${step} of task ${task.id} resolved; the task is ${task.status}\n`);
    });
};
