import { BatonError } from '../util/errors.ts';
import type { ConfigKey } from './keys.ts';

/** One problem found while resolving the configuration. */
export interface ConfigIssue {
  /** The setting or file as the user wrote it: `BATON_PORT`, `port in baton.config.yaml`, `--port`. */
  readonly where: string;
  /** The key concerned, when the problem is one key's value. */
  readonly key?: ConfigKey;
  /** The full explanation, e.g. `BATON_PORT: expected an integer from 0 to 65535, got "abc"`. */
  readonly message: string;
}

/**
 * The configuration cannot be used. Lists every problem found, not just the first, so one run
 * shows everything to fix. Secrets never appear in the messages.
 */
export class ConfigError extends BatonError {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(
      'config_invalid',
      ['invalid configuration:', ...issues.map((issue) => `  - ${issue.message}`)].join('\n'),
      {
        details: issues.map((issue) => ({ path: issue.where, message: issue.message })),
      },
    );
    this.name = 'ConfigError';
    this.issues = Object.freeze([...issues]);
  }
}

/** Recognises a ConfigError by its code, so duplicate copies of the package still match. */
export function isConfigError(error: unknown): error is ConfigError {
  return error instanceof Error && (error as { code?: unknown }).code === 'config_invalid';
}
