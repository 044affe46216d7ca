// Every wait in the tool is bounded and described: the one sleep (abortable) and the bounded polls and
// deadlines that every other module uses, instead of bare timers of its own.

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface PollOptions<T> {
  /** What we wait for, e.g. "healthy"; shows up in progress lines. */
  what: string;
  deadlineMs: number;
  intervalMs: number;
  clock?: Clock;
  onProgress?: (line: string) => void;
  /** Returns a value when done, or undefined to keep polling. */
  probe: () => Promise<T | undefined>;
}

export type PollResult<T> = { done: true; value: T; elapsedMs: number } | { done: false; elapsedMs: number };

/** Polls `probe` until it returns a value or the deadline passes. Never throws on timeout. */
export async function pollUntil<T>(opts: PollOptions<T>): Promise<PollResult<T>> {
  const clock = opts.clock ?? systemClock;
  const start = clock.now();
  for (;;) {
    const value = await opts.probe();
    const elapsedMs = clock.now() - start;
    if (value !== undefined) return { done: true, value, elapsedMs };
    if (elapsedMs >= opts.deadlineMs) return { done: false, elapsedMs };
    opts.onProgress?.(`waiting for ${opts.what}, ${(elapsedMs / 1000).toFixed(1)} s of ${(opts.deadlineMs / 1000).toFixed(1)} s`);
    await clock.sleep(Math.min(opts.intervalMs, Math.max(1, opts.deadlineMs - elapsedMs)));
  }
}

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
