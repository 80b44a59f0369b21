import type { Command } from 'commander';
import { withBackend, type DeadLetterQuery } from '../backend/index.ts';
import type { RegisterCommand } from '../context.ts';
import { writeJson } from '../format.ts';
import { parseLimit } from '../options.ts';
import { renderDeadLetters } from '../render.ts';
import { addActionOptions, runAction, type ActionOptions } from './tasks.ts';

interface ListOptions extends Omit<DeadLetterQuery, 'includeClosed'> {
  readonly all?: boolean;
  readonly json?: boolean;
}

/** `baton dlq list|replay`: the dead-letter queue. */
export const registerDlqCommand: RegisterCommand = (program, context) => {
  const dlq = program.command('dlq').description('List and replay dead letters (tasks that failed for good)');

  dlq
    .command('list')
    .description('List open dead letters, newest first')
    .option('--all', 'Include closed entries (replayed or resolved)')
    .option('--limit <n>', 'Entries per page, 1 to 500 (default 50)', parseLimit)
    .option('--cursor <cursor>', 'Continue after the page that returned this next_cursor')
    .option('--json', 'Print {dead_letters, next_cursor} as JSON')
    .action(async (options: ListOptions, command: Command) => {
      const page = await withBackend(context, command, (backend) =>
        backend.listDeadLetters({ limit: options.limit, cursor: options.cursor, includeClosed: options.all }),
      );
      if (options.json === true) writeJson(context.io, page);
      else context.io.stdout.write(renderDeadLetters(page.dead_letters, page.next_cursor));
    });

  addActionOptions(
    dlq
      .command('replay')
      .description("Replay a dead letter's task (after fixing the cause)")
      .argument('<id>', 'Dead-letter id'),
  ).action(async (id: string, options: ActionOptions, command: Command) => {
    await runAction(context, command, options, (backend) => backend.replayDeadLetter(id), 'replayed');
  });
};
