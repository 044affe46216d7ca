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

interface ShutdownOptions {
  docker: DockerPort;
  containerId: string;
  stopSignal: string;
  budgetMs: number;
  watch: ContainerWatch;
  clock: Clock;
  signal: AbortSignal;
  record: (event: string, detail?: string) => void;
}

/** What our clock saw: whether the exit came within the budget, and when (undefined: not at all). */
interface HeardExit {
  inBudget: boolean;
  heardAfterMs?: number;
}

type WatchEvent = Awaited<ReturnType<ContainerWatch['waitFor']>>;

export async function measureShutdown(opts: ShutdownOptions): Promise<ShutdownResult> {
  const shutdown: ShutdownObservation = {
    signal: opts.stopSignal,
    budgetMs: opts.budgetMs,
    killedAtBudget: false,
    oomKilled: false,
    exitCode: unobserved('no exit was seen'),
    exitedAfterMs: unobserved('no exit was seen'),
  };
  const waiting = new AbortController();
  const exited = opts.docker.waitForExit(opts.containerId, { signal: AbortSignal.any([opts.signal, waiting.signal]) });
  exited.catch(() => undefined);
  // The events before ours are not ours: the kill event and the die event looked for come after these.
  const killsBefore = opts.watch.kills.length;
  const diedBefore = Boolean(opts.watch.died);
  const sentAt = opts.clock.now();
  if ((await sendStopSignal(opts, shutdown)) === 'not-running') {
    waiting.abort();
    return { kind: 'not-running' };
  }
  let heard: HeardExit;
  let kill: WatchEvent;
  let die: WatchEvent;
  try {
    heard = await awaitExit(opts, shutdown, exited, sentAt);
    // The daemon's kill and die events, when they arrive promptly. The first kill event after ours
    // began is the stop signal's, not the SIGKILL's.
    kill = await opts.watch.waitFor((e) => e.action === 'kill' && opts.watch.kills.indexOf(e) >= killsBefore, EVENT_GRACE_MS, opts.signal);
    if (kill) shutdown.signalTimeMs = kill.timeMs;
    die = diedBefore ? undefined : await opts.watch.waitFor((e) => e.action === 'die', EVENT_GRACE_MS, opts.signal);
  } finally {
    waiting.abort();
  }
  const daemonMs = await readDaemonTiming(opts, shutdown, kill, die);
  if (heard.inBudget) timeExitInBudget(opts, shutdown, heard, daemonMs);
  else judgeExitPastBudget(opts, shutdown, heard, daemonMs);
  return { kind: 'observed', shutdown };
}

/** Sends the stop signal, noting on our clock when it went and when the daemon answered. */
async function sendStopSignal(opts: ShutdownOptions, shutdown: ShutdownObservation): Promise<'sent' | 'not-running'> {
  shutdown.signalSentAtMs = Date.now();
  const sent = await opts.docker.signal(opts.containerId, opts.stopSignal);
  shutdown.signalAnsweredAtMs = Date.now();
  if (sent === 'not-running') opts.record('signal-refused', `${opts.stopSignal}: the container was no longer running`);
  else opts.record('signal', opts.stopSignal);
  return sent;
}

/** Waits for the exit until the budget; past it, sends SIGKILL and waits a bounded while more. */
async function awaitExit(opts: ShutdownOptions, shutdown: ShutdownObservation, exited: Promise<number>, sentAt: number): Promise<HeardExit> {
  const exit = await withinMs(exited, Math.max(0, opts.budgetMs - (opts.clock.now() - sentAt)), opts.signal);
  if (exit) {
    shutdown.exitCode = observed(exit.value);
    return { inBudget: true, heardAfterMs: Math.round(opts.clock.now() - sentAt) };
  }
  opts.record('budget-passed', `no exit ${opts.budgetMs} ms after ${opts.stopSignal}; sending SIGKILL`);
  shutdown.sigkill = await opts.docker.signal(opts.containerId, 'SIGKILL');
  const afterKill = await withinMs(exited, KILL_WAIT_MS, opts.signal);
  if (!afterKill) {
    shutdown.exitCode = unobserved(`no exit ${formatMs(KILL_WAIT_MS)} after SIGKILL`);
    return { inBudget: false };
  }
  shutdown.exitCode = observed(afterKill.value);
  return { inBudget: false, heardAfterMs: Math.round(opts.clock.now() - sentAt) };
}

/**
 * The container's final state (OOM kill, FinishedAt) and the daemon's own time from the kill event to
 * the die event: undefined when either event did not come, or came out of order.
 */
