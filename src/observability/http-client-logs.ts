/**
 * Log lines for the resilient HTTP client (SPEC §7): `http.client.retry` before each retry and
 * `http.client.circuit_changed` when an origin's circuit changes, on top of the hooks a caller
 * set. The events carry redacted URLs; the line's context ids (task, step, trace) come from the
 * caller's ambient context, as the client runs in it.
 */
import type { Logger } from 'pino';
import type { HttpClientHooks } from '../client/index.ts';

/**
 * `hooks` plus the log lines (written first; the caller's hook's result is returned, so the client
 * swallows its failures as it does any hook's).
 */
export function httpClientLogHooks(logger: Logger, hooks: HttpClientHooks = {}): HttpClientHooks {
  const { onRetry, onCircuitChange } = hooks;
  return {
    ...hooks,
    onRetry: (event) => {
      if (logger.isLevelEnabled('info')) {
        logger.info(
          {
            method: event.method,
            url: event.url,
            attempt: event.attempt,
            delay_ms: event.delayMs,
            reason: event.reason,
            retry_after_ms: event.retryAfterMs,
            correlation_id: event.correlationId,
          },
          'http.client.retry',
        );
      }
      return onRetry?.(event);
    },
    onCircuitChange: (event) => {
      logger.warn({ origin: event.origin, from: event.from, to: event.to }, 'http.client.circuit_changed');
      return onCircuitChange?.(event);
    },
  };
}
