// One observed container lifecycle, shared by every runtime check (a check whose probe perturbs the app
// gets a lifecycle of its own, on a container of its own: see `LiveProbe.perturbs`):
// start → wait until up (healthy, or settled) → stable process table → (runtime) → probes → stop → exit.
// Everything is recorded as timestamped events; nothing here decides a verdict.
import type { ContainerState, DockerPort, HealthcheckConfig } from '../docker/port.js';
import { ContainerError } from '../errors.js';
import type { ImageBasics } from '../facts/image-facts.js';
import { observed, unobserved, type Observed } from '../observed.js';
import { sleep, systemClock, type Clock } from '../wait.js';
import { watchContainer, type ContainerWatch } from './events.js';
import { cutLine } from './text.js';
import { waitUntilHealthy, type HealthObservation } from './health-wait.js';
import type { LiveContext, LiveProbe, ProbeOutcome, ProbeSettings } from './probe.js';
import { ProcessTable } from './process-table.js';
import { buildProcessTree, type ProcessTree } from './process-tree.js';
import { observeRuntime, type AppRuntime } from './runtime.js';
import { measureShutdown, type ShutdownObservation } from './shutdown.js';

export { auditHealthOverride, AUDIT_HEALTH_INTERVAL_MS } from './health-wait.js';
export type { HealthObservation } from './health-wait.js';
export type { ShutdownObservation } from './shutdown.js';

const SETTLE = { minMs: 1000, maxMs: 10_000, pollMs: 250 };
const LOG_TAIL = 20;
const LOG_LINE_CHARS = 500;

export interface TimelineEvent {
  /** Milliseconds since the container was started. */
  atMs: number;
  event: string;
  detail?: string;
}

/** An exit before the stop signal, as the engine reported it: a code or time it did not give is not observed. */
export interface EarlyExit {
  exitCode: Observed<number>;
  /** ms from the start to the exit (the engine's StartedAt → FinishedAt). */
  afterMs: Observed<number>;
  /** The kernel killed it for the container's memory limit (inspect's State.OOMKilled). */
  oomKilled: boolean;
  beforeSignal?: boolean;
}

export interface LifecycleObservation {
  containerId: string;
  timeline: TimelineEvent[];
  /** The daemon refused to start the container (bad USER, missing executable, ...). */
  startError?: string;
  /** The container stopped by itself before we sent the stop signal. */
  exitedEarly?: EarlyExit;
  health?: HealthObservation;
  /** How the audit decided the app was up when there is no HEALTHCHECK. */
  settle?: { settledAfterMs: number; appSeen: boolean; cappedAtMs?: number };
  processes?: ProcessTree;
  /** The table kept changing up to the sampling bound: the last sample is the observation. */
  processesUnstable?: boolean;
  runtime?: AppRuntime;
  /** Why the runtime could not be read (no node on PATH, exec refused, userns daemon…). */
  runtimeError?: string;
  /** When the probes that run alongside the wait for "up" started (they do not touch health). */
  earlyProbesStartedAtMs?: number;
  probes: Record<string, ProbeOutcome>;
  shutdown?: ShutdownObservation;
  logs: string[];
  durationMs: number;
}

export interface ObserveOptions {
  containerId: string;
  basics: ImageBasics;
  stopSignal: string;
  healthcheck?: HealthcheckConfig;
  shutdownBudgetMs: number;
  /** Cap on the whole wait for "up". */
  healthTimeoutMs: number;
  /** Read the app from inside the container (a check needs it). */
  runtime: boolean;
  /** Why the runtime cannot be read here (e.g. a userns daemon), if so; awaited only when needed. */
  runtimeUnavailable?: string | Promise<string | undefined>;
  /** The probes to run on this container; one that perturbs the app (`perturbs`) must be alone. */
  probes: Array<{ id: string; probe: LiveProbe }>;
  probeSettings: ProbeSettings;
  signal: AbortSignal;
  clock?: Clock;
  onStatus?: (line: string) => void;
  /** Called once the start call has returned (started or refused). */
  onStarted?: () => void;
  /** Labels of the audit's containers, and how to hand one to the reaper (for probes' helper containers). */
  helpers?: { labels: Record<string, string>; track(containerId: string): void };
}

