import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BatonConfig } from '../config/index.ts';
import type { Engine } from '../engine/index.ts';
import { ValidationError } from '../util/errors.ts';

/** Where handlers and templates come from: paths as the user gave them, relative to `cwd`. */
export interface DefinitionSources {
  handlers?: string | undefined;
  templatesDir?: string | undefined;
}

// What a process loads when neither handlers nor templates are configured.
const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples');
const EXAMPLE_HANDLERS = join(EXAMPLES, 'handlers.ts');
const EXAMPLE_TEMPLATES = join(EXAMPLES, 'templates');

/** The configured handlers and templates, or the examples when neither is configured. */
export function definitionSources(config: BatonConfig): DefinitionSources & { label: string } {
  if (config.handlers !== undefined || config.templatesDir !== undefined) {
    const { handlers, templatesDir } = config;
    return { handlers, templatesDir, label: [handlers, templatesDir].filter(Boolean).join(', ') };
  }
  return { handlers: EXAMPLE_HANDLERS, templatesDir: EXAMPLE_TEMPLATES, label: 'examples' };
}

/**
 * Runs the handlers module (its default export receives the engine), then registers the
 * templates folder: handlers first, because a template naming an unknown handler is rejected.
 */
export async function loadDefinitions(
  engine: Engine,
  sources: DefinitionSources,
  cwd: string,
): Promise<void> {
  if (sources.handlers !== undefined) {
    const module = (await import(pathToFileURL(resolve(cwd, sources.handlers)).href)) as {
      default?: unknown;
    };
    if (typeof module.default !== 'function') {
      throw new ValidationError(
        `${sources.handlers} must export a default function that registers handlers: export default (engine) => { engine.registerHandler(…) }`,
      );
    }
    await (module.default as (engine: Engine) => unknown)(engine);
  }
  if (sources.templatesDir !== undefined) await engine.loadTemplates(resolve(cwd, sources.templatesDir));
}

/** Resolves on the first SIGTERM or SIGINT; `cancel` stops listening for both. */
export function shutdownSignal(): { promise: Promise<void>; cancel(): void } {
  let cancel = (): void => {};
  const promise = new Promise<void>((done) => {
    const stop = (): void => {
      cancel();
      done();
    };
    cancel = () => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return { promise, cancel };
}
