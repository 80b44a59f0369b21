/** Checks shared by the built-in handlers' configurations (`http`, `asap`). */
import type { ErrorDetail } from '../../util/errors.ts';
import type { BuiltinConfig } from '../handler.ts';

/** One problem per field of `config` that `known` does not list. */
export function checkKnownFields(
  config: BuiltinConfig,
  known: ReadonlySet<string>,
  problems: ErrorDetail[],
): void {
  for (const key of Object.keys(config)) {
    if (!known.has(key))
      problems.push({ path: key, message: `unknown field (expected one of ${[...known].join(', ')})` });
  }
}

/**
 * An absolute http(s) URL, whose `{{…}}` references stand for any text; a URL that starts with a
 * reference takes its base from the data and is not checked further.
 */
export function checkTemplatedUrl(
  url: unknown,
  path: string,
  requiredMessage: string,
  problems: ErrorDetail[],
): void {
  if (typeof url !== 'string' || url === '') {
    problems.push({ path, message: requiredMessage });
    return;
  }
  if (/^\{\{[^{}]*\}\}/.test(url)) return;
  const sample = url.replaceAll(/\{\{[^{}]*\}\}/g, 'x');
  if (!/^https?:\/\//i.test(sample) || !URL.canParse(sample)) {
    problems.push({ path, message: `must be an absolute http:// or https:// URL (got '${url}')` });
  }
}

/** An optional integer within `[min, max]`. */
export function checkInteger(
  value: unknown,
  path: string,
  min: number,
  max: number,
  problems: ErrorDetail[],
): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    problems.push({ path, message: `must be an integer from ${min} to ${max}` });
  }
}
