/**
 * undici times connect, headers and body with its coarse "fast timers" (they tick every ~0.5 s,
 * so a 100 ms timeout fires after about a second). That is fine for the 10–30 s defaults and
 * cheap, so those stay with undici; shorter timeouts are timed here with native timers.
 */
import type { Socket } from 'node:net';
import { buildConnector, errors } from 'undici';

// undici's connector returns the socket it is connecting (its types say void); destroying it is
// the only way to stop a connect that hangs.
type SocketReturningConnector = (
  options: buildConnector.Options,
  callback: buildConnector.Callback,
) => Socket | undefined;

export const PRECISE_BELOW_MS = 10_000;

/** Whether the client times this phase itself (a short, enabled timeout). */
export function timedHere(ms: number): boolean {
  return ms > 0 && ms < PRECISE_BELOW_MS;
}

/** undici's default connector without its own timeout, wrapped in a native `timeoutMs` timer. */
export function preciseConnector(timeoutMs: number): buildConnector.connector {
  const connect = buildConnector({ timeout: 0 }) as unknown as SocketReturningConnector;
  return (options, callback) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      socket?.destroy();
      const address = `${options.hostname}:${options.port}`;
      callback(
        new errors.ConnectTimeoutError(
          `Connect Timeout Error (attempted address: ${address}, timeout: ${timeoutMs}ms)`,
        ),
        null,
      );
    }, timeoutMs);
    const socket = connect(options, (...result) => {
      if (settled) {
        result[1]?.destroy();
        return;
      }
      settled = true;
      clearTimeout(timer);
      callback(...result);
    });
  };
}
