/**
 * Servers under benchmark in a child process of their own, so that they do not share the load
 * generator's thread. The parent forks the script (`forkServer`); the child starts its server and
 * calls `reportPort`; the parent may then ask for the child's CPU time (`serverCpu`).
 */
import { fork, type ChildProcess } from 'node:child_process';

export interface ChildServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  child: ChildProcess;
}

/** Forks `script` with `args` and waits for the port its server listens on. */
export async function forkServer(
  script: string,
  args: readonly string[],
  name: string,
): Promise<ChildServer> {
  const child = fork(script, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message) => resolve(message as number));
    child.once('exit', (code) => reject(new Error(`${name} server exited with ${code}`)));
  });
  return { origin: `http://127.0.0.1:${port}`, child };
}

/**
 * In the child: tells the parent the port, answers each later message with the CPU time spent so
 * far (user + system, µs), and exits when the parent disconnects.
 */
export function reportPort(port: number): void {
  process.send?.(port);
  process.on('message', () => {
    const { user, system } = process.cpuUsage();
    process.send?.(user + system);
  });
  process.on('disconnect', () => process.exit(0));
}

/** The child server's CPU time so far, in µs. */
export function serverCpu(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (micros) => resolve(micros as number));
    child.send('cpu');
  });
}
