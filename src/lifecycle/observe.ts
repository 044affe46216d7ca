// One observed container lifecycle, shared by every runtime check (a check whose probe perturbs the app
// gets a lifecycle of its own, on a container of its own: see `LiveProbe.perturbs`):
// start → wait until up (healthy, or settled) → stable process table → (runtime) → probes → stop → exit.
// Each step is a function below, handed the run's shared state (`Run`); everything is recorded as
// timestamped events; nothing here decides a verdict.
import type { ContainerState, DockerPort, HealthcheckConfig } from '../docker/port.js';
import { ContainerError } from '../errors.js';
import type { ImageBasics } from '../facts/basics.js';
import { unobserved } from '../observed.js';
import { sleep, systemClock, type Clock } from '../wait.js';
import { watchContainer, type ContainerWatch } from './events.js';
import { earlyExit, throwIfStoppedFromOutside, type EarlyExit } from './exit.js';
import { cutLine } from './text.js';
import { waitUntilHealthy, type HealthObservation } from './health-wait.js';
import { runProbe, type LiveContext, type LiveProbe, type ProbeOutcome, type ProbeSettings } from './probe.js';
import { ProcessTable } from './process-table.js';
import { buildProcessTree, type ProcessTree } from './process-tree.js';
import { observeRuntime, type AppRuntime } from './runtime.js';
import { waitUntilSettled, type SettleObservation } from './settle.js';
import { measureShutdown, type ShutdownObservation } from './shutdown.js';

export { auditHealthOverride, AUDIT_HEALTH_INTERVAL_MS } from './health-wait.js';
export type { HealthObservation } from './health-wait.js';
export type { ShutdownObservation } from './shutdown.js';
export { earlyExit, type EarlyExit } from './exit.js';

const LOG_TAIL = 20;
const LOG_LINE_CHARS = 500;

