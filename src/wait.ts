// Waiting, bounded: `sleep` is the tool's one pause (abortable; every poll loop — the settle wait, the
// process table, the reaper, the early runtime read's look for the app, a perturbing probe's head start —
// sleeps through it; scripts exec'd in the container pause on their own) and `withinMs` bounds a promise
// without cancelling it. Other timers in src/ are deadlines (a build's, a daemon call's) or the
// background sampler's interval, never a pause; waits for the daemon's events carry their own bound.

/** Our time source (ms, monotonic); tests pass a fake one. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = {
  now: () => performance.now(),
};

/** Resolves with the promise's value, or with `undefined` once `ms` pass; the promise is left running.
 * An abort of `signal` rejects at once with the signal's reason. */
export async function withinMs<T>(promise: Promise<T>, ms: number, signal?: AbortSignal): Promise<{ value: T } | undefined> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const timeout = new Promise<undefined>((resolve, reject) => {
    timer = setTimeout(() => resolve(undefined), ms);
    if (signal) {
      onAbort = () => reject(signal.reason ?? new DOMException('The operation was aborted', 'AbortError'));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  promise.catch(() => undefined); // a rejection after the race is settled must not go unhandled
  try {
    return await Promise.race([promise.then((value) => ({ value })), timeout]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/** Sleeps `ms`, or rejects at once when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
