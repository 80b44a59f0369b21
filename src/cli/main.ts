// The process entry of `baton`: the only module that touches process.argv and the exit code.
import { runCli } from './index.ts';

// Output piped into a reader that stopped (`baton tasks list --json | head`): stop quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});
