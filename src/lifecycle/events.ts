// The container's events, followed once for the whole lifecycle: health transitions, the kill we sent
// and the exit, each with the daemon's own timestamp (so a remote daemon's clock skew does not distort
// durations). Waiting on an event replaces polling inspect.
import type { ContainerEvent, DockerPort } from '../docker/port.js';
import { DaemonUnreachableError } from '../errors.js';

export interface HealthTransition {
  status: string;
  /** Daemon clock, ms since the epoch. */
  timeMs: number;
}

export interface ContainerWatch {
  readonly transitions: HealthTransition[];
  /** The `die` event, once seen. */
  readonly died: ContainerEvent | undefined;
  readonly kills: ContainerEvent[];
  /** Processes the daemon exec'd in the container and their ends: `exec_start: <command>` and `exec_die` events (health probes included). */
  readonly execs: ContainerEvent[];
  /** Resolves with the first event (already seen or to come) that matches, or undefined at the bound. */
  waitFor(match: (event: ContainerEvent) => boolean, timeoutMs: number, signal?: AbortSignal): Promise<ContainerEvent | undefined>;
  /** Health transitions after `fromIndex`, awaited: resolves with the next one, or undefined at the bound. */
  nextHealth(afterIndex: number, timeoutMs: number, signal?: AbortSignal): Promise<HealthTransition | undefined>;
  /** Stops following (the stream is destroyed). */
  close(): void;
  /** Rejects when following the events failed (daemon gone). */
  readonly failed: Promise<never>;
}

export function watchContainer(docker: DockerPort, containerId: string, signal: AbortSignal): ContainerWatch {
  const stop = new AbortController();
  const events: ContainerEvent[] = [];
  const transitions: HealthTransition[] = [];
  const waiters = new Set<() => void>();
  let died: ContainerEvent | undefined;
  const kills: ContainerEvent[] = [];
  const execs: ContainerEvent[] = [];
  const combined = AbortSignal.any([signal, stop.signal]);
  let rejectFailed: (err: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (rejectFailed = reject));
  failed.catch(() => undefined);

  // Replay from 10 minutes back on our clock: the container is new, so only its own events come, and a
  // daemon clock up to 10 minutes behind ours still replays the ones sent before we subscribed.
  const since = Date.now() - 600_000;
  void (async () => {
    try {
      for await (const event of docker.containerEvents(containerId, since, { signal: combined })) {
        events.push(event);
        const health = /^health_status: (\w+)/.exec(event.action);
        if (health) transitions.push({ status: health[1], timeMs: event.timeMs });
        if (event.action === 'die') died = event;
        if (event.action === 'kill') kills.push(event);
        if (event.action.startsWith('exec_start:') || event.action === 'exec_die') execs.push(event);
        for (const wake of [...waiters]) wake();
      }
      // The daemon ended the stream while we still follow it: it is going away (a restart, a shutdown).
      if (!combined.aborted) rejectFailed(new DaemonUnreachableError('Docker daemon closed the events stream mid-audit (restarted or stopped?)'));
    } catch (err) {
      if (!combined.aborted) rejectFailed(err);
    }
  })();

  const waitUntil = <T>(find: () => T | undefined, timeoutMs: number, abort?: AbortSignal): Promise<T | undefined> =>
    new Promise((resolve, reject) => {
      const found = find();
      if (found !== undefined) return resolve(found);
      const done = (value: T | undefined) => {
        clearTimeout(timer);
        waiters.delete(check);
        abort?.removeEventListener('abort', onAbort);
        resolve(value);
      };
      const check = () => {
        const value = find();
        if (value !== undefined) done(value);
      };
      const onAbort = () => {
        clearTimeout(timer);
        waiters.delete(check);
        reject(abort!.reason);
      };
      const timer = setTimeout(() => done(undefined), Math.max(0, timeoutMs));
      waiters.add(check);
      if (abort?.aborted) return onAbort();
      abort?.addEventListener('abort', onAbort, { once: true });
      failed.catch((err) => {
        if (!waiters.has(check)) return;
        clearTimeout(timer);
        waiters.delete(check);
        reject(err);
      });
    });

  return {
    transitions,
    get died() {
      return died;
    },
    kills,
    execs,
    waitFor: (match, timeoutMs, abort) => waitUntil(() => events.find(match), timeoutMs, abort),
    nextHealth: (afterIndex, timeoutMs, abort) => waitUntil(() => transitions[afterIndex + 1], timeoutMs, abort),
    close: () => stop.abort(),
    failed,
  };
}
