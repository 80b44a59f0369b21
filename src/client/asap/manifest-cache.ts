/**
 * Discovery caching as the reference client does it (asap-wire §4): a manifest is fresh for the
 * response's `Cache-Control: max-age` (capped, default 300 s); once stale it is revalidated with
 * `If-None-Match`, and a `304` keeps the cached copy for another max-age.
 */
import type { Manifest } from '../../protocol/index.ts';

/** The reference client's default TTL when the server gives no `max-age`. */
export const DEFAULT_MANIFEST_TTL_MS = 300_000;
/** The reference client caps `max-age` at one day. */
export const MAX_MANIFEST_TTL_MS = 86_400_000;

export interface CachedManifest {
  readonly manifest: Manifest;
  readonly etag: string | undefined;
  /** Epoch ms after which the manifest is revalidated before use. */
  readonly expiresAt: number;
}

/**
 * How long a response may be used without asking again, from its `Cache-Control`: `max-age`
 * (capped at `maxMs`), 0 for `no-cache`, `null` for `no-store` (do not keep it), `defaultMs` when
 * the header says nothing about freshness.
 */
export function freshnessMs(
  cacheControl: string | undefined,
  defaultMs: number = DEFAULT_MANIFEST_TTL_MS,
  maxMs: number = MAX_MANIFEST_TTL_MS,
): number | null {
  if (cacheControl === undefined) return Math.min(defaultMs, maxMs);
  let maxAge: number | undefined;
  for (const directive of cacheControl.split(',')) {
    const [rawName = '', rawValue] = directive.split('=', 2);
    const name = rawName.trim().toLowerCase();
    if (name === 'no-store') return null;
    if (name === 'no-cache') return 0;
    if (name === 'max-age' && rawValue !== undefined) {
      const seconds = Number(rawValue.trim().replace(/^"|"$/g, ''));
      if (Number.isInteger(seconds) && seconds >= 0) maxAge = seconds * 1000;
    }
  }
  return Math.min(maxAge ?? defaultMs, maxMs);
}