async function readDaemonTiming(opts: ShutdownOptions, shutdown: ShutdownObservation, kill: WatchEvent, die: WatchEvent): Promise<number | undefined> {
  const final = await opts.docker.inspectContainer(opts.containerId, { signal: opts.signal });
  shutdown.oomKilled = final.oomKilled;
  const finished = Date.parse(final.finishedAt);
  if (kill && Number.isFinite(finished) && finished >= kill.timeMs - DAEMON_CLOCKS_AGREE_MS) shutdown.finishedAfterMs = Math.max(0, Math.round(finished - kill.timeMs));
  return kill && die && die.timeMs >= kill.timeMs ? Math.round(die.timeMs - kill.timeMs) : undefined;
}

/** An exit within the budget: timed by the daemon's events when it gave both, else by our clock. */
function timeExitInBudget(opts: ShutdownOptions, shutdown: ShutdownObservation, heard: HeardExit, daemonMs: number | undefined): void {
  if (daemonMs !== undefined) {
    shutdown.exitedAfterMs = observed(daemonMs);
    shutdown.timedBy = 'daemon-events';
  } else {
    shutdown.exitedAfterMs = observed(heard.heardAfterMs!);
    shutdown.timedBy = 'local-clock';
  }
  opts.record('exited', `code ${shutdown.exitCode.ok ? shutdown.exitCode.value : '?'} after ${shutdown.exitedAfterMs.ok ? shutdown.exitedAfterMs.value : '?'} ms`);
}

/**
 * The budget passed on our clock and SIGKILL went out: the exit code says whether it killed the app.
 * The daemon's kill event for the stop signal is stamped when it delivers it, which a loaded daemon does
 * later than we asked: an exit by our SIGKILL then measures a little under the budget on the daemon's
 * clock. Only an exit well inside the budget (or the kernel's OOM kill) was not ours.
 */
function judgeExitPastBudget(opts: ShutdownOptions, shutdown: ShutdownObservation, heard: HeardExit, daemonMs: number | undefined): void {
  const code = shutdown.exitCode;
  const exitedWellInsideBudget = daemonMs !== undefined && daemonMs < opts.budgetMs - DAEMON_CLOCKS_AGREE_MS;
  if (shutdown.sigkill === 'sent' && code.ok && code.value === KILLED_BY_SIGKILL && !shutdown.oomKilled && !exitedWellInsideBudget) {
    shutdown.killedAtBudget = true;
    shutdown.exitedAfterMs = unobserved(`killed by the audit's SIGKILL at the ${formatMs(opts.budgetMs)} budget`);
    opts.record('killed', `code ${code.value}`);
    return;
  }
  if (!code.ok) {
    shutdown.exitedAfterMs = unobserved(code.why);
    opts.record('killed', code.why);
    return;
  }
  opts.record('exited', `code ${code.value}, not killed (SIGKILL ${shutdown.sigkill === 'sent' ? 'sent' : 'found the container stopped'})`);
  const why = clocksDisagree(opts, shutdown, heard, daemonMs);
  if (why) shutdown.exitedAfterMs = unobserved(why);
  else {
    // Both of the daemon's clocks agree that it exited by itself past the budget.
    shutdown.exitedAfterMs = observed(daemonMs!);
    shutdown.timedBy = 'daemon-events';
  }
}

/** Why an exit by itself past our budget cannot be timed (the clocks disagree), or undefined when they agree. */
function clocksDisagree(opts: ShutdownOptions, shutdown: ShutdownObservation, heard: HeardExit, daemonMs: number | undefined): string | undefined {
  const heardIt = heard.heardAfterMs === undefined ? 'not at all' : `only ${formatMs(heard.heardAfterMs)} after it`;
  if (daemonMs === undefined) {
    return `the daemon gave no kill and die events for it, and the audit heard of the exit ${heardIt}, past the ${formatMs(opts.budgetMs)} budget`;
  }
  if (shutdown.finishedAfterMs !== undefined && Math.abs(daemonMs - shutdown.finishedAfterMs) > DAEMON_CLOCKS_AGREE_MS) {
    return `the daemon's die event came ${formatMs(daemonMs)} after ${opts.stopSignal} but the container's FinishedAt says ${formatMs(shutdown.finishedAfterMs)}: the daemon processed the exit late (paused or overloaded?), and the audit heard of it ${heardIt}`;
  }
  if (daemonMs < opts.budgetMs) {
    return `the daemon's events put the exit ${formatMs(daemonMs)} after ${opts.stopSignal}, within the budget, but the audit heard of it ${heardIt}, past the ${formatMs(opts.budgetMs)} budget (its SIGKILL ${shutdown.sigkill === 'sent' ? 'was sent' : 'found the container stopped'}): the daemon answered late (paused or overloaded?)`;
  }
  return undefined;
}
