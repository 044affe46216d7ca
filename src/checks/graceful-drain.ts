// graceful-drain: shutdown under live traffic. Before the stop signal, a client in a sidecar container
// that shares the app's network namespace (loopback only; its own pid namespace, so it outlives the
// app's exit) opens idle keep-alive sockets, one socket that never sends a request, a hot keep-alive
// client and requests in flight; the lifecycle then sends the stop signal itself and owns the budget.
// All of it happens on a container of its own (`perturbs`): sigterm-shutdown measures a stop without it.
// The client streams what happens to every request and socket, the app's exit included.
import type { LifecycleObservation, ShutdownObservation } from '../lifecycle/observe.js';
import type { LiveContext, LiveProbe } from '../lifecycle/probe.js';
import { formatMs } from '../units.js';
import { lineWriter, required, verdict, type Check } from './check.js';
import { DRAIN_CLIENT, type ClientEvent } from './probes/drain-client.js';
import { firstLine, helperNode, probeValue, programMissing, unavailable, type Unavailable } from './probes/shared.js';

const SETUP_BOUND_MS = 20_000;
/** The census is taken this long before the budget ends: what is open then is what holds the exit. */
const CENSUS_LEAD_MS = 300;

export interface DrainProbeValue {
  kind: 'observed' | 'setup-failed';
  port: number;
  path: string;
  /** Timeline ms (since start) when the client said it was ready; the stop signal follows. */
  readyAtMs?: number;
  events: ClientEvent[];
  message?: string;
}

async function armClient(context: LiveContext): Promise<() => Promise<DrainProbeValue | Unavailable>> {
  const port = context.settings.port;
  if (!port) return async () => unavailable('the image EXPOSEs no TCP port and no --port was given: there is nothing to send traffic to');
  const path = context.settings.drainPath;
  const budgetMs = context.settings.shutdownBudgetMs;
  const events: ClientEvent[] = [];
  let readyAtMs: number | undefined;
  let announce: (what: 'ready' | 'setup-failed') => void = () => undefined;
  const announced = new Promise<'ready' | 'setup-failed'>((resolve) => (announce = resolve));
  const node = helperNode(context);
  const run = context.sidecar([node, '-e', DRAIN_CLIENT, String(port), path, String(budgetMs)], {
    // The client exits by itself at the budget plus 3 s; the container's death usually ends it first.
    timeoutMs: SETUP_BOUND_MS + budgetMs + 15_000,
    onStdoutLine: (line) => {
      let event: ClientEvent;
      try {
        event = JSON.parse(line) as ClientEvent;
      } catch {
        return;
      }
      events.push(event);
      if (event.e === 'ready') {
        readyAtMs = context.atMs();
        announce('ready');
      } else if (event.e === 'setup-failed') announce('setup-failed');
    },
  });
  run.catch(() => undefined);
  const first = await Promise.race([announced, run.then((r) => r, (err: Error) => err)]);
  if (first !== 'ready' && first !== 'setup-failed') {
    if (first instanceof Error) throw first;
    if (programMissing(first)) return async () => unavailable(`there is no ${node} to exec in the container (${firstLine(first.stderr || first.stdout) || `exit ${first.exitCode}`})`);
    throw new Error(`the traffic client ended before it was ready (exit ${first.exitCode}): ${firstLine(first.stderr || first.stdout)}`);
  }
  const base = { port, path, events };
  if (first === 'setup-failed') {
    const failed = events.find((e) => e.e === 'setup-failed') as { message: string } | undefined;
    return async () => ({ kind: 'setup-failed', ...base, message: failed?.message });
  }
  context.record('drain-probe', `traffic client ready on 127.0.0.1:${port}${path}`);
  return async () => {
    // The exec ends when the container dies (or the client's own bound): keep whatever was streamed.
    await run.catch(() => undefined);
    return { kind: 'observed', ...base, readyAtMs };
  };
}

export const drainProbe: LiveProbe<DrainProbeValue | Unavailable> = {
  // Set-up, the shutdown budget, the kill wait: bounded inside; this is the outer cap.
  timeoutMs: 180_000,
  // Its sockets (one never sends a request) hold a server.close() past the budget: it gets its own container and stop.
  perturbs: true,
  aroundStop: armClient,
};

