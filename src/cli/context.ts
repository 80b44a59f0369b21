import type { Command } from 'commander';
import { resolveConfig } from '../config/index.ts';
import type { ResolvedConfig } from '../config/index.ts';
import { configOptionsOf } from './global-options.ts';

/** Where a CLI run writes. `main.ts` passes the process streams; tests pass buffers. */
export interface OutputStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  /** The terminal's width, when it is one. */
  readonly columns?: number;
}

/** Everything a CLI run reads from or writes to, so the CLI can run in-process in tests. */
export interface CliIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** What every command module gets: the run's I/O and its configuration. */
export interface CliContext {
  readonly io: CliIo;
  /**
   * The configuration from defaults, config file, environment and the global flags given to
   * `command`; resolved on first call, then the same object.
   *
   * @throws {ConfigError} when the configuration is invalid (the CLI exits with code 2).
   */
  resolveConfig(command: Command): ResolvedConfig;
  /** The configuration, if a command has resolved it. */
  readonly resolved: ResolvedConfig | undefined;
}

/**
 * A command module: adds one command (with its options and action) to the program.
 * Listed in `commands/index.ts`.
 */
export type RegisterCommand = (program: Command, context: CliContext) => void;

/** The context of one CLI run; the configuration is resolved at most once per run. */
export function createCliContext(io: CliIo): CliContext {
  let resolved: ResolvedConfig | undefined;
  return {
    io,
    resolveConfig(command) {
      resolved ??= resolveConfig({
        ...configOptionsOf(command),
        env: io.env,
        cwd: io.cwd,
        isTTY: io.stdout.isTTY === true,
      });
      return resolved;
    },
    get resolved() {
      return resolved;
    },
  };
}
