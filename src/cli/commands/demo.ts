import { runDemo } from '../../demo/index.ts';
import type { RegisterCommand } from '../context.ts';

interface DemoCommandOptions {
  readonly path: string;
}

/** `baton demo`: example workflows end to end on a fresh SQLite file; fails unless all went as expected. */
export const registerDemoCommand: RegisterCommand = (program, context) => {
  program
    .command('demo')
    .description('Run example workflows end to end on a fresh SQLite file, with live progress')
    .option('--path <file>', 'SQLite file to create afresh', './data/demo.db')
    .action(async (options: DemoCommandOptions) => {
      const { stdout } = context.io;
      const result = await runDemo({
        path: options.path,
        write: (line) => stdout.write(`${line}\n`),
        color: stdout.isTTY === true,
      });
      if (!result.ok) throw new Error(`the demo did not go as expected: ${result.failures.join('; ')}`);
    });
};
