import { Command, CommanderError } from 'commander';
import packageJson from '../../package.json' with { type: 'json' };
import { isConfigError } from '../config/index.ts';
import { COMMANDS } from './commands/index.ts';
import { createCliContext } from './context.ts';
import type { CliContext, CliIo } from './context.ts';
import { isBatonError } from '../util/errors.ts';
import { CommandExit, EXIT_CODES, EXIT_CODES_HELP, exitCodeFor } from './exit-codes.ts';
import { addGlobalOptions } from './global-options.ts';

/**
 * The `baton` program with its global options and every command, writing to `io`. It throws
 * instead of exiting (commander's exitOverride), so tests can drive it in-process.
 */
export function buildProgram(io: CliIo): Command {
  return createProgram(createCliContext(io));
}

/**
 * Runs `baton` with `args` (without the node and script paths) and returns the exit code:
 * 0 success, 1 the command failed, 2 bad usage or invalid configuration. Never exits the process.
 */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  const context = createCliContext(io);
  try {
    await createProgram(context).parseAsync(args, { from: 'user' });
    return EXIT_CODES.ok;
  } catch (error) {
    return reportFailure(error, context);
  }
}

function createProgram(context: CliContext): Command {
  const { stdout, stderr } = context.io;
  // Output settings and exitOverride are inherited by commands added later, so they come first.
  const program = new Command('baton')
    .description('Durable, resilient workflows across services and AI agents')
    .version(packageJson.version, '-V, --version', 'Print the version')
    .helpOption('-h, --help', 'Print help')
    .helpCommand('help [command]', 'Print help for a command')
    .configureOutput({ writeOut: (text) => stdout.write(text), writeErr: (text) => stderr.write(text) })
    .exitOverride()
    .showHelpAfterError('(run "baton --help" for usage)')
    .addHelpText('afterAll', EXIT_CODES_HELP);
  addGlobalOptions(program);
  for (const register of COMMANDS) register(program, context);
  return program;
}

function reportFailure(error: unknown, context: CliContext): number {
  // Commander has already printed its message (or the help or version asked for).
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
  const { stderr } = context.io;
  if (error instanceof CommandExit) {
    stderr.write(`baton: ${error.message}\n`);
    return error.exitCode;
  }
  if (isConfigError(error)) {
    stderr.write(`baton: ${error.message}\n(run "baton config --docs" for every key and what it accepts)\n`);
    return EXIT_CODES.usage;
  }
  if (isBatonError(error)) {
    stderr.write(`baton: ${error.message}\n`);
    // Details the message already says (a single problem usually) are not repeated.
    for (const detail of (error.details ?? []).filter((each) => !error.message.includes(each.message))) {
      stderr.write(`  ${detail.path === undefined ? '' : `${detail.path}: `}${detail.message}\n`);
    }
    if (error.code === 'store_unavailable') stderr.write('(check --store or BATON_STORE)\n');
    return exitCodeFor(error.code);
  }
  stderr.write(`baton: ${describeError(error, context.resolved?.config.debug === true)}\n`);
  return EXIT_CODES.failure;
}

// Stack traces only in debug mode: they help a developer and only confuse an operator.
function describeError(error: unknown, debug: boolean): string {
  if (!(error instanceof Error)) return String(error);
  return debug && error.stack !== undefined ? error.stack : error.message;
}