export interface SocketFate {
  socket: string;
  /** FIN (the server closed it), reset, closed (by the client, after its last response), or open until the exit. */
  fate: 'FIN' | 'reset' | 'closed' | 'open';
  /** ms after the stop signal (negative: before it). */
  afterSignalMs?: number;
}

export interface DrainAnalysis {
  sockets: SocketFate[];
  sentAfterSignal: number;
  answeredAfterSignal: number;
  /** Requests written to the server that got no complete response. */
  dropped: Array<{ socket: string; id: number; sentAfterSignalMs: number; reason: string }>;
  /** Requests whose outcome the client could not report before the container's exit ended it. */
  unobserved: Array<{ socket: string; id: number; sentAfterSignalMs: number }>;
  /** Requests reset on a reused keep-alive socket before any response byte: the race clients retry. */
  retryableResets: number;
  /**
   * Requests sent after the signal on a new connection, reset before any response byte: the server had
   * stopped accepting (a connection still in the listen backlog is reset when the listener closes).
   */
  notAccepted: number;
  /** Sockets still open at the census taken just before the budget ended. */
  openAtBudget?: string[];
}

/** What happened to each socket and request, with times relative to the stop signal. Pure. */
export function analyseDrain(events: ClientEvent[], signalOffsetMs: number, killedAtMs?: number): DrainAnalysis {
  const ready = events.find((e) => e.e === 'ready');
  // Client time of the stop signal: its "ready" plus the lifecycle's delay in sending it.
  const signalT = (ready?.t ?? 0) + signalOffsetMs;
  const rel = (t: number) => Math.round(t - signalT);
  const socketNames: string[] = [];
  const fates = new Map<string, SocketFate>();
  const note = (name: string) => {
    if (!fates.has(name)) {
      socketNames.push(name);
      fates.set(name, { socket: name, fate: 'open' });
    }
    return fates.get(name)!;
  };
  const sent = new Map<number, { socket: string; t: number; fresh: boolean }>();
  const outcome = new Map<number, { e: string; code?: string; t: number; noResponse: boolean }>();
  let answeredAfterSignal = 0;
  let retryable = 0;
  for (const e of events) {
    switch (e.e) {
      case 'sent':
        note(e.s);
        sent.set(e.id, { socket: e.s, t: e.t, fresh: e.fresh === true });
        break;
      case 'answered':
        outcome.set(e.id, { e: 'answered', t: e.t, noResponse: false });
        if (e.t >= signalT) answeredAfterSignal++;
        break;
      case 'dropped':
      case 'refused':
      case 'retryable':
        outcome.set(e.id, { e: e.e, code: e.code, t: e.t, noResponse: e.noResponse === true });
        if (e.e === 'retryable') retryable++;
        break;
      case 'fin': {
        const f = note(e.s);
        if (f.fate === 'open') Object.assign(f, { fate: 'FIN', afterSignalMs: rel(e.t) });
        break;
      }
      case 'reset': {
        const f = note(e.s);
        if (f.fate !== 'reset') Object.assign(f, { fate: 'reset', afterSignalMs: f.afterSignalMs ?? rel(e.t) });
        break;
      }
      case 'closed': {
        const f = note(e.s);
        if (f.fate === 'open') Object.assign(f, { fate: 'closed', afterSignalMs: rel(e.t) });
        break;
      }
      default:
        break;
    }
  }
  const dropped: DrainAnalysis['dropped'] = [];
  const unobserved: DrainAnalysis['unobserved'] = [];
  let notAccepted = 0;
  for (const [id, s] of sent) {
    const o = outcome.get(id);
    if (o?.e === 'answered' || o?.e === 'refused' || o?.e === 'retryable') continue;
    if (o && s.fresh && o.noResponse && rel(s.t) >= 0) {
      notAccepted++;
      continue;
    }
    // A reset at or after the budget is the audit's SIGKILL, not the app's doing.
    if (o && killedAtMs !== undefined && rel(o.t) >= killedAtMs) continue;
    // No outcome at all: the container's exit ended the client before it could tell (it lives in the
    // container's pid namespace), so this is not an observed drop.
    if (!o) unobserved.push({ socket: s.socket, id, sentAfterSignalMs: rel(s.t) });
    else dropped.push({ socket: s.socket, id, sentAfterSignalMs: rel(s.t), reason: o.code ?? 'no response' });
  }
  const census = events.find((e) => e.e === 'census') as { open: string[] } | undefined;
  // Sockets the client never connected (a refused reconnect) are not part of the story.
  const sockets = socketNames.map((n) => fates.get(n)!).filter((f) => !(f.fate === 'reset' && !events.some((e) => e.e === 'sent' && e.s === f.socket)));
  return {
    sockets,
    sentAfterSignal: [...sent.values()].filter((s) => s.t >= signalT).length,
    answeredAfterSignal,
    dropped,
    unobserved,
    retryableResets: retryable,
    notAccepted,
    openAtBudget: census?.open,
  };
}