export interface TimelineEvent {
  /** Milliseconds since the container was started. */
  atMs: number;
  event: string;
  detail?: string;
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
  settle?: SettleObservation;
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

/** What the steps of one observation share: the container, its events, the record being written, and its clock. */
interface Run {
  readonly docker: DockerPort;
  readonly opts: ObserveOptions;
  readonly containerId: string;
  readonly signal: AbortSignal;
  readonly clock: Clock;
  readonly watch: ContainerWatch;
  readonly observation: LifecycleObservation;
  /** Our clock when the start call returned: the timeline's zero. */
  began: number;
  /** The engine's StartedAt (epoch ms): the daemon's own times (health transitions, an exit) count from it. */
  startedAtMs: number;
  /** Work started alongside the wait for "up" (probes, the runtime read): stopped and awaited when the observation ends. */
  readonly early: { abort: AbortController; runs: Array<Promise<void>> };
  /** ms since `began`. */
  at(): number;
  record(event: string, detail?: string): void;
  status(line: string): void;
}

export async function observeLifecycle(docker: DockerPort, opts: ObserveOptions): Promise<LifecycleObservation> {
  refuseCrowdedPerturbingProbe(opts.probes);
  const run = beginRun(docker, opts);
  try {
    const started = await start(run);
    if (!started) return await finish(run);
    const table = new ProcessTable(docker, run.containerId, run.at, run.signal);
    startProbesDuringStartup(run, started.pid);
    const earlyRuntime = opts.runtime ? readRuntimeEarly(run, table) : undefined;
    if ((await waitUntilUp(run, table, started.pid)) === 'exited') return await finish(run);
    const stable = await stableProcesses(run, table, started.pid);
    if (!stable) return await finish(run);
    if (opts.runtime) await readRuntime(run, stable, earlyRuntime);
    await probeWhileUp(run, stable);
    if (run.watch.died && (await exitedNow(run))) return await finish(run);
    await stopAndWatchExit(run, stable);
    return await finish(run);
  } finally {
    run.watch.close();
  }
}

function refuseCrowdedPerturbingProbe(probes: ObserveOptions['probes']): void {
  const perturbing = probes.find(({ probe }) => probe.perturbs);
  if (perturbing && probes.length > 1) {
    throw new Error(`internal: the ${perturbing.id} probe perturbs the app and must run alone on its container (with ${probes.filter((p) => p !== perturbing).map((p) => p.id).join(', ')})`);
  }
}

function beginRun(docker: DockerPort, opts: ObserveOptions): Run {
  const { containerId, signal } = opts;
  const clock = opts.clock ?? systemClock;
  const timeline: TimelineEvent[] = [];
  const run: Run = {
    docker,
    opts,
    containerId,
    signal,
    clock,
    watch: watchContainer(docker, containerId, signal),
    observation: { containerId, timeline, logs: [], durationMs: 0, probes: {} },
    began: clock.now(),
    startedAtMs: Date.now(),
    early: { abort: new AbortController(), runs: [] },
    at: () => Math.round(clock.now() - run.began),
    record: (event, detail) => void timeline.push({ atMs: run.at(), event, detail }),
    // Every status goes out; a consumer without a terminal (the CLI in CI) decides how often to print.
    status: (line) => opts.onStatus?.(line),
  };
  return run;
}

/** The start call, then the engine's view of the started container; undefined when the daemon refused to start it. */
async function start(run: Run): Promise<ContainerState | undefined> {
  const { docker, containerId, signal, observation, opts } = run;
  try {
    await docker.startContainer(containerId);
  } catch (err) {
    opts.onStarted?.();
    if (signal.aborted) throw err;
    observation.startError = (err as Error).message.replace(/^Docker refused starting the container: /, '');
    run.record('start-failed', observation.startError);
    return undefined;
  }
  run.began = run.clock.now();
  opts.onStarted?.();
  run.record('started');
  const started = await docker.inspectContainer(containerId, { signal });
  run.startedAtMs = Date.parse(started.startedAt) || Date.now();
  return started;
}

/** Probes that need only a running container start now, alongside the wait for "up". */
function startProbesDuringStartup(run: Run, pid1: number): void {
  const early = run.opts.probes.filter(({ probe }) => probe.duringStartup && probe.whileUp);
  for (const { id, probe } of early) {
    const outcome = runProbe(
      async () => {
        const rows = await run.docker.processes(run.containerId, { signal: run.signal });
        const tree = buildProcessTree(rows, pid1);
        if (!tree) throw new Error('the container had no process to start from');
        return probe.whileUp!(liveContext(run, AbortSignal.any([bounded(run, probe.timeoutMs), run.early.abort.signal]), tree));
      },
      run.clock,
      run.signal,
    ).then((outcome) => void (run.observation.probes[id] = outcome));
    outcome.catch(() => undefined);
    run.early.runs.push(outcome);
  }
  if (early.length) run.observation.earlyProbesStartedAtMs = run.at();
}

/** The runtime read started early, for the app a sample showed; `readRuntime` keeps it only for the same app. */
interface EarlyRuntime {
  read?: { hostPid: number; user: string; result: Promise<AppRuntime> };
  stopLooking(): void;
}

/** The runtime read starts as soon as a sample shows a node app, alongside the wait for "up". */
function readRuntimeEarly(run: Run, table: ProcessTable): EarlyRuntime {
  const looking = new AbortController();
  const early: EarlyRuntime = { stopLooking: () => looking.abort() };
  const stopped = () => run.early.abort.signal.aborted || looking.signal.aborted;
  const lookForApp = async () => {
    while (!stopped() && !early.read) {
      const latest = table.latest;
      const app = latest && buildProcessTree(latest.rows, latest.pid1)?.app;
      if (app) {
        const result = observeRuntime(run.docker, run.containerId, app, AbortSignal.any([run.signal, run.early.abort.signal]));
        result.catch(() => undefined);
        early.read = { hostPid: app.hostPid, user: `${app.uid}:${app.gid}`, result };
        return;
      }
      await sleep(100, AbortSignal.any([run.early.abort.signal, looking.signal])).catch(() => undefined);
    }
  };
  run.early.runs.push(lookForApp());
  return early;
}

/** Healthy (or the health wait's end) with a HEALTHCHECK, settled without; 'exited' when the container stopped meanwhile. */
async function waitUntilUp(run: Run, table: ProcessTable, pid1: number): Promise<'running' | 'exited'> {
  const { observation, opts } = run;
  if (opts.healthcheck) {
    const health = await waitUntilHealthySampling(run, table, pid1, opts.healthcheck);
    observation.health = health;
    for (const t of health.transitions) observation.timeline.push({ atMs: t.atMs, event: `health:${t.status}` });
    if (health.outcome === 'starting') run.record('health:deadline', `not healthy after ${run.at()} ms`);
    return health.outcome === 'exited' && (await exitedNow(run)) ? 'exited' : 'running';
  }
  const settled = await waitUntilSettled({ table, pid1, watch: run.watch, elapsedMs: run.at, capMs: opts.healthTimeoutMs, signal: run.signal, onStatus: run.status });
  observation.settle = settled;
  run.record(
    'settled',
    !settled.appSeen
      ? 'no node process seen; going on after the settle bound'
      : settled.busyAtBound
        ? `the app was still busy (ps state ${settled.busyAtBound}) at the settle bound; going on`
        : settled.idleUnobserved && `the app's idleness was not observed (${settled.idleUnobserved}): settled on a stable process table`,
  );
  return run.watch.died && (await exitedNow(run)) ? 'exited' : 'running';
}

/** The health wait, with the process table sampled meanwhile, off the critical path. */
async function waitUntilHealthySampling(run: Run, table: ProcessTable, pid1: number, configured: HealthcheckConfig): Promise<HealthObservation> {
  const sampler = setInterval(() => table.sampleInBackground(pid1), 400);
  table.sampleInBackground(pid1);
  try {
    return await waitUntilHealthy({
      docker: run.docker,
      containerId: run.containerId,
      configured,
      capMs: run.opts.healthTimeoutMs,
      watch: run.watch,
      startedAtMs: run.startedAtMs,
      elapsedMs: run.at,
      signal: run.signal,
      onStatus: run.status,
    });
  } finally {
    clearInterval(sampler);
  }
}

/** The stable process table, while the app runs; undefined when the container exited instead. */
async function stableProcesses(run: Run, table: ProcessTable, pid1: number): Promise<ProcessTree | undefined> {
  const { observation, signal } = run;
  const stable = await table.stable(pid1).catch(async (err) => {
    if (signal.aborted) throw err;
    return undefined;
  });
  if (!stable) {
    if (await exitedNow(run)) return undefined;
    throw new ContainerError('Docker could not list the processes of the running container');
  }
  observation.processes = stable.tree;
  observation.processesUnstable = !stable.stable || undefined;
  observation.timeline.push({ atMs: stable.atMs, event: 'processes', detail: `${stable.tree.all.length} processes${stable.stable ? '' : ', still changing'}` });
  return stable.tree;
}

/** The app from inside, for the checks that need it: the early read when it saw this app, else a read now. */
async function readRuntime(run: Run, processes: ProcessTree, early: EarlyRuntime | undefined): Promise<void> {
  const { observation, signal } = run;
  early?.stopLooking();
  const unavailable = await run.opts.runtimeUnavailable;
  const app = processes.app;
  if (!app) {
    observation.runtimeError = 'no node process was found in the container';
    return;
  }
  if (unavailable) {
    observation.runtimeError = unavailable;
    return;
  }
  try {
    // The same process (a retitle changes its args, not its pid), still with the uid the read ran as.
    const read = early?.read;
    const earlyResult = read?.hostPid === app.hostPid && read.user === `${app.uid}:${app.gid}` ? await read.result.catch(() => undefined) : undefined;
    observation.runtime = earlyResult ?? (await observeRuntime(run.docker, run.containerId, app, signal));
    run.record('runtime', `app pid ${observation.runtime.pid} in the container, ${observation.runtime.nodeVersion.ok ? observation.runtime.nodeVersion.value : 'node version unknown'}`);
  } catch (err) {
    if (signal.aborted) throw err;
    observation.runtimeError = (err as Error).message;
  }
}

/** The probes started during startup are awaited; then the others run while up, one after another, each bounded. */
async function probeWhileUp(run: Run, processes: ProcessTree): Promise<void> {
  const { probes } = run.opts;
  await Promise.all(run.early.runs);
  if (probes.some(({ probe }) => !probe.duringStartup)) healthSeenBeforeProbes(run);
  for (const { id, probe } of probes) {
    if (!probe.whileUp || probe.duringStartup) continue;
    run.status(`probing ${id}`);
    run.observation.probes[id] = await runProbe(() => probe.whileUp!(liveContext(run, bounded(run, probe.timeoutMs), processes)), run.clock, run.signal);
  }
}

/** The stop signal, with the probes that watch it armed first and collected after the exit. */
async function stopAndWatchExit(run: Run, processes: ProcessTree): Promise<void> {
  const { clock, signal, observation, opts } = run;
  const collectors: Array<{ id: string; collect: () => Promise<unknown>; began: number }> = [];
  for (const { id, probe } of opts.probes) {
    if (!probe.aroundStop) continue;
    const probeSignal = bounded(run, probe.timeoutMs);
    const began = clock.now();
    const armed = await runProbe(() => probe.aroundStop!(liveContext(run, probeSignal, processes)), clock, signal);
    if (armed.ran) collectors.push({ id, collect: armed.value as () => Promise<unknown>, began });
    else observation.probes[id] = armed;
  }
  run.status(`sent ${opts.stopSignal}, waiting up to ${opts.shutdownBudgetMs / 1000} s for the app to exit`);
  healthSeenBeforeProbes(run);
  const stopped = await measureShutdown({
    docker: run.docker,
    containerId: run.containerId,
    stopSignal: opts.stopSignal,
    budgetMs: opts.shutdownBudgetMs,
    watch: run.watch,
    clock,
    signal,
    record: run.record,
  });
  if (stopped.kind === 'not-running') {
    const state = await run.docker.inspectContainer(run.containerId, { signal });
    noteExit(run, state, true);
  } else observation.shutdown = stopped.shutdown;
  for (const c of collectors) {
    const outcome = await runProbe(c.collect, clock, signal);
    observation.probes[c.id] = { ...outcome, durationMs: Math.round(clock.now() - c.began) };
  }
}

/** The observation ends, at any step: early work stopped, late health transitions and the logs' tail kept. */
async function finish(run: Run): Promise<LifecycleObservation> {
  const { observation, signal, watch } = run;
  if (run.early.runs.length) {
    // The app stopped first: a probe still running has nothing left to observe.
    run.early.abort.abort(new Error('the container stopped before the probe finished'));
    await Promise.allSettled(run.early.runs);
  }
  if (signal.aborted) throw signal.reason;
  // Health transitions after "up" (a flapping probe, the probes' doing, the shutdown) are kept too.
  const health = observation.health;
  if (health) {
    for (const t of watch.transitions.slice(health.transitions.length)) {
      const atMs = Math.max(0, Math.round(t.timeMs - run.startedAtMs));
      health.transitions.push({ status: t.status, atMs });
      observation.timeline.push({ atMs, event: `health:${t.status}` });
    }
  }
  const logs = await run.docker.logs(run.containerId, LOG_TAIL, { signal }).catch((err) => {
    if (signal.aborted) throw err;
    return [] as string[];
  });
  // One 5 MB log line must not make a 5 MB report: every quoted line is cut the same way.
  observation.logs = logs.map((line) => cutLine(line, LOG_LINE_CHARS));
  observation.durationMs = run.at();
  observation.timeline.sort((a, b) => a.atMs - b.atMs);
  return observation;
}

/** What a probe gets: this container, bounded by `probeSignal`, with what has been observed so far. */
function liveContext(run: Run, probeSignal: AbortSignal, processes: ProcessTree): LiveContext {
  const { docker, containerId, opts, observation } = run;
  return {
    containerId,
    docker,
    signal: probeSignal,
    clock: run.clock,
    basics: opts.basics,
    processes,
    runtime: observation.runtime,
    health: observation.health,
    watch: run.watch,
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
    record: run.record,
    atMs: run.at,
  };
}

/** The audit's signal, bounded by `ms`. */
const bounded = (run: Run, ms: number) => AbortSignal.any([run.signal, AbortSignal.timeout(ms)]);

/**
 * How many health transitions came before the probes. Counted, not timed: transitions carry the daemon's
 * clock, our moments ours, and the start call's latency lies between the two (a loaded host once put
 * "healthy" after the probes' start that way).
 */
function healthSeenBeforeProbes(run: Run): void {
  const health = run.observation.health;
  if (health && health.transitionsBeforeProbes === undefined) health.transitionsBeforeProbes = run.watch.transitions.length;
}

/** The container stopped by itself: its exit code, time and OOM kill as the engine reported them. */
function noteExit(run: Run, state: ContainerState, beforeSignal = false): void {
  // A 409 on the stop signal while the engine says running (a paused container): no exit was seen.
  const exit = state.running
    ? { exitCode: unobserved('the daemon refused the stop signal as if the container had stopped (409), yet says it is still running (paused?)'), afterMs: unobserved('no exit was seen') }
    : earlyExit(state, run.startedAtMs);
  run.observation.exitedEarly = { ...exit, oomKilled: state.oomKilled, beforeSignal };
  run.record('exited', `${exit.exitCode.ok ? `code ${exit.exitCode.value}` : 'code unknown'}${state.oomKilled ? ', out of memory' : ''}`);
}

/** Whether the container has exited (noted), after refusing an exit someone else caused. */
async function exitedNow(run: Run): Promise<boolean> {
  const state = await run.docker.inspectContainer(run.containerId, { signal: run.signal });
  if (state.running) return false;
  throwIfStoppedFromOutside(run.watch);
  noteExit(run, state);
  return true;
}
