/** Exit codes of `baton`, stable so scripts can rely on them. */
export const EXIT_CODES = {
  ok: 0,
  /** The command ran and failed (a task failed, a server could not start…). */
  failure: 1,
  /** The command could not run: unknown command or flag, bad argument, invalid configuration. */
  usage: 2,
} as const;

export const EXIT_CODES_HELP = `
Exit codes:
  ${EXIT_CODES.ok}  success
  ${EXIT_CODES.failure}  the command failed
  ${EXIT_CODES.usage}  bad usage or invalid configuration`;
