/**
 * Replay protection checks of the reference server (asap-wire §5.2), run after the envelope is
 * valid: the timestamp window (always on) and the shape of `extensions.nonce` (when nonces are
 * required). Remembering nonces is the server's job; `duplicateNonceError` is its answer.
 */
import { MAX_ENVELOPE_AGE_SECONDS, MAX_FUTURE_TOLERANCE_SECONDS } from './constants.ts';
import type { Envelope } from './envelope.ts';
import { invalidNonceError, invalidTimestampError, type AsapError } from './errors.ts';
import { pyFixed, pyStr, pyTypeName } from './python.ts';
import { isoFormatUtc, timestampMicros } from './timestamp.ts';

type Stamped = Pick<Envelope, 'id' | 'timestamp'>;

/**
 * The -32002 error for an envelope older than 300 s or more than 30 s in the future (exactly 300
 * or 30 passes), or `undefined`. A naive timestamp counts as UTC. `now` is in milliseconds and
 * may be fractional (the reference compares in microseconds).
 */
export function checkTimestampWindow(envelope: Stamped, now: number = Date.now()): AsapError | undefined {
  const micros = timestampMicros(envelope.timestamp);
  if (micros === undefined) {
    return invalidTimestampError({
      timestamp: '',
      message: 'Envelope timestamp is required for validation',
      details: { envelope_id: envelope.id },
    });
  }
  const nowMicros = Math.round(now * 1000);
  const ageSeconds = (nowMicros - micros) / 1_000_000;
  if (ageSeconds > MAX_ENVELOPE_AGE_SECONDS) {
    return invalidTimestampError({
      timestamp: isoFormatUtc(micros),
      message: `Envelope timestamp is too old: ${pyFixed(ageSeconds, 1)} seconds (max: ${MAX_ENVELOPE_AGE_SECONDS} seconds)`,
      ageSeconds,
      details: { envelope_id: envelope.id, max_age_seconds: MAX_ENVELOPE_AGE_SECONDS },
    });
  }
  const futureOffsetSeconds = (micros - nowMicros) / 1_000_000;
  if (futureOffsetSeconds > MAX_FUTURE_TOLERANCE_SECONDS) {
    return invalidTimestampError({
      timestamp: isoFormatUtc(micros),
      message:
        `Envelope timestamp is too far in the future: ${pyFixed(futureOffsetSeconds, 1)} seconds ` +
        `(max tolerance: ${MAX_FUTURE_TOLERANCE_SECONDS} seconds)`,
      futureOffsetSeconds,
      details: { envelope_id: envelope.id, max_future_tolerance_seconds: MAX_FUTURE_TOLERANCE_SECONDS },
    });
  }
  return undefined;
}

export type NonceRead =
  /** No `extensions.nonce` (nonces are never mandatory): the check passes. */
  | { kind: 'absent' }
  /** Check it against the seen nonces (TTL 600 s); a repeat is `duplicateNonceError`. */
  | { kind: 'present'; nonce: string }
  /** Not a non-empty string: answer -32003 at once. */
  | { kind: 'invalid'; error: AsapError };

export function readNonce(envelope: Pick<Envelope, 'id' | 'extensions'>): NonceRead {
  const extensions = envelope.extensions;
  if (extensions === null || !Object.hasOwn(extensions, 'nonce')) return { kind: 'absent' };
  const nonce = extensions.nonce;
  if (typeof nonce === 'string' && nonce !== '') return { kind: 'present', nonce };
  const got = typeof nonce === 'string' ? 'empty string' : pyTypeName(nonce);
  return {
    kind: 'invalid',
    error: invalidNonceError(pyStr(nonce), `Nonce must be a non-empty string, got ${got}`, {
      envelope_id: envelope.id,
    }),
  };
}

export function duplicateNonceError(nonce: string, envelopeId: string): AsapError {
  return invalidNonceError(nonce, `Duplicate nonce detected: ${nonce}`, { envelope_id: envelopeId });
}
