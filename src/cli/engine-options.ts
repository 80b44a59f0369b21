import type { BatonConfig } from '../config/index.ts';
import type { EngineOptions } from '../engine/index.ts';
import { loggerFromConfig } from '../observability/index.ts';

/** The engine settings a Baton process takes from its configuration. */
export function engineOptionsFrom(
  config: BatonConfig,
  overrides: Partial<EngineOptions> = {},
): EngineOptions {
  return {
    store: config.store,
    concurrency: config.workerConcurrency,
    leaseMs: config.leaseMs,
    pollIntervalMs: config.pollIntervalMs,
    logger: loggerFromConfig(config),
    ...overrides,
  };
}
