import { Option, type Command } from 'commander';
import { TASK_STATUSES } from '../../storage/records.ts';
import type { TaskView } from '../../engine/index.ts';
import { withBackend, type Backend, type TaskListQuery } from '../backend/index.ts';
import type { CliContext, RegisterCommand } from '../context.ts';
import { waitForOutcome } from '../follow.ts';
import { writeJson } from '../format.ts';
import { parseLimit, parseSeconds } from '../options.ts';
import { renderTask, renderTaskList } from '../render.ts';

interface ListOptions extends TaskListQuery {
  readonly json?: boolean;
}

interface ShowOptions {
  readonly deps?: boolean;
  readonly json?: boolean;
}

export interface ActionOptions {
  readonly wait?: boolean;
  readonly timeout?: number;
  readonly json?: boolean;
}

/** `baton tasks list|show|cancel|replay`: tasks on the server (`--url`) or the store. */
export const registerTasksCommand: RegisterCommand = (program, context) => {
  const tasks = program.command('tasks').description('List, show, cancel and replay tasks');

  tasks
    .command('list')
    .description('List tasks, newest first, without their steps')
    .addOption(new Option('--status <status>', 'Only tasks in this status').choices(TASK_STATUSES))
    .option('--template <name>', 'Only tasks of this template (namespace.name)')
    .option('--namespace <namespace>', 'Only tasks of templates in this namespace')
    .option('--limit <n>', 'Tasks per page, 1 to 500 (default 50)', parseLimit)
    .option('--cursor <cursor>', 'Continue after the page that returned this next_cursor')
    .option('--json', 'Print {tasks, next_cursor} as JSON')
    .action(async (options: ListOptions, command: Command) => {
      const { json, ...query } = options;
      const page = await withBackend(context, command, (backend) => backend.listTasks(query));
      if (json === true) writeJson(context.io, page);
      else context.io.stdout.write(renderTaskList(page.tasks, page.next_cursor));
    });

  tasks
    .command('show')
    .description('Show a task with its steps, result and history')
    .argument('<id>', 'Task id')
    .option('--deps', 'Add the dependency analysis: levels, critical path, bottlenecks')
    .option('--json', 'Print {task} as JSON')
    .action(async (id: string, options: ShowOptions, command: Command) => {
      const task = await withBackend(context, command, (backend) =>
        backend.getTask(id, { dependencies: options.deps === true }),
      );
      if (options.json === true) writeJson(context.io, { task });
      else context.io.stdout.write(renderTask(task));
    });

  tasks
    .command('cancel')
    .description('Cancel a task: waiting steps are cancelled, running steps see their signal aborted')
    .argument('<id>', 'Task id')
    .option('--json', 'Print {task} as JSON')
    .action(async (id: string, options: ActionOptions, command: Command) => {
      const task = await withBackend(context, command, (backend) => backend.cancelTask(id));
      report(context, task, options, `task ${task.id} cancelled`);
    });

  addActionOptions(
    tasks
      .command('replay')
      .description('Replay a failed task: its failed and skipped steps run again, completed results are kept')
      .argument('<id>', 'Task id'),
  ).action(async (id: string, options: ActionOptions, command: Command) => {
    await runAction(context, command, options, (backend) => backend.replayTask(id), 'replayed');
  });
};

/** `--wait`, `--timeout` and `--json`, for the commands that set a task going again. */
export function addActionOptions(command: Command): Command {
  return command
    .option('--wait', 'Follow the task until it ends; exit 0 only if it completed')
    .option('--timeout <seconds>', 'With --wait: stop waiting after this long (exit code 6)', parseSeconds)
    .option('--json', 'Print {task} as JSON (with --wait: once it ended)');
}

/** Runs an action that sets a task going again (replay, dead-letter replay), then reports or follows it. */
export async function runAction(
  context: CliContext,
  command: Command,
  options: ActionOptions,
  act: (backend: Backend) => Promise<TaskView>,
  verb: string,
): Promise<void> {
  await withBackend(
    context,
    command,
    async (backend) => {
      const task = await act(backend);
      if (options.wait !== true)
        return report(context, task, options, `task ${task.id} ${verb}: ${task.status}`);
      if (options.json !== true) context.io.stdout.write(`task ${task.id} ${verb}\n`);
      await waitForOutcome(context.io, backend, task, {
        json: options.json === true,
        timeoutMs: options.timeout,
      });
    },
    { work: options.wait === true },
  );
}

function report(context: CliContext, task: TaskView, options: { json?: boolean }, line: string): void {
  if (options.json === true) writeJson(context.io, { task });
  else context.io.stdout.write(`${line}\n`);
}
