// The stop signal, timed against the budget. The budget runs from the moment the signal is sent; the
// reported duration comes from the daemon's own timestamps (our kill event → its die event), so a remote
// daemon's latency or clock skew does not distort it.
import type { DockerPort } from '../docker/port.js';
import { withinMs, type Clock } from '../wait.js';
import type { ContainerWatch } from './events.js';

const KILL_WAIT_MS = 10_000;
const EVENT_GRACE_MS = 2_000;

export interface ShutdownObservation {
  signal: string;
  budgetMs: number;
  /** Time from the signal to the container's exit (when it exited by itself within the budget). */
  exitedAfterMs?: number;
  /** How exitedAfterMs was measured: the daemon's events (preferred) or our clock. */
  timedBy?: 'daemon-events' | 'local-clock';
  /**
   * Where the stop signal lies in time, ms since the epoch: our clock just before the kill request and
   * when its answer came; the daemon's clock for its kill event (logged once the signal is delivered).
   */
  signalSentAtMs?: number;
  signalAnsweredAtMs?: number;
  signalTimeMs?: number;
  /** Still running at the budget: we sent SIGKILL. */
  killedAtBudget: boolean;
  exitCode?: number;
  oomKilled: boolean;
}

export type ShutdownResult =
  | { kind: 'observed'; shutdown: ShutdownObservation }
  /** The app was not running when the signal was sent (409): it exited before, on its own. */
  | { kind: 'not-running' };

export async function measureShutdown(opts: {
  docker: DockerPort;
  containerId: string;
  stopSignal: string;
  budgetMs: number;
  watch: ContainerWatch;
  clock: Clock;
  signal: AbortSignal;
  record: (event: string, detail?: string) => void;
}): Promise<ShutdownResult> {
  const { docker, containerId, watch, clock } = opts;
  const shutdown: ShutdownObservation = { signal: opts.stopSignal, budgetMs: opts.budgetMs, killedAtBudget: false, oomKilled: false };
  const waiting = new AbortController();
  const stopWaiting = AbortSignal.any([opts.signal, waiting.signal]);
  const exited = docker.waitForExit(containerId, { signal: stopWaiting });
  exited.catch(() => undefined);
  const killsBefore = watch.kills.length;
  const sentAt = clock.now();
  const sentAtEpoch = Date.now();
  const sent = await docker.signal(containerId, opts.stopSignal);
  shutdown.signalSentAtMs = sentAtEpoch;
  shutdown.signalAnsweredAtMs = Date.now();
  if (sent === 'not-running') {
    waiting.abort();
    opts.record('signal-refused', `${opts.stopSignal}: the container was no longer running`);
    return { kind: 'not-running' };
  }
  opts.record('signal', opts.stopSignal);
  const ourKill = async () => {
    const kill = await watch.waitFor((e) => e.action === 'kill' && watch.kills.indexOf(e) >= killsBefore, EVENT_GRACE_MS, opts.signal);
    if (kill && shutdown.signalTimeMs === undefined) shutdown.signalTimeMs = kill.timeMs;
    return kill;
  };
  try {
    const inBudget = await withinMs(exited, Math.max(0, opts.budgetMs - (clock.now() - sentAt)), opts.signal);
    if (inBudget) {
      shutdown.exitCode = inBudget.value;
      const localMs = Math.round(clock.now() - sentAt);
      // The daemon's kill and die events, when they arrive promptly; our clock otherwise.
      const kill = await ourKill();
      const die = await watch.waitFor((e) => e.action === 'die', EVENT_GRACE_MS, opts.signal);
      if (kill && die && die.timeMs >= kill.timeMs) {
        shutdown.exitedAfterMs = Math.round(die.timeMs - kill.timeMs);
        shutdown.timedBy = 'daemon-events';
      } else {
        shutdown.exitedAfterMs = localMs;
        shutdown.timedBy = 'local-clock';
      }
      opts.record('exited', `code ${inBudget.value} after ${shutdown.exitedAfterMs} ms`);
    } else {
      shutdown.killedAtBudget = true;
      opts.record('budget-passed', `still running ${opts.budgetMs} ms after ${opts.stopSignal}; sending SIGKILL`);
      await docker.signal(containerId, 'SIGKILL');
      const afterKill = await withinMs(exited, KILL_WAIT_MS, opts.signal);
      // The first kill event after ours began is the stop signal's, not the SIGKILL's.
      await ourKill();
      shutdown.exitCode = afterKill?.value;
      opts.record('killed', afterKill ? `code ${afterKill.value}` : `no exit ${KILL_WAIT_MS} ms after SIGKILL`);
    }
  } finally {
    waiting.abort();
  }
  const final = await docker.inspectContainer(containerId, { signal: opts.signal });
  shutdown.oomKilled = final.oomKilled;
  return { kind: 'observed', shutdown };
}