const SILENT = 'silent';

export function judgeDrain(value: DrainProbeValue, shutdown: ShutdownObservation, signalOffsetMs: number, signalPlacedBy?: SignalPlacement) {
  const analysis = analyseDrain(value.events, signalOffsetMs, shutdown.killedAtBudget ? shutdown.budgetMs - 50 : undefined);
  const exit = shutdown.killedAtBudget
    ? `still running at the ${formatMs(shutdown.budgetMs)} budget (killed)`
    : shutdown.exitedAfterMs.ok
      ? `exited ${formatMs(shutdown.exitedAfterMs.value)} after ${shutdown.signal}`
      : `exited after ${shutdown.signal} (when is not known: ${shutdown.exitedAfterMs.why})`;
  const evidence = {
    target: `127.0.0.1:${value.port}${value.path} (inside the container)`,
    signal: shutdown.signal,
    signalPlacedBy,
    budgetMs: shutdown.budgetMs,
    exitedAfterMs: shutdown.exitedAfterMs.ok ? shutdown.exitedAfterMs.value : undefined,
    killedAtBudget: shutdown.killedAtBudget,
    sockets: analysis.sockets,
    sentAfterSignal: analysis.sentAfterSignal,
    answeredAfterSignal: analysis.answeredAfterSignal,
    dropped: analysis.dropped,
    retryableResets: analysis.retryableResets || undefined,
    notAcceptedAfterSignal: analysis.notAccepted || undefined,
    unobserved: analysis.unobserved,
    openAtBudget: analysis.openAtBudget,
  };
  if (analysis.dropped.length) {
    const list = analysis.dropped.slice(0, 5).map((d) => `${d.socket} (sent ${formatMs(d.sentAfterSignalMs)} after the signal: ${d.reason})`).join(', ');
    return verdict(
      'fail',
      `${analysis.dropped.length} request(s) already sent got no complete response: ${list}; the app ${exit}`,
      evidence,
      "On SIGTERM, stop accepting and finish in-flight requests before exiting: `server.close(() => process.exit(0))`, never `process.exit()` while requests are open.",
    );
  }
  if (shutdown.killedAtBudget) {
    const open = analysis.openAtBudget ?? analysis.sockets.filter((s) => s.fate === 'open' || (s.afterSignalMs ?? 0) >= shutdown.budgetMs - CENSUS_LEAD_MS).map((s) => s.socket);
    const holding = open.filter((s) => s !== SILENT);
    if (holding.length) {
      return verdict(
        'fail',
        `the app was ${exit} with ${holding.length} client connection(s) still open (${holding.join(', ')}): open keep-alive connections held the shutdown`,
        evidence,
        'On SIGTERM call `server.close()` and `server.closeIdleConnections()`, and answer requests that arrive meanwhile with `Connection: close`.',
      );
    }
    if (open.includes(SILENT)) {
      return verdict(
        'warn',
        `the app was ${exit}; the only client connection still open was one that never sent a request (a preconnect), which server.close() does not close`,
        evidence,
        "Track sockets that have not sent a request (`server.on('connection')`) and destroy them on SIGTERM, or close them after a short grace.",
      );
    }
  }
  // Requests with no reported outcome come before any pass, killed at the budget or not.
  if (analysis.unobserved.length) {
    return verdict(
      'error',
      `${analysis.unobserved.length} request(s) had no reported outcome: the container's exit ended the traffic client before it could tell (the app ${exit}); rerun on a less loaded host`,
      evidence,
    );
  }
  if (shutdown.killedAtBudget) {
    return verdict('pass', `every request was answered and every client connection was closed; the app was still ${exit} for another reason (see sigterm-shutdown)`, evidence);
  }
  return verdict(
    'pass',
    `every request sent was answered (${analysis.answeredAfterSignal} after the signal) and the app ${exit} with ${analysis.sockets.filter((s) => s.fate === 'open' || (s.afterSignalMs ?? 0) >= 0).length} client connections open at the signal${analysis.notAccepted ? `; ${analysis.notAccepted} new connection(s) opened after the signal were not accepted (the server had stopped listening)` : ''}`,
    evidence,
  );
}

