import type { RegisterCommand } from '../context.ts';
import { registerConfigCommand } from './config.ts';
import { registerDemoCommand } from './demo.ts';
import { registerMigrateCommand } from './migrate.ts';
import { registerServeCommand } from './serve.ts';
import { registerWorkerCommand } from './worker.ts';

/**
 * Every `baton` command, in the order `--help` lists them. A new command is one module in this
 * folder exporting a RegisterCommand, plus one line here.
 */
export const COMMANDS: readonly RegisterCommand[] = [
  registerDemoCommand,
  registerServeCommand,
  registerWorkerCommand,
  registerMigrateCommand,
  registerConfigCommand,
];
