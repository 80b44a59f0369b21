import { pino, type Logger } from 'pino';
import type { BatonConfig } from '../config/index.ts';
import type { EngineOptions } from '../engine/index.ts';

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
    logger: processLogger(config),
    ...overrides,
  };
}

/**
 * JSON lines on stderr at the configured level (stdout stays free for command output). The
 * `pretty` format and the full logging setup arrive with the observability work.
 */
function processLogger(config: BatonConfig): Logger {
  return pino({ level: config.logLevel, base: { pid: process.pid } }, pino.destination(2));
}
