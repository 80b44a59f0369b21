import { CONFIG_KEY_NAMES, specOf } from './keys.ts';
import type { BatonConfig } from './keys.ts';

/**
 * A copy of the configuration that is safe to print or log: token values and the JWT secret
 * become `"[redacted]"`, passwords inside URLs (`store`, `redisUrl`, …) are hidden, and everything
 * else is kept, token permissions included.
 */
export function redactConfig(config: BatonConfig): BatonConfig {
  const entries = CONFIG_KEY_NAMES.map((key) => {
    const value: unknown = config[key];
    const spec = specOf(key);
    return [key, value === undefined || spec.redact === undefined ? value : spec.redact(value)];
  });
  return Object.freeze(Object.fromEntries(entries) as BatonConfig);
}
