/**
 * `load`'s result, reused for `ttlMs` after it settles; callers while it runs share the run. `load`
 * must not reject. Health reports and metric scrapes use it so that a flood of requests costs the
 * store about one query per TTL.
 */
export function cached<T>(ttlMs: number, now: () => number, load: () => Promise<T>): () => Promise<T> {
  let last: { at: number; value: T } | undefined;
  let inFlight: Promise<T> | undefined;
  return () => {
    if (last !== undefined && now() - last.at < ttlMs) return Promise.resolve(last.value);
    inFlight ??= load()
      .then((value) => {
        last = { at: now(), value };
        return value;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
}

/** Runs `work`, rejecting (and aborting its signal) when it takes longer than `deadlineMs`. */
export async function withDeadline<T>(
  work: (signal: AbortSignal) => Promise<T>,
  deadlineMs: number,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`timed out after ${deadlineMs} ms`);
      controller.abort(error);
      reject(error);
    }, deadlineMs);
    timer.unref();
  });
  const running = Promise.resolve().then(() => work(controller.signal));
  running.catch(() => {}); // work that fails after its deadline is not an unhandled rejection
  try {
    return await Promise.race([running, expired]);
  } finally {
    clearTimeout(timer);
  }
}
