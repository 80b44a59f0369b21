// The process entry of `baton`: the only module that touches process.argv and the exit code.
import { runCli } from './index.ts';

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});
