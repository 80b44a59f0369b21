/** The `baton` command line, runnable in-process (tests, embedding) as well as from `main.ts`. */
export { buildProgram, runCli } from './program.ts';
export { EXIT_CODES } from './exit-codes.ts';
export type { CliContext, CliIo, RegisterCommand } from './context.ts';
