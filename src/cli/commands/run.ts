import { Option, type Command } from 'commander';
import { withBackend } from '../backend/index.ts';
import type { RegisterCommand } from '../context.ts';
import { waitForOutcome } from '../follow.ts';
import { parseJsonArgument, writeJson } from '../format.ts';
import { parseSeconds, readArgumentFile } from '../options.ts';

interface RunOptions {
  readonly input?: string;
  readonly inputFile?: string;
  readonly idempotencyKey?: string;
  readonly wait?: boolean;
  readonly timeout?: number;
  readonly json?: boolean;
}

/**
 * `baton run <template>`: starts a task; with `--wait`, follows it to the end with live progress
 * and exits with its outcome. On a store (no `--url`) the steps run in this process while it waits.
 */
export const registerRunCommand: RegisterCommand = (program, context) => {
  program
    .command('run')
    .description('Start a task from a template; with --wait, follow it to the end with live progress')
    .argument('<template>', 'Template: namespace.name (highest version) or namespace.name@1.2.3')
    .addOption(new Option('--input <json>', 'Task input as JSON (default {})'))
    .addOption(new Option('--input-file <file>', 'Read the task input from a JSON file').conflicts('input'))
    .option('--idempotency-key <key>', 'Start at most one task per key and template (a repeat returns it)')
    .option('--wait', 'Follow the task until it ends; exit 0 only if it completed')
    .option('--timeout <seconds>', 'With --wait: stop waiting after this long (exit code 6)', parseSeconds)
    .option('--json', 'Print the task as JSON (with --wait: once it ended, without progress)')
    .action(async (template: string, options: RunOptions, command: Command) => {
      const input = await readInput(options, context.io.cwd);
      await withBackend(
        context,
        command,
        async (backend) => {
          const { task, created } = await backend.startTask({
            template,
            input,
            idempotencyKey: options.idempotencyKey,
          });
          if (options.wait === true) {
            if (!created && options.json !== true)
              context.io.stdout.write(`task ${task.id} already exists for this idempotency key\n`);
            await waitForOutcome(context.io, backend, task, {
              json: options.json === true,
              timeoutMs: options.timeout,
            });
          } else if (options.json === true) {
            writeJson(context.io, { task, created });
          } else {
            context.io.stdout.write(
              `${created ? 'started' : 'already started (same idempotency key)'}: task ${task.id} (${task.template}@${task.version}, ${task.status})\n`,
            );
          }
        },
        { work: options.wait === true },
      );
    });
};

async function readInput(options: RunOptions, cwd: string): Promise<unknown> {
  if (options.inputFile !== undefined) {
    const text = await readArgumentFile(cwd, options.inputFile, '--input-file');
    return parseJsonArgument(text, `--input-file ${options.inputFile}`);
  }
  return options.input === undefined ? {} : parseJsonArgument(options.input, '--input');
}