export async function observeLifecycle(docker: DockerPort, opts: ObserveOptions): Promise<LifecycleObservation> {
  const perturbing = opts.probes.find(({ probe }) => probe.perturbs);
  if (perturbing && opts.probes.length > 1) {
    throw new Error(`internal: the ${perturbing.id} probe perturbs the app and must run alone on its container (with ${opts.probes.filter((p) => p !== perturbing).map((p) => p.id).join(', ')})`);
  }
  const clock = opts.clock ?? systemClock;
  const { containerId, signal } = opts;
  const timeline: TimelineEvent[] = [];
  const observation: LifecycleObservation = { containerId, timeline, logs: [], durationMs: 0, probes: {} };
  let began = clock.now();
  const at = () => Math.round(clock.now() - began);
  const record = (event: string, detail?: string) => timeline.push({ atMs: at(), event, detail });
  // Every status goes out; a consumer without a terminal (the CLI in CI) decides how often to print.
  const status = (line: string) => opts.onStatus?.(line);

  const watch = watchContainer(docker, containerId, signal);
  let startedAtMs = Date.now();
  // Probes started alongside the wait for "up": stopped and awaited whenever the observation ends.
  const earlyAbort = new AbortController();
  let earlyRuns: Array<Promise<void>> = [];
  try {
    try {
      await docker.startContainer(containerId);
    } catch (err) {
      opts.onStarted?.();
      if (signal.aborted) throw err;
      observation.startError = (err as Error).message.replace(/^Docker refused starting the container: /, '');
      record('start-failed', observation.startError);
      return await finish();
    }
    began = clock.now();
    opts.onStarted?.();
    record('started');
    const started = await docker.inspectContainer(containerId, { signal });
    startedAtMs = Date.parse(started.startedAt) || Date.now();
    const table = new ProcessTable(docker, containerId, at, signal);
    // Counted, not timed: transitions carry the daemon's clock, our moments ours, and the start call's
    // latency lies between the two (a loaded host once put "healthy" after the probes' start that way).
    const healthSeenBeforeProbes = () => {
      if (observation.health && observation.health.transitionsBeforeProbes === undefined) observation.health.transitionsBeforeProbes = watch.transitions.length;
    };

    const noteExit = (state: ContainerState, beforeSignal = false) => {
      // A 409 on the stop signal while the engine says running (a paused container): no exit was seen.
      const exit = state.running
        ? { exitCode: unobserved('the daemon refused the stop signal as if the container had stopped (409), yet says it is still running (paused?)'), afterMs: unobserved('no exit was seen') }
        : earlyExit(state, startedAtMs);
      observation.exitedEarly = { ...exit, oomKilled: state.oomKilled, beforeSignal };
      record('exited', `${exit.exitCode.ok ? `code ${exit.exitCode.value}` : 'code unknown'}${state.oomKilled ? ', out of memory' : ''}`);
    };
    const exitedNow = async () => {
      const state = await docker.inspectContainer(containerId, { signal });
      if (state.running) return false;
      throwIfStoppedFromOutside(watch);
      noteExit(state);
      return true;
    };

    // Probes that need only a running container start now, alongside the wait for "up".
    const liveContext = (probeSignal: AbortSignal, processes: ProcessTree): LiveContext => ({
      containerId,
      docker,
      signal: probeSignal,
      clock,
      basics: opts.basics,
      processes,
      runtime: observation.runtime,
      health: observation.health,
      watch,
      settings: opts.probeSettings,
      exec: (argv, options = {}) => docker.exec(containerId, { timeoutMs: 15_000, ...options, argv, signal: probeSignal }),
      sidecar: async (argv, options = {}) => {
        if (!opts.helpers) throw new Error('helper containers are not available to this observation');
        const helper = await docker.createContainer({
          image: opts.basics.image.id,
          env: [],
          labels: opts.helpers.labels,
          entrypoint: [argv[0]],
          cmd: argv.slice(1),
          network: `container:${containerId}`,
          memoryBytes: 256 * 2 ** 20,
          pidsLimit: 64,
        });
        opts.helpers.track(helper);
        return docker.runToExit(helper, { timeoutMs: 15_000, ...options, signal: probeSignal });
      },
      record,
      atMs: at,
    });
    const bound = (ms: number) => AbortSignal.any([signal, AbortSignal.timeout(ms)]);
    const early = opts.probes.filter(({ probe }) => probe.duringStartup && probe.whileUp);
    earlyRuns = early.map(({ id, probe }) => {
      const run = runProbe(
        async () => {
          const rows = await docker.processes(containerId, { signal });
          const tree = buildProcessTree(rows, started.pid);
          if (!tree) throw new Error('the container had no process to start from');
          return probe.whileUp!(liveContext(AbortSignal.any([bound(probe.timeoutMs), earlyAbort.signal]), tree));
        },
        clock,
        signal,
      ).then((outcome) => void (observation.probes[id] = outcome));
      run.catch(() => undefined);
      return run;
    });
    if (early.length) observation.earlyProbesStartedAtMs = at();

    // The runtime read starts as soon as a sample shows a node app, alongside the wait for "up"; phase 3
    // keeps it only when that app is the one of the stable table (same host pid and uid), else reads again.
    let earlyRuntime: { hostPid: number; user: string; read: Promise<AppRuntime> } | undefined;
    const appWatch = new AbortController();
    if (opts.runtime) {
      const watchForApp = async () => {
        while (!earlyAbort.signal.aborted && !appWatch.signal.aborted && !earlyRuntime) {
          const latest = table.latest;
          const app = latest && buildProcessTree(latest.rows, latest.pid1)?.app;
          if (app) {
            const read = observeRuntime(docker, containerId, app, AbortSignal.any([signal, earlyAbort.signal]));
            read.catch(() => undefined);
            earlyRuntime = { hostPid: app.hostPid, user: `${app.uid}:${app.gid}`, read };
            return;
          }
          await sleep(100, AbortSignal.any([earlyAbort.signal, appWatch.signal])).catch(() => undefined);
        }
      };
      earlyRuns.push(watchForApp());
    }

    // Phase 1: up.
    if (opts.healthcheck) {
      // Sample the process table while waiting, off the critical path.
      const sampler = setInterval(() => table.sampleInBackground(started.pid), 400);
      table.sampleInBackground(started.pid);
      try {
        observation.health = await waitUntilHealthy({
          docker,
          containerId,
          configured: opts.healthcheck,
          capMs: opts.healthTimeoutMs,
          watch,
          startedAtMs,
          elapsedMs: at,
          signal,
          onStatus: status,
        });
      } finally {
        clearInterval(sampler);
      }
      for (const t of observation.health.transitions) timeline.push({ atMs: t.atMs, event: `health:${t.status}` });
      if (observation.health.outcome === 'starting') record('health:deadline', `not healthy after ${at()} ms`);
      if (observation.health.outcome === 'exited' && (await exitedNow())) return await finish();
    } else {
      const settled = await waitUntilSettled(table, started.pid, watch, at, opts.healthTimeoutMs, signal, status);
      observation.settle = settled;
      record('settled', settled.appSeen ? undefined : 'no node process seen; going on after the settle bound');
      if (watch.died && (await exitedNow())) return await finish();
    }

    // Phase 2: the stable process table, while the app runs.
    const stable = await table.stable(started.pid).catch(async (err) => {
      if (signal.aborted) throw err;
      return undefined;
    });
    if (!stable) {
      if (await exitedNow()) return await finish();
      throw new ContainerError('Docker could not list the processes of the running container');
    }
    observation.processes = stable.tree;
    observation.processesUnstable = !stable.stable || undefined;
    timeline.push({ atMs: stable.atMs, event: 'processes', detail: `${stable.tree.all.length} processes${stable.stable ? '' : ', still changing'}` });

    // Phase 3: the app from inside, for the checks that need it (the early read, when it saw this app).
    appWatch.abort();
    const unavailable = opts.runtime ? await opts.runtimeUnavailable : undefined;
    if (opts.runtime && stable.tree.app) {
      if (unavailable) observation.runtimeError = unavailable;
      else {
        try {
          const app = stable.tree.app;
          // The same process (a retitle changes its args, not its pid), still with the uid the read ran as.
          const early = earlyRuntime?.hostPid === app.hostPid && earlyRuntime.user === `${app.uid}:${app.gid}` ? await earlyRuntime.read.catch(() => undefined) : undefined;
          observation.runtime = early ?? (await observeRuntime(docker, containerId, app, signal));
          record('runtime', `app pid ${observation.runtime.pid} in the container, ${observation.runtime.nodeVersion.ok ? observation.runtime.nodeVersion.value : 'node version unknown'}`);
        } catch (err) {
          if (signal.aborted) throw err;
          observation.runtimeError = (err as Error).message;
        }
      }
    } else if (opts.runtime) observation.runtimeError = 'no node process was found in the container';

    // Phase 4: probes while up, one after another, each bounded.
    const context = (probeSignal: AbortSignal): LiveContext => ({ ...liveContext(probeSignal, stable.tree), runtime: observation.runtime, health: observation.health });
    await Promise.all(earlyRuns);
    if (opts.probes.some(({ probe }) => !probe.duringStartup)) healthSeenBeforeProbes();
    for (const { id, probe } of opts.probes) {
      if (!probe.whileUp || probe.duringStartup) continue;
      status(`probing ${id}`);
      observation.probes[id] = await runProbe(() => probe.whileUp!(context(bound(probe.timeoutMs))), clock, signal);
    }
    if (watch.died && (await exitedNow())) return await finish();

    // Phase 5: the stop signal, with the probes that watch it armed first.
    const collectors: Array<{ id: string; collect: () => Promise<unknown>; began: number; probeSignal: AbortSignal }> = [];
    for (const { id, probe } of opts.probes) {
      if (!probe.aroundStop) continue;
      const probeSignal = AbortSignal.any([signal, AbortSignal.timeout(probe.timeoutMs)]);
      const began = clock.now();
      const armed = await runProbe(() => probe.aroundStop!(context(probeSignal)), clock, signal);
      if (armed.ran) collectors.push({ id, collect: armed.value as () => Promise<unknown>, began, probeSignal });
      else observation.probes[id] = armed;
    }
    status(`sent ${opts.stopSignal}, waiting up to ${opts.shutdownBudgetMs / 1000} s for the app to exit`);
    healthSeenBeforeProbes();
    const stopped = await measureShutdown({
      docker,
      containerId,
      stopSignal: opts.stopSignal,
      budgetMs: opts.shutdownBudgetMs,
      watch,
      clock,
      signal,
      record,
    });
    if (stopped.kind === 'not-running') {
      const state = await docker.inspectContainer(containerId, { signal });
      noteExit(state, true);
    } else observation.shutdown = stopped.shutdown;
    for (const c of collectors) {
      const outcome = await runProbe(c.collect, clock, signal);
      observation.probes[c.id] = { ...outcome, durationMs: Math.round(clock.now() - c.began) };
    }
    return await finish();
  } finally {
    watch.close();
  }

  async function finish(): Promise<LifecycleObservation> {
    if (earlyRuns.length) {
      // The app stopped first: a probe still running has nothing left to observe.
      earlyAbort.abort(new Error('the container stopped before the probe finished'));
      await Promise.allSettled(earlyRuns);
    }
    if (signal.aborted) throw signal.reason;
    // Health transitions after "up" (a flapping probe, the probes' doing, the shutdown) are kept too.
    const health = observation.health;
    if (health) {
      for (const t of watch.transitions.slice(health.transitions.length)) {
        const atMs = Math.max(0, Math.round(t.timeMs - startedAtMs));
        health.transitions.push({ status: t.status, atMs });
        timeline.push({ atMs, event: `health:${t.status}` });
      }
    }
    const logs = await docker.logs(containerId, LOG_TAIL, { signal }).catch((err) => {
      if (signal.aborted) throw err;
      return [] as string[];
    });
    // One 5 MB log line must not make a 5 MB report: every quoted line is cut the same way.
    observation.logs = logs.map((line) => cutLine(line, LOG_LINE_CHARS));
    observation.durationMs = at();
    timeline.sort((a, b) => a.atMs - b.atMs);
    return observation;
  }
}

