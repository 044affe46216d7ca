// Every wait in the tool is bounded and described; this is the one place that sleeps and polls.

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

/** Resolves with the promise's value, or with `undefined` once `ms` pass; the promise is left running. */
export async function withinMs<T>(promise: Promise<T>, ms: number): Promise<{ value: T } | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise.then((value) => ({ value })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
