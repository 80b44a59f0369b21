import type { Command } from 'commander';
import { redactUrl } from '../../config/index.ts';
import { createEngine } from '../../engine/index.ts';
import type { CliContext } from '../context.ts';
import { definitionSources, loadDefinitions } from '../definitions.ts';
import { engineOptionsFrom } from '../engine-options.ts';
import { LocalBackend } from './local.ts';
import { RemoteBackend } from './remote.ts';
import type { Backend } from './types.ts';

export type { AnalyzedTask, Backend, DeadLetterQuery, StartTaskRequest, TaskListQuery } from './types.ts';

export interface OpenBackendOptions {
  /**
   * On a store, run steps in this process too (`run --wait`), so a task finishes without a
   * separate worker. Ignored with `--url`: the server's workers run them.
   */
  work?: boolean;
}

/**
 * The server given by `--url` (or `BATON_URL`), else the configured store opened in this process
 * with the configured handlers and templates (or the examples). The caller owns the backend and
 * closes it.
 */
export async function openBackend(
  context: CliContext,
  command: Command,
  options: OpenBackendOptions = {},
): Promise<Backend> {
  const { config } = context.resolveConfig(command);
  if (config.url !== undefined) return new RemoteBackend(config.url);
  const engine = await createEngine(engineOptionsFrom(config));
  try {
    await loadDefinitions(engine, definitionSources(config), context.io.cwd);
    if (options.work === true && config.workerConcurrency > 0) engine.startWorkers();
  } catch (error) {
    await engine.close();
    throw error;
  }
  return new LocalBackend(engine, redactUrl(config.store), config.shutdownTimeoutMs);
}

/** Runs `use` with the backend of `command`, closing it afterwards whatever happens. */
export async function withBackend<T>(
  context: CliContext,
  command: Command,
  use: (backend: Backend) => Promise<T>,
  options?: OpenBackendOptions,
): Promise<T> {
  const backend = await openBackend(context, command, options);
  try {
    return await use(backend);
  } finally {
    await backend.close();
  }
}
