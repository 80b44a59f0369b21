import type { RegisterCommand } from '../context.ts';
import { registerConfigCommand } from './config.ts';
import { registerDemoCommand } from './demo.ts';
import { registerDlqCommand } from './dlq.ts';
import { registerHandlersCommand } from './handlers.ts';
import { registerMigrateCommand } from './migrate.ts';
import { registerResolveCommand } from './resolve.ts';
import { registerRunCommand } from './run.ts';
import { registerSendCommand } from './send.ts';
import { registerServeCommand } from './serve.ts';
import { registerTasksCommand } from './tasks.ts';
import { registerTemplatesCommand } from './templates.ts';
import { registerWorkerCommand } from './worker.ts';

/**
 * Every `baton` command, in the order `--help` lists them. A new command is one module in this
 * folder exporting a RegisterCommand, plus one line here.
 */
export const COMMANDS: readonly RegisterCommand[] = [
  registerDemoCommand,
  registerServeCommand,
  registerWorkerCommand,
  registerRunCommand,
  registerTasksCommand,
  registerTemplatesCommand,
  registerHandlersCommand,
  registerDlqCommand,
  registerResolveCommand,
  registerSendCommand,
  registerMigrateCommand,
  registerConfigCommand,
];
