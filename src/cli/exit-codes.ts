import type { ErrorCode } from '../util/errors.ts';

/** Exit codes of `baton`, stable so scripts can rely on them. */
export const EXIT_CODES = {
  ok: 0,
  /** The command ran and failed (a task failed or was cancelled, a server could not start…). */
  failure: 1,
  /** The command could not run: unknown command or flag, bad argument, invalid configuration. */
  usage: 2,
  /** What the command names (task, template, step, dead letter, handler) does not exist. */
  notFound: 3,
  /** The action conflicts with the current state (cancel a finished task, replay a running one). */
  conflict: 4,
  /** The server or the store cannot be reached or opened. */
  unavailable: 5,
  /** A wait ended before the task did (`run --wait --timeout`). */
  timeout: 6,
  /** Interrupted (SIGINT or SIGTERM) while following a task; the task itself goes on. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** The exit code for a Baton error, by its stable code. */
export function exitCodeFor(code: ErrorCode): ExitCode {
  switch (code) {
    case 'validation_failed':
    case 'config_invalid':
    case 'payload_too_large':
      return EXIT_CODES.usage;
    case 'not_found':
      return EXIT_CODES.notFound;
    case 'conflict':
      return EXIT_CODES.conflict;
    case 'store_unavailable':
    case 'connect_failed':
    case 'retries_exhausted':
    case 'circuit_open':
    case 'shutting_down':
      return EXIT_CODES.unavailable;
    case 'timeout':
      return EXIT_CODES.timeout;
    default:
      return EXIT_CODES.failure;
  }
}

export const EXIT_CODES_HELP = `
Exit codes:
  ${EXIT_CODES.ok}  success
  ${EXIT_CODES.failure}  the command failed (for run --wait: the task failed or was cancelled)
  ${EXIT_CODES.usage}  bad usage, invalid input or invalid configuration
  ${EXIT_CODES.notFound}  not found (task, template, step, dead letter, handler)
  ${EXIT_CODES.conflict}  conflict with the current state (e.g. cancel a finished task)
  ${EXIT_CODES.unavailable}  the server or the store cannot be reached or opened
  ${EXIT_CODES.timeout}  the wait ended before the task did
  ${EXIT_CODES.interrupted}  interrupted while following a task (the task goes on)`;

/**
 * Ends a command with `exitCode`, after writing `message` (when given) to stderr: for outcomes
 * that are not errors of the CLI itself (a task that failed, a wait that timed out).
 */
export class CommandExit extends Error {
  readonly exitCode: ExitCode;

  constructor(exitCode: ExitCode, message: string) {
    super(message);
    this.name = 'CommandExit';
    this.exitCode = exitCode;
  }
}