export const gracefulDrain: Check = {
  id: 'graceful-drain',
  title: 'Drains connections on the stop signal',
  needs: ['image', 'lifecycle'],
  help: 'On SIGTERM stop accepting, answer in-flight requests (with `Connection: close`), close idle and never-used connections, then exit.',
  deep: true,
  probe: drainProbe,
  run({ lifecycle }) {
    const life = required(lifecycle, 'lifecycle');
    const got = probeValue<DrainProbeValue>(life, 'graceful-drain');
    if ('verdict' in got) return got.verdict;
    const value = got.value;
    if (value.kind === 'setup-failed') return verdict('error', `no traffic could be set up on 127.0.0.1:${value.port}${value.path} inside the container: ${value.message}`, { port: value.port, path: value.path }, 'Pass the port the app listens on with --port.');
    if (!life.shutdown) return verdict('error', 'the app was not running when the stop signal was sent', { timeline: life.timeline });
    const placed = signalOffset(life, life.shutdown, value);
    return judgeDrain(value, life.shutdown, placed.offsetMs, placed.by);
  },
  lines(result) {
    const e = result.evidence as Partial<ReturnType<typeof judgeDrain>['evidence'] & { target: string }>;
    const { lines, add } = lineWriter();
    add('traffic', e.target);
    add(
      'sockets',
      (e.sockets as SocketFate[] | undefined)?.map((s) => `${s.socket} ${s.fate}${s.afterSignalMs !== undefined ? ` @ ${formatMs(s.afterSignalMs)}` : ''}`).join(', '),
    );
    if (e.answeredAfterSignal !== undefined) add('answered after the signal', String(e.answeredAfterSignal));
    add('not accepted after the signal', e.notAcceptedAfterSignal === undefined ? undefined : `${e.notAcceptedAfterSignal} new connection(s)`);
    add('dropped', (e.dropped as DrainAnalysis['dropped'] | undefined)?.map((d) => `${d.socket}: ${d.reason}`).join(', '));
    add('open at the budget', e.openAtBudget);
    return lines;
  },
  locate: (stage) => stage.last('EXPOSE') ?? stage.last('CMD'),
};

/**
 * How the stop signal is placed on the client's clock (the client runs on the daemon's host, so its wall
 * clock is the daemon's):
 * - `kill-request`: when the daemon's kill event falls inside our kill request, the daemon's clock is
 *   ours, and the signal came no earlier than the moment we sent the request;
 * - `daemon-kill-event`: otherwise (another host's clock), the kill event, which the daemon logs just
 *   after delivering the signal (a few ms late: requests sent right after the signal can look sent
 *   before it);
 * - `ready-latency`: without the event, when we got "ready" and sent the signal (late by the latency of
 *   the client's output reaching us, tens of ms on a loaded host).
 */
export type SignalPlacement = 'kill-request' | 'daemon-kill-event' | 'ready-latency';
/** Slack when deciding whether the kill event fell inside our request (ms rounding of both clocks). */
const SAME_CLOCK_SLACK_MS = 2;

/** The delay between the client's "ready" and the stop signal, in ms. */
function signalOffset(life: LifecycleObservation, shutdown: ShutdownObservation, value: DrainProbeValue): { offsetMs: number; by: SignalPlacement } {
  const ready = value.events.find((e) => e.e === 'ready') as { wall?: number } | undefined;
  const { signalSentAtMs: sent, signalAnsweredAtMs: answered, signalTimeMs: event } = shutdown;
  if (ready?.wall !== undefined && event !== undefined) {
    const sameClock = sent !== undefined && answered !== undefined && event >= sent - SAME_CLOCK_SLACK_MS && event <= answered + SAME_CLOCK_SLACK_MS;
    const at = sameClock ? sent! : event;
    return { offsetMs: Math.max(0, at - ready.wall), by: sameClock ? 'kill-request' : 'daemon-kill-event' };
  }
  const signal = life.timeline.find((t) => t.event === 'signal');
  return { offsetMs: signal && value.readyAtMs !== undefined ? Math.max(0, signal.atMs - value.readyAtMs) : 0, by: 'ready-latency' };
}
