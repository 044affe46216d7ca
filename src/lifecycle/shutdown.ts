// The stop signal, timed against the budget. The budget runs from the moment the signal is sent; the
// reported duration comes from the daemon's own timestamps (our kill event → its die event), so a remote
// daemon's latency or clock skew does not distort it. At the budget, SIGKILL goes out; whether it killed
// the app is what the exit code says (0 is an app that had exited by itself), and when the daemon's
// clock and ours disagree about the budget, the time is not observed: neither clock is taken on trust.
import type { DockerPort } from '../docker/port.js';
import { formatMs } from '../units.js';
import { observed, unobserved, type Observed } from '../observed.js';
import { withinMs, type Clock } from '../wait.js';
import type { ContainerWatch } from './events.js';

const KILL_WAIT_MS = 10_000;
const EVENT_GRACE_MS = 2_000;
/** How far the daemon's die event and the container's FinishedAt may differ before the daemon is said to have processed the exit late. */
const DAEMON_CLOCKS_AGREE_MS = 1_000;
/** Exit codes of a process killed by SIGKILL (128 + 9). */
const KILLED_BY_SIGKILL = 137;

export interface ShutdownObservation {
  signal: string;
  budgetMs: number;
  /**
   * Time from the signal to the container's exit. Not observed when the app was killed at the budget,
   * when no exit came, or when the daemon's clock and ours disagree about it (why says which).
   */
  exitedAfterMs: Observed<number>;
  /** How exitedAfterMs was measured: the daemon's events (preferred) or our clock. */
  timedBy?: 'daemon-events' | 'local-clock';
  /**
   * Where the stop signal lies in time, ms since the epoch: our clock just before the kill request and
   * when its answer came; the daemon's clock for its kill event (logged once the signal is delivered).
   */
  signalSentAtMs?: number;
  signalAnsweredAtMs?: number;
  signalTimeMs?: number;
  /** Still running at the budget, and our SIGKILL ended it (it was accepted, and the exit code is 137). */
  killedAtBudget: boolean;
  /** No exit reached us within the budget: we sent SIGKILL, and this is what the daemon answered. */
  sigkill?: 'sent' | 'not-running';
  /** The container's FinishedAt (the exit's own moment, from containerd) minus the daemon's kill event, for the evidence. */
  finishedAfterMs?: number;
  exitCode: Observed<number>;
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
  const shutdown: ShutdownObservation = {
    signal: opts.stopSignal,
    budgetMs: opts.budgetMs,
    killedAtBudget: false,
    oomKilled: false,
    exitCode: unobserved('no exit was seen'),
    exitedAfterMs: unobserved('no exit was seen'),
  };
  const waiting = new AbortController();
  const stopWaiting = AbortSignal.any([opts.signal, waiting.signal]);
  const exited = docker.waitForExit(containerId, { signal: stopWaiting });
  exited.catch(() => undefined);
  const killsBefore = watch.kills.length;
  const diesBefore = watch.died ? 1 : 0;
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
  const theDie = () => (diesBefore ? Promise.resolve(undefined) : watch.waitFor((e) => e.action === 'die', EVENT_GRACE_MS, opts.signal));
  let heardAfterMs: number | undefined;
  let inBudget = false;
  let kill: Awaited<ReturnType<typeof ourKill>>;
  let die: Awaited<ReturnType<typeof theDie>>;
  try {
    const exit = await withinMs(exited, Math.max(0, opts.budgetMs - (clock.now() - sentAt)), opts.signal);
    if (exit) {
      inBudget = true;
      shutdown.exitCode = observed(exit.value);
      heardAfterMs = Math.round(clock.now() - sentAt);
    } else {
      opts.record('budget-passed', `no exit ${opts.budgetMs} ms after ${opts.stopSignal}; sending SIGKILL`);
      shutdown.sigkill = await docker.signal(containerId, 'SIGKILL');
      const afterKill = await withinMs(exited, KILL_WAIT_MS, opts.signal);
      heardAfterMs = afterKill ? Math.round(clock.now() - sentAt) : undefined;
      if (afterKill) shutdown.exitCode = observed(afterKill.value);
      else shutdown.exitCode = unobserved(`no exit ${formatMs(KILL_WAIT_MS)} after SIGKILL`);
    }
    // The daemon's kill and die events, when they arrive promptly. The first kill event after ours
    // began is the stop signal's, not the SIGKILL's.
    kill = await ourKill();
    die = await theDie();
  } finally {
    waiting.abort();
  }
  const final = await docker.inspectContainer(containerId, { signal: opts.signal });
  shutdown.oomKilled = final.oomKilled;
  const daemonMs = kill && die && die.timeMs >= kill.timeMs ? Math.round(die.timeMs - kill.timeMs) : undefined;
  const finished = Date.parse(final.finishedAt);
  if (kill && Number.isFinite(finished) && finished >= kill.timeMs - DAEMON_CLOCKS_AGREE_MS) shutdown.finishedAfterMs = Math.max(0, Math.round(finished - kill.timeMs));

