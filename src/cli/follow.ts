import type { TaskView } from '../engine/index.ts';
import { isFinished } from '../server/handlers/tasks.ts';
import type { Backend } from './backend/index.ts';
import type { CliIo } from './context.ts';
import { shutdownSignal } from './definitions.ts';
import { CommandExit, EXIT_CODES } from './exit-codes.ts';
import { formatDuration, painter, writeJson } from './format.ts';
import { createProgress } from './progress.ts';

export interface FollowOptions {
  /** Called with the task each time it was read (at least once). */
  onUpdate(task: TaskView): void;
  /** Stops following (the task keeps running); the task is returned as last read. */
  signal?: AbortSignal;
  /** Read the task at least this often, for changes the backend does not announce (default 1 s). */
  pollMs?: number;
}

/** Reads after a change announcement wait this long, so a burst of events costs one read. */
const SETTLE_MS = 30;

/**
 * Follows a task until it ends (or `signal` aborts): read it, show it, wait for the backend to
 * announce a change or for the poll interval, repeat. Returns the task as last read.
 */
export async function followTask(backend: Backend, id: string, options: FollowOptions): Promise<TaskView> {
  const { signal } = options;
  const pollMs = options.pollMs ?? 1000;
  // A change announced while the task is being read must not be lost: it is remembered.
  let changed = false;
  let wake: (() => void) | undefined;
  const announce = (): void => {
    changed = true;
    wake?.();
  };
  const stopListening = backend.onTaskChange(id, announce);
  signal?.addEventListener('abort', announce);
  try {
    for (;;) {
      changed = false;
      const task = await backend.getTask(id);
      options.onUpdate(task);
      if (isFinished(task) || signal?.aborted === true) return task;
      await new Promise<void>((resolve) => {
        const settle = (): void => {
          wake = undefined;
          clearTimeout(timer);
          timer = setTimeout(resolve, signal?.aborted === true ? 0 : SETTLE_MS);
        };
        let timer = setTimeout(resolve, pollMs);
        if (changed) settle();
        else wake = settle;
      });
      wake = undefined;
    }
  } finally {
    stopListening();
    signal?.removeEventListener('abort', announce);
  }
}

export interface WaitOptions {
  /** Print the final task as JSON instead of showing progress. */
  json: boolean;
  /** Stop waiting after this long (exit code `timeout`); the task goes on. */
  timeoutMs?: number | undefined;
}

/**
 * Follows `task` to its end with live progress (or quietly with `--json`), prints the outcome and
 * ends the command with its exit code: 0 completed, 1 failed or cancelled, `timeout` when the
 * wait is over first, `interrupted` on SIGINT/SIGTERM. Stopping the wait never cancels the task.
 */
export async function waitForOutcome(
  io: CliIo,
  backend: Backend,
  task: TaskView,
  options: WaitOptions,
): Promise<void> {
  const progress = options.json
    ? undefined
    : createProgress({ out: io.stdout, paint: painter(io), live: io.stdout.isTTY === true });
  const controller = new AbortController();
  let stopped: 'timeout' | 'interrupted' | undefined;
  const stop = (why: 'timeout' | 'interrupted'): void => {
    stopped ??= why;
    controller.abort();
  };
  const interrupt = shutdownSignal();
  void interrupt.promise.then(() => stop('interrupted'));
  const timer =
    options.timeoutMs === undefined ? undefined : setTimeout(() => stop('timeout'), options.timeoutMs);
  let final: TaskView;
  try {
    final = await followTask(backend, task.id, {
      signal: controller.signal,
      onUpdate: (current) => progress?.update(current),
    });
  } finally {
    progress?.close();
    clearTimeout(timer);
    interrupt.cancel();
  }
  if (options.json) writeJson(io, { task: final });
  else if (final.result !== null && final.status === 'completed') {
    io.stdout.write(`result\n${JSON.stringify(final.result, null, 2).replace(/^/gm, '  ')}\n`);
  }
  throwUnlessCompleted(final, stopped, options.timeoutMs);
}

function throwUnlessCompleted(
  task: TaskView,
  stopped: 'timeout' | 'interrupted' | undefined,
  timeoutMs?: number,
): void {
  const show = `baton tasks show ${task.id}`;
  if (isFinished(task)) {
    if (task.status === 'completed') return;
    const why =
      task.status === 'failed' ? `failed: ${task.error?.message ?? 'unknown error'}` : 'was cancelled';
    throw new CommandExit(EXIT_CODES.failure, `task ${task.id} ${why} (details: ${show})`);
  }
  if (stopped === 'timeout') {
    throw new CommandExit(
      EXIT_CODES.timeout,
      `task ${task.id} is still ${task.status} after ${formatDuration(timeoutMs ?? 0)}; it was not cancelled (follow it: ${show})`,
    );
  }
  throw new CommandExit(
    EXIT_CODES.interrupted,
    `stopped following task ${task.id} (${task.status}); it was not cancelled (follow it: ${show})`,
  );
}
