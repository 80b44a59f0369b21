/**
 * `ASAP-Version` negotiation (asap-wire §2.5, §8). The server takes the first comma-separated
 * token, in the client's order, that it supports (exact match: `2.2.0` is not `2.2`). An absent
 * or blank header means the default. The check applies to `POST /asap` and `POST /asap/stream`
 * only; every response, on any route, carries the negotiated version (or the default).
 */
import {
  ASAP_DEFAULT_TRANSPORT_VERSION,
  ASAP_SUPPORTED_TRANSPORT_VERSIONS,
  type AsapTransportVersion,
} from './constants.ts';
import { pyStrip } from './python.ts';

export type VersionNegotiation =
  | { ok: true; version: AsapTransportVersion }
  /** Answer `versionIncompatibleResponse(requested)` with `ASAP-Version: version` (the default). */
  | { ok: false; requested: string; version: AsapTransportVersion };

const SUPPORTED: ReadonlySet<string> = new Set(ASAP_SUPPORTED_TRANSPORT_VERSIONS);

/** `header`: the request's `ASAP-Version` value; with repeated headers the first one counts. */
export function negotiateAsapVersion(
  header: string | readonly string[] | null | undefined,
): VersionNegotiation {
  const raw = typeof header === 'string' ? header : header?.[0];
  const requested = raw === undefined || raw === null ? '' : pyStrip(raw);
  if (requested === '') return { ok: true, version: ASAP_DEFAULT_TRANSPORT_VERSION };
  for (const part of requested.split(',')) {
    const token = pyStrip(part);
    if (SUPPORTED.has(token)) return { ok: true, version: token as AsapTransportVersion };
  }
  return { ok: false, requested, version: ASAP_DEFAULT_TRANSPORT_VERSION };
}

/** Whether a request is subject to the version check (POST to exactly `/asap` or `/asap/stream`). */
export function negotiatesAsapVersion(method: string, path: string): boolean {
  return method === 'POST' && (path === '/asap' || path === '/asap/stream');
}

/** What the Python client sends: every supported version, newest first. */
export const CLIENT_ASAP_VERSION_HEADER = [...ASAP_SUPPORTED_TRANSPORT_VERSIONS].reverse().join(', ');
