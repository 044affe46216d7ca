// One observed container lifecycle, shared by every runtime check:
// start → health timeline (or settle) → process table → stop signal → exit.
// Everything is recorded as timestamped events; nothing here decides a verdict.
import type { ContainerState, DockerPort, HealthcheckConfig, HealthProbe, ProcessRow } from '../docker/port.js';
import { ContainerError } from '../errors.js';
import { pollUntil, systemClock, withinMs, type Clock } from '../wait.js';
import { buildProcessTree, type ProcessTree } from './process-tree.js';

const NS_PER_MS = 1e6;
/** Docker's defaults when HEALTHCHECK leaves a timing out. */
const HEALTH_DEFAULTS = { intervalNs: 30_000 * NS_PER_MS, timeoutNs: 30_000 * NS_PER_MS, startPeriodNs: 0, retries: 3 };
/** We probe at least this often; the image's test command, timeout, start period and retries stay. */
export const AUDIT_HEALTH_INTERVAL_MS = 500;
const POLL_MS = 50;
const SETTLE = { minMs: 1000, maxMs: 10_000, pollMs: 250 };
const KILL_WAIT_MS = 10_000;
const SAMPLE_EVERY_MS = 400;
const LOG_TAIL = 20;

export interface TimelineEvent {
  /** Milliseconds since the container was started. */
  atMs: number;
  event: string;
  detail?: string;
}

export interface HealthObservation {
  configured: HealthcheckConfig;
  /** What the audit ran with, and why it differs from the image. */
  effective: { intervalMs: number; timeoutMs: number; startPeriodMs: number; retries: number };
  intervalShortened: boolean;
  deadlineMs: number;
  transitions: Array<{ status: string; atMs: number }>;
  probes: Array<HealthProbe & { atMs: number }>;
  /** 'healthy' | 'unhealthy' | 'starting' (deadline passed) | 'exited' (the app stopped first) */
  outcome: 'healthy' | 'unhealthy' | 'starting' | 'exited';
  timeToHealthyMs?: number;
}

export interface ShutdownObservation {
  signal: string;
  budgetMs: number;
  /** Time from sending the signal to the container's exit (when it exited by itself). */
  exitedAfterMs?: number;
  /** Still running at the budget: we sent SIGKILL. */
  killedAtBudget: boolean;
  exitCode?: number;
  oomKilled: boolean;
}

export interface LifecycleObservation {
  containerId: string;
  timeline: TimelineEvent[];
  /** The daemon refused to start the container (bad USER, missing executable, ...). */
  startError?: string;
  /** The container stopped by itself before we sent the stop signal. */
  exitedEarly?: { exitCode: number; afterMs: number; oomKilled: boolean };
  health?: HealthObservation;
  /** How the audit decided the app was up when there is no HEALTHCHECK. */
  settle?: { settledAfterMs: number; appSeen: boolean };
  processes?: ProcessTree;
  shutdown?: ShutdownObservation;
  logs: string[];
  durationMs: number;
}

export interface ObserveOptions {
  containerId: string;
  stopSignal: string;
  healthcheck?: HealthcheckConfig;
  shutdownBudgetMs: number;
  clock?: Clock;
  onStatus?: (line: string) => void;
}

/** The health override applied at create time: the image's command and timings, probed more often. */
export function auditHealthOverride(image: HealthcheckConfig): Partial<HealthcheckConfig> | undefined {
  const intervalNs = image.intervalNs || HEALTH_DEFAULTS.intervalNs;
  if (intervalNs <= AUDIT_HEALTH_INTERVAL_MS * NS_PER_MS) return undefined;
  // An empty test (and zero timings) make the daemon keep the image's own.
  return { intervalNs: AUDIT_HEALTH_INTERVAL_MS * NS_PER_MS };
}