  if (inBudget) {
    if (daemonMs !== undefined) {
      shutdown.exitedAfterMs = observed(daemonMs);
      shutdown.timedBy = 'daemon-events';
    } else {
      shutdown.exitedAfterMs = observed(heardAfterMs!);
      shutdown.timedBy = 'local-clock';
    }
    opts.record('exited', `code ${shutdown.exitCode.ok ? shutdown.exitCode.value : '?'} after ${shutdown.exitedAfterMs.ok ? shutdown.exitedAfterMs.value : '?'} ms`);
    return { kind: 'observed', shutdown };
  }

  // The budget passed on our clock and SIGKILL went out: the exit code says whether it killed the app.
  // The daemon's kill event for the stop signal is stamped when it delivers it, which a loaded daemon does
  // later than we asked: an exit by our SIGKILL then measures a little under the budget on the daemon's
  // clock. Only an exit well inside the budget (or the kernel's OOM kill) was not ours.
  const code = shutdown.exitCode;
  const exitedWellInsideBudget = daemonMs !== undefined && daemonMs < opts.budgetMs - DAEMON_CLOCKS_AGREE_MS;
  if (shutdown.sigkill === 'sent' && code.ok && code.value === KILLED_BY_SIGKILL && !shutdown.oomKilled && !exitedWellInsideBudget) {
    shutdown.killedAtBudget = true;
    shutdown.exitedAfterMs = unobserved(`killed by the audit's SIGKILL at the ${formatMs(opts.budgetMs)} budget`);
    opts.record('killed', `code ${code.value}`);
    return { kind: 'observed', shutdown };
  }
  if (!code.ok) {
    shutdown.exitedAfterMs = unobserved(code.why);
    opts.record('killed', code.why);
    return { kind: 'observed', shutdown };
  }
  opts.record('exited', `code ${code.value}, not killed (SIGKILL ${shutdown.sigkill === 'sent' ? 'sent' : 'found the container stopped'})`);
  const heard = heardAfterMs === undefined ? 'not at all' : `only ${formatMs(heardAfterMs)} after it`;
  const why = (() => {
    if (daemonMs === undefined) {
      return `the daemon gave no kill and die events for it, and the audit heard of the exit ${heard}, past the ${formatMs(opts.budgetMs)} budget`;
    }
    if (shutdown.finishedAfterMs !== undefined && Math.abs(daemonMs - shutdown.finishedAfterMs) > DAEMON_CLOCKS_AGREE_MS) {
      return `the daemon's die event came ${formatMs(daemonMs)} after ${opts.stopSignal} but the container's FinishedAt says ${formatMs(shutdown.finishedAfterMs)}: the daemon processed the exit late (paused or overloaded?), and the audit heard of it ${heard}`;
    }
    if (daemonMs < opts.budgetMs) {
      return `the daemon's events put the exit ${formatMs(daemonMs)} after ${opts.stopSignal}, within the budget, but the audit heard of it ${heard}, past the ${formatMs(opts.budgetMs)} budget (its SIGKILL ${shutdown.sigkill === 'sent' ? 'was sent' : 'found the container stopped'}): the daemon answered late (paused or overloaded?)`;
    }
    return undefined;
  })();
  if (why) shutdown.exitedAfterMs = unobserved(why);
  else {
    // Both of the daemon's clocks agree that it exited by itself past the budget.
    shutdown.exitedAfterMs = observed(daemonMs!);
    shutdown.timedBy = 'daemon-events';
  }
  return { kind: 'observed', shutdown };
}