/**
 * The exit code and time of an early exit as the engine gave them. Exit codes are 0-255: anything else
 * (a -1) is the engine not knowing. FinishedAt is "0001-01-01T00:00:00Z" when the engine recorded no
 * finish: no time is made up from it.
 */
export function earlyExit(state: Pick<ContainerState, 'exitCode' | 'finishedAt' | 'startedAt'>, startedAtMs: number): Pick<EarlyExit, 'exitCode' | 'afterMs'> {
  const exitCode = Number.isInteger(state.exitCode) && state.exitCode >= 0 && state.exitCode <= 255 ? observed(state.exitCode) : unobserved(`the engine reported exit code ${state.exitCode}, which no process exits with`);
  const finished = Date.parse(state.finishedAt);
  const afterMs =
    Number.isFinite(finished) && finished >= startedAtMs
      ? observed(Math.round(finished - startedAtMs))
      : unobserved(`the engine gave no finish time after the start (FinishedAt "${state.finishedAt}", StartedAt "${state.startedAt}")`);
  return { exitCode, afterMs };
}

/** Signals that stop a container (SIGHUP, SIGINT, SIGQUIT, SIGKILL, SIGTERM), by number as events give them. */
const STOPPING = new Set(['1', '2', '3', '9', '15', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGKILL', 'SIGTERM']);

/**
 * Before our own stop signal, a kill that stops the container was sent by someone else: the daemon
 * shutting down (a restart), or a person running `docker stop`. The exit that follows says nothing
 * about the app, so no verdict may be drawn from it.
 */
function throwIfStoppedFromOutside(watch: ContainerWatch): void {
  const kill = watch.kills.find((k) => STOPPING.has(k.attributes.signal ?? ''));
  if (kill) {
    throw new ContainerError(`the audited container was stopped from outside the audit (signal ${kill.attributes.signal}: a daemon restart or a \`docker stop\`?); nothing can be concluded from its exit`);
  }
}

/** A probe that throws could not run: its reason is kept for its check; an abort of the audit propagates. */
async function runProbe(work: () => Promise<unknown>, clock: Clock, signal: AbortSignal): Promise<ProbeOutcome> {
  const began = clock.now();
  try {
    const value = await work();
    return { ran: true, value, durationMs: Math.round(clock.now() - began) };
  } catch (err) {
    if (signal.aborted) throw err;
    const e = err as Error;
    const reason = e.name === 'TimeoutError' || e.name === 'AbortError' ? 'the probe did not finish within its bound' : e.message;
    return { ran: false, reason, durationMs: Math.round(clock.now() - began) };
  }
}

/** "Up" without a HEALTHCHECK: a node process is in the table, the table is unchanged between two samples, ≥ 1 s passed. */
async function waitUntilSettled(
  table: ProcessTable,
  pid1: number,
  watch: ContainerWatch,
  at: () => number,
  capMs: number,
  signal: AbortSignal,
  status: (line: string) => void,
): Promise<NonNullable<LifecycleObservation['settle']>> {
  const bound = Math.min(SETTLE.maxMs, capMs);
  for (;;) {
    if (watch.died) return { settledAfterMs: at(), appSeen: false };
    table.sampleInBackground(pid1);
    const stable = await table.stable(pid1).catch(() => undefined);
    if (stable?.tree.app && stable.stable && at() >= SETTLE.minMs) return { settledAfterMs: at(), appSeen: true };
    if (at() >= bound) return { settledAfterMs: at(), appSeen: false, ...(capMs < SETTLE.maxMs ? { cappedAtMs: capMs } : {}) };
    status(`waiting for the app to settle, ${(at() / 1000).toFixed(1)} s of ${(bound / 1000).toFixed(0)} s`);
    await sleep(SETTLE.pollMs, signal);
  }
}
