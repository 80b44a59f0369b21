import { runCli } from '../../src/cli/program.ts';
import type { CliIo } from '../../src/cli/context.ts';

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `baton args` in-process with `cwd` and exactly `env`, capturing its output and exit code. */
export async function runCaptured(
  args: readonly string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
    cwd,
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}