function effectiveHealth(image: HealthcheckConfig) {
  const override = auditHealthOverride(image);
  const intervalNs = override?.intervalNs ?? (image.intervalNs || HEALTH_DEFAULTS.intervalNs);
  const effective = {
    intervalMs: intervalNs / NS_PER_MS,
    timeoutMs: (image.timeoutNs || HEALTH_DEFAULTS.timeoutNs) / NS_PER_MS,
    startPeriodMs: (image.startPeriodNs || HEALTH_DEFAULTS.startPeriodNs) / NS_PER_MS,
    retries: image.retries || HEALTH_DEFAULTS.retries,
  };
  // Docker declares unhealthy after `retries` failures past the start period; a hung probe costs interval + timeout.
  const deadlineMs =
    effective.startPeriodMs + (effective.retries + 1) * (effective.intervalMs + effective.timeoutMs) + 2000;
  return { effective, intervalShortened: override !== undefined, deadlineMs };
}

export async function observeLifecycle(docker: DockerPort, opts: ObserveOptions): Promise<LifecycleObservation> {
  const clock = opts.clock ?? systemClock;
  const { containerId } = opts;
  const began = clock.now();
  const startedWall = Date.now();
  const timeline: TimelineEvent[] = [];
  const at = () => Math.round(clock.now() - began);
  const record = (event: string, detail?: string) => timeline.push({ atMs: at(), event, detail });
  const observation: LifecycleObservation = { containerId, timeline, logs: [], durationMs: 0 };
  const finish = async () => {
    observation.logs = await docker.logs(containerId, LOG_TAIL).catch(() => []);
    observation.durationMs = at();
    timeline.sort((a, b) => a.atMs - b.atMs); // samples are recorded when taken, not when used
    return observation;
  };

  try {
    await docker.startContainer(containerId);
  } catch (err) {
    observation.startError = (err as Error).message.replace(/^Docker refused starting the container: /, '');
    record('start-failed', observation.startError);
    return finish();
  }
  record('started');

  const noteExit = (state: ContainerState) => {
    const afterMs = Date.parse(state.finishedAt) - startedWall;
    observation.exitedEarly = { exitCode: state.exitCode, afterMs: Math.max(0, afterMs || at()), oomKilled: state.oomKilled };
    record('exited', `code ${state.exitCode}`);
  };

  // The process table is sampled while we wait (off the critical path); the last sample that shows the
  // app is the observation, so the stop signal follows "up" without another round trip.
  let sampled: { tree: ProcessTree; atMs: number; count: number } | undefined;
  let sampling: Promise<void> | undefined;
  let lastSampleAt = -Infinity;
  const takeSample = (rows: ProcessRow[], pid1: number) => {
    const tree = buildProcessTree(rows, pid1);
    if (tree?.app) sampled = { tree, atMs: at(), count: rows.length };
    return tree;
  };
  const sampleInBackground = (pid1: number) => {
    if (sampling || at() - lastSampleAt < SAMPLE_EVERY_MS) return;
    lastSampleAt = at();
    sampling = docker
      .processes(containerId)
      .then((rows) => void takeSample(rows, pid1))
      .catch(() => undefined)
      .finally(() => (sampling = undefined));
  };

  // Phase 1: wait until the app is up: healthy (or decided) when it has a HEALTHCHECK, settled when not.
  if (opts.healthcheck) {
    const { effective, intervalShortened, deadlineMs } = effectiveHealth(opts.healthcheck);
    const health: HealthObservation = {
      configured: opts.healthcheck,
      effective,
      intervalShortened,
      deadlineMs,
      transitions: [],
      probes: [],
      outcome: 'starting',
    };
    observation.health = health;
    const seenProbes = new Set<string>();
    let lastStatus = '';
    const result = await pollUntil<'healthy' | 'unhealthy' | 'exited'>({
      what: 'healthy',
      deadlineMs,
      intervalMs: POLL_MS,
      clock,
      onProgress: opts.onStatus,
      probe: async () => {
        const state = await docker.inspectContainer(containerId);
        for (const probe of state.health?.log ?? []) {
          if (seenProbes.has(probe.start)) continue;
          seenProbes.add(probe.start);
          health.probes.push({ ...probe, atMs: Math.max(0, Date.parse(probe.end) - startedWall) });
        }
        const status = state.health?.status ?? 'none';
        if (status !== lastStatus) {
          lastStatus = status;
          health.transitions.push({ status, atMs: at() });
          record(`health:${status}`);
        }
        if (!state.running) {
          noteExit(state);
          return 'exited';
        }
        if (status === 'healthy' || status === 'unhealthy') return status;
        sampleInBackground(state.pid);
        return undefined;
      },
    });
    health.outcome = result.done ? result.value : 'starting';
    if (health.outcome === 'healthy') health.timeToHealthyMs = health.transitions.find((t) => t.status === 'healthy')?.atMs;
    if (!result.done) record('health:deadline', `not healthy after ${Math.round(deadlineMs)} ms`);
  } else {
    let previous = '';
    const result = await pollUntil<'settled' | 'exited'>({
      what: 'the app to settle',
      deadlineMs: SETTLE.maxMs,
      intervalMs: SETTLE.pollMs,
      clock,
      onProgress: opts.onStatus,
      probe: async () => {
        const state = await docker.inspectContainer(containerId);
        if (!state.running) {
          noteExit(state);
          return 'exited';
        }
        const rows = await docker.processes(containerId).catch(() => []);
        const snapshot = rows.map((r) => `${r.pid} ${r.args}`).join('\n');
        const appSeen = takeSample(rows, state.pid)?.app !== undefined;
        const stable = snapshot === previous;
        previous = snapshot;
        return appSeen && stable && at() >= SETTLE.minMs ? 'settled' : undefined;
      },
    });
    observation.settle = { settledAfterMs: at(), appSeen: result.done && result.value === 'settled' };
    record('settled', observation.settle.appSeen ? undefined : 'no node process seen; going on after the settle bound');
  }

  // Phase 2: the process table, while the app runs: the last sample showing the app, else one now.
  await sampling;
  if (!observation.exitedEarly) {
    if (sampled) {
      observation.processes = sampled.tree;
      timeline.push({ atMs: sampled.atMs, event: 'processes', detail: `${sampled.count} processes` });
    } else {
      const state = await docker.inspectContainer(containerId);
      const rows = state.running ? await docker.processes(containerId).catch(() => undefined) : undefined;
      if (rows) {
        observation.processes = buildProcessTree(rows, state.pid);
        record('processes', `${rows.length} processes`);
      } else {
        // Stopped before or while we listed its processes: that exit is the observation.
        const after = state.running ? await docker.inspectContainer(containerId) : state;
        if (after.running) throw new ContainerError('Docker could not list the processes of the running container');
        noteExit(after);
      }
    }
  }

  // Phase 3: the stop signal, timed against the budget.
  if (!observation.exitedEarly) {
    const shutdown: ShutdownObservation = {
      signal: opts.stopSignal,
      budgetMs: opts.shutdownBudgetMs,
      killedAtBudget: false,
      oomKilled: false,
    };
    observation.shutdown = shutdown;
    opts.onStatus?.(`sent ${opts.stopSignal}, waiting up to ${opts.shutdownBudgetMs / 1000} s for the app to exit`);
    const exited = docker.waitForExit(containerId);
    exited.catch(() => undefined); // awaited below; a rejection after the kill bound must not go unhandled
    const sentAt = clock.now();
    await docker.signal(containerId, opts.stopSignal);
    record('signal', opts.stopSignal);
    const inBudget = await withinMs(exited, opts.shutdownBudgetMs);
    if (inBudget) {
      shutdown.exitedAfterMs = Math.round(clock.now() - sentAt);
      shutdown.exitCode = inBudget.value;
      record('exited', `code ${inBudget.value} after ${shutdown.exitedAfterMs} ms`);
    } else {
      shutdown.killedAtBudget = true;
      record('budget-passed', `still running ${opts.shutdownBudgetMs} ms after ${opts.stopSignal}; sending SIGKILL`);
      await docker.signal(containerId, 'SIGKILL');
      const afterKill = await withinMs(exited, KILL_WAIT_MS);
      shutdown.exitCode = afterKill?.value;
      record('killed', afterKill ? `code ${afterKill.value}` : `no exit ${KILL_WAIT_MS} ms after SIGKILL`);
    }
    const final = await docker.inspectContainer(containerId);
    shutdown.oomKilled = final.oomKilled;
  }
  return finish();
}
