// One audit's steps, in data-path order: secrets known beforehand → the daemon → target (built or
// inspected) → image facts → observations (files, lifecycles, the checks' own) → checks → report.
// It takes settings already resolved at the edge (src/audit.ts) and reads no option of its own.
import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { docPath, type Check, type CheckInput, type CheckSettings, type Need } from './checks/check.js';
import { applyWaivers } from './checks/waivers.js';
import { currentEnginePort } from './docker/dockerode-port.js';
import type { DaemonInfo, DockerPort } from './docker/port.js';
import { ContainerReaper, reapAbandoned } from './docker/reaper.js';
import { sharingReadsOf } from './docker/shared-reads.js';
import { AuditInterruptedError } from './errors.js';
import { gatherImageBasics, type ImageBasics } from './facts/basics.js';
import type { StageView } from './facts/dockerfile.js';
import { gatherFileFacts, type FileFacts } from './facts/image-facts.js';
import { auditHealthOverride, observeLifecycle, type LifecycleObservation } from './lifecycle/observe.js';
import { PERTURBING_HEAD_START_MS } from './lifecycle/probe.js';
import { manifestContainerOptions } from './manifest/audit-input.js';
import { manifestSummary } from './manifest/select.js';
import type { Redactor } from './redact/redactor.js';
import { buildArgSecrets, configEnvSecrets, dockerfileSecrets, envSecrets, historySecrets } from './redact/secret-values.js';
import { resolveTarget, type ResolvedTarget } from './target/resolve.js';
import type { AuditOptions, AuditReport, CheckId, CheckResult, CheckStatus, TargetSpec } from './types.js';
import { sleep, systemClock, type Clock } from './wait.js';

export interface ResolvedSettings extends CheckSettings {
  healthTimeoutMs: number;
  memoryBytes: number;
  pidsLimit: number;
  network: string;
}

/** What the edge resolved before any daemon call: every value checked, so a bad one is exit 2 at once. */
export interface AuditPlan {
  /** When the audit began (our clock): the report's duration counts from it. */
  began: number;
  settings: ResolvedSettings;
  spec: TargetSpec;
  checks: Check[];
}

export interface AuditDependencies {
  docker?: DockerPort;
  /** How long a perturbing probe's container waits for the shared one before it starts anyway (tests shorten it). */
  perturbingHeadStartMs?: number;
}

type Phase = Need | 'observe';

/** What every step of one audit shares. */
interface AuditRun extends AuditPlan {
  options: AuditOptions;
  deps: AuditDependencies;
  redactor: Redactor;
  docker: DockerPort;
  clock: Clock;
  signal: AbortSignal;
  /** What the selected checks need, together. */
  needs: Set<Need>;
  /** The Dockerfile's stage view, parsed once (context targets). */
  stage: (() => Promise<StageView | undefined>) | undefined;
  /** How long each shared observation took (a check's duration includes those it needed). */
  phaseMs: Partial<Record<Phase, number>>;
}

/** The image under audit: the target resolved, and its basics. */
interface AuditedImage {
  resolved: ResolvedTarget;
  basics: ImageBasics;
}

/** What was observed of the image, once, for every check. */
interface Observations {
  files?: FileFacts;
  lifecycle?: LifecycleObservation;
  /** Why no container was run, when one was needed. */
  lifecycleSkipped?: string;
  /** The lifecycles of the containers of the checks whose probe perturbs, and how long each took. */
  isolated: Map<CheckId, LifecycleObservation>;
  isolatedMs: Map<CheckId, number>;
  daemon?: DaemonInfo;
  /** The checks' own observations (`observe`), and the errors of those that could not observe. */
  observed: Map<CheckId, unknown>;
  observeErrors: Map<CheckId, string>;
}

/** The daemon: its answer to the ping, the sweep of abandoned containers, and its nature. */
interface Daemon {
  pinged: Promise<void>;
  reaped: Promise<number>;
  info: Promise<DaemonInfo | undefined>;
  /** Called once the first app container's start call returned, or once none will start. */
  appStartCalled: () => void;
  appStarted: Promise<void>;
}

export async function runAudit(plan: AuditPlan, options: AuditOptions, deps: AuditDependencies, redactor: Redactor): Promise<AuditReport> {
  const stage = stageOnce(plan.spec);
  await learnInputSecrets(plan, options, redactor, stage);
  announceManifest(plan, options);
  const run = beginRun(plan, options, deps, redactor, stage);
  // The ping answers "is there a daemon?" within its bound. A build must wait for it; an image
  // reference is inspected meanwhile, and an unreachable daemon still gets the ping's message.
  const pinged = run.docker.ping();
  pinged.catch(() => undefined);
  if (plan.spec.kind === 'context') await pinged;
  const daemon = sweepAndAskDaemon(run, pinged);
  // An audit that ends before any container starts still sweeps (in the background, as always).
  const image = await resolveImage(run, daemon).catch((err) => {
    daemon.appStartCalled();
    throw err;
  });
  const observations = await observeImage(run, image, daemon);
  throwIfAborted(run.signal);
  if (observations.kept.length) options.onNotice?.(`kept container(s): ${observations.kept.join(', ')}`);
  const results = await judge(run, image, observations);
  return reportOf(run, image, observations, results);
}

function beginRun(plan: AuditPlan, options: AuditOptions, deps: AuditDependencies, redactor: Redactor, stage: AuditRun['stage']): AuditRun {
  return {
    ...plan,
    options,
    deps,
    redactor,
    stage,
    // As the docker CLI picks it: DOCKER_HOST, DOCKER_CONTEXT, the current context, the default socket.
    docker: deps.docker ?? currentEnginePort(),
    clock: systemClock,
    signal: options.signal ?? new AbortController().signal,
    needs: new Set<Need>(plan.checks.flatMap((c) => c.needs)),
    phaseMs: {},
  };
}

/** Runs `work`, keeping how long it took as the duration of that phase. */
async function timed<T>(run: AuditRun, phase: Phase, work: () => Promise<T>): Promise<T> {
  const start = run.clock.now();
  try {
    return await work();
  } finally {
    run.phaseMs[phase] = Math.round(run.clock.now() - start);
  }
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new AuditInterruptedError(String(signal.reason?.message ?? signal.reason ?? 'aborted'));
}

/**
 * The Dockerfile of a context target, parsed once for the whole audit (the redactor's feed, the checks'
 * locations, the observers that read instructions). Undefined when it cannot be read or parsed: the
 * build reports that, and nothing is located in it.
 */
function stageOnce(spec: TargetSpec): (() => Promise<StageView | undefined>) | undefined {
  if (spec.kind !== 'context') return undefined;
  let parsed: Promise<StageView | undefined> | undefined;
  return () =>
    (parsed ??= (async () => {
      try {
        const dockerfile = spec.dockerfile ?? 'Dockerfile';
        const { stageView } = await import('./facts/dockerfile.js');
        return stageView(dockerfile, readFileSync(path.resolve(spec.dir, dockerfile), 'utf8'), spec.buildTarget);
      } catch {
        return undefined;
      }
    })());
}

/** What the audit knows is secret before anything runs: --env and --build-arg values, the Dockerfile's ENV and ARG defaults, the manifest's env. */
async function learnInputSecrets({ spec, settings }: AuditPlan, options: AuditOptions, redactor: Redactor, stage: AuditRun['stage']): Promise<void> {
  redactor.addAll(envSecrets(options.env));
  if (spec.kind === 'context') {
    redactor.addAll(buildArgSecrets(spec.buildArgs));
    redactor.addAll(dockerfileSecrets((await stage?.())?.assignments ?? []));
  }
  // The manifest's env values are as sensitive as --env.
  if (settings.manifest) redactor.addAll(envSecrets(settings.manifest.run.env));
}

function announceManifest({ settings: { manifest } }: AuditPlan, options: AuditOptions): void {
  if (!manifest) return;
  options.onNotice?.(`running ${manifest.container.name} of ${manifest.kind}/${manifest.workload} as the manifest says: ${manifest.taken.join('; ') || 'nothing to change'}${manifest.notReproducible.length ? ` (not reproducible: ${manifest.notReproducible.join('; ')})` : ''}`);
}

/**
 * Containers of audits whose process is gone (SIGKILL, a daemon restart) are removed on the way, and
 * the daemon's nature is asked when a container will run. Neither is needed before the app runs, so
 * both wait for its start call to return: asked beside the creates, they slowed the app's create on 2
 * cores (30–32 ms against 16–19 ms in traces), while the wait for the app after its start is mostly idle.
 */
function sweepAndAskDaemon({ docker, needs, signal }: AuditRun, pinged: Promise<void>): Daemon {
  let appStartCalled: () => void = () => undefined;
  const appStarted = new Promise<void>((resolve) => (appStartCalled = resolve));
  const asked = Promise.all([pinged, appStarted]);
  const reaped = asked.then(() => reapAbandoned(docker, { signal })).catch(() => 0);
  const info: Promise<DaemonInfo | undefined> = runsContainer(needs) ? asked.then(() => docker.info()).catch(() => undefined) : Promise.resolve(undefined);
  return { pinged, reaped, info, appStartCalled, appStarted };
}

const runsContainer = (needs: Iterable<Need>) => [...needs].some((n) => n === 'lifecycle' || n === 'runtime');

/** The target built (a context) or inspected (a reference), then its basics (image facts from the daemon alone). */
async function resolveImage(run: AuditRun, daemon: Daemon): Promise<AuditedImage> {
  const { docker, spec, options, signal, redactor } = run;
  options.onStatus?.(spec.kind === 'context' ? `building ${spec.dir}` : `inspecting ${spec.ref}`);
  const resolved = await resolveTarget(docker, spec, run.settings.builder, options.onBuildProgress, signal);
  throwIfAborted(signal);
  const gathering = timed(run, 'image', () => gatherImageBasics(docker, resolved.imageRef));
  gathering.catch(() => undefined); // the ping's error, when there is one, is the one to report
  await daemon.pinged;
  const basics = await gathering;
  throwIfAborted(signal);
  redactor.addAll([...configEnvSecrets(basics.image.config.env), ...historySecrets(basics.history.map((l) => l.createdBy))]);
  return { resolved, basics };
}

/** What the observing steps share: the audit's containers, the signal they run under, and what they saw. */
interface Observing {
  run: AuditRun;
  image: AuditedImage;
  reaper: ContainerReaper;
  /** The audit's signal, or a failing sibling branch: an audit that cannot complete stops everything at once. */
  work: AbortSignal;
  /** The files container for reads, once an app container started (or none will). */
  filesContainer?: () => Promise<string>;
  /** The port the file reads go through: the files container's small reads are shared by everything that reads them. */
  filesDocker: DockerPort;
  /** Called once the first app container's start call returned. */
  appStartCalled: () => void;
  /** Why the runtime cannot be read on this daemon (user namespaces, rootless), once it is known. */
  runtimeUnavailable: Promise<string | undefined>;
  seen: Observations;
}

/**
 * Files, lifecycles and the checks' own observations, side by side; every container the audit made is
 * removed at the end (with one more sweep of abandoned ones).
 */
async function observeImage(run: AuditRun, image: AuditedImage, daemon: Daemon): Promise<Observations & { kept: string[] }> {
  const { docker, signal, options } = run;
  const seen: Observations = { isolated: new Map(), isolatedMs: new Map(), observed: new Map(), observeErrors: new Map() };
  const reaper = new ContainerReaper(docker, options.keep ?? false);
  const sibling = new AbortController();
  const work = AbortSignal.any([signal, sibling.signal]);
  // Every concurrent read and wait listens on the same signal: dozens of listeners are expected here.
  setMaxListeners(200, work, signal);
  try {
    const filesContainer = createFilesContainer(run, image, reaper);
    let filesContainerId: string | undefined;
    filesContainer?.then((id) => void (filesContainerId = id), () => undefined);
    // File reads wait for the app's start: each archive read of the files container makes the daemon
    // mount its rootfs and run a helper, which on 2 cores slowed the start call by ~0.4 s (measured).
    const { appStartCalled, appStarted } = daemon;
    seen.lifecycleSkipped = nothingToRun(run, image.basics);
    const observing: Observing = {
      run,
      image,
      reaper,
      work,
      filesContainer: filesContainer && (() => appStarted.then(() => filesContainer)),
      filesDocker: sharingReadsOf(docker, () => filesContainerId),
      appStartCalled,
      // The daemon's nature matters only once the app is up: it is not waited for before the create.
      runtimeUnavailable: daemon.info.then((info) =>
        info?.userns || info?.rootless ? `the daemon runs ${info.userns ? 'with user namespaces' : 'rootless'}: uids seen from the host are not the container's` : undefined,
      ),
      seen,
    };
    const guard = <T>(branch: Promise<T>) =>
      branch.catch((err) => {
        sibling.abort(err);
        throw err;
      });
    const lifecycles = observeLifecycles(observing);
    const shared = guard(lifecycles.shared);
    const isolated = guard(lifecycles.isolated);
    // File reads go once a container started, or once no container will.
    void Promise.allSettled([shared, isolated]).then(appStartCalled);
    [seen.files, seen.lifecycle] = await Promise.all([guard(gatherFiles(observing)), shared, guard(runObservers(observing)), isolated]).then(([f, l]) => [f, l] as const);
    if (seen.lifecycle || seen.isolated.size) seen.daemon = await daemon.info;
  } finally {
    // An observation that failed before any start lets the waiting sweep go (it is awaited just below).
    daemon.appStartCalled();
    // The sweep of abandoned containers runs once more at the end: a killed auditor's create that was
    // still in flight at the first sweep has landed by now (each sweep also holds while one is listed).
    await Promise.all([reaper.release(), daemon.reaped.then(() => reapAbandoned(docker, { signal })).catch(() => 0)]);
  }
  return { ...seen, kept: reaper.kept };
}

/**
 * A container of the image that is never started, for file reads (so an entrypoint that rewrites
 * /etc/passwd or node_modules cannot race the facts); none when no check reads files.
 */
function createFilesContainer({ docker, needs, checks }: AuditRun, { basics }: AuditedImage, reaper: ContainerReaper): Promise<string> | undefined {
  if (!needs.has('files') && !checks.some((c) => c.observe)) return undefined;
  const created = docker
    .createContainer({ image: basics.image.id, env: [], labels: reaper.labels, entrypoint: ['/image-audit: never started'], cmd: [], network: 'none' })
    .then((id) => (reaper.track(id), id));
  created.catch(() => undefined);
  return created;
}

/** Why no container can run the app, when one is needed. */
function nothingToRun({ needs, settings }: AuditRun, basics: ImageBasics): string | undefined {
  const config = basics.image.config;
  if (runsContainer(needs) && !config.entrypoint.length && !config.cmd.length && !settings.manifest?.run.entrypoint?.length && !settings.manifest?.run.cmd?.length) {
    return 'the image has no CMD or ENTRYPOINT: there is nothing to run';
  }
  return undefined;
}

/**
 * The shared container's lifecycle, for every check whose probe does not perturb the app; and one
 * container for each check whose probe does (connections of its own, a frozen app, its own stop
 * signal), created like the shared one and started once the shared one has exited (or after a head
 * start, for an app slow to come up), so the shared lifecycle is the one an audit without them sees
 * (docs/design.md, "How probes are isolated"). The check declares it (`probe.perturbs`); nothing here
 * names a check.
 */
function observeLifecycles(observing: Observing): { shared: Promise<LifecycleObservation | undefined>; isolated: Promise<void> } {
  const { checks } = observing.run;
  let sharedEnded: () => void = () => undefined;
  const sharedDone = new Promise<void>((resolve) => (sharedEnded = resolve));
  const shared = observeSharedLifecycle(observing, checks.filter((c) => !c.probe?.perturbs)).finally(() => sharedEnded());
  const isolated = observeIsolatedLifecycles(observing, checks.filter((c) => c.probe?.perturbs), sharedDone);
  return { shared, isolated };
}

async function observeSharedLifecycle(observing: Observing, shared: Check[]): Promise<LifecycleObservation | undefined> {
  const { run, seen } = observing;
  const sharedNeeds = new Set<Need>(shared.flatMap((c) => c.needs));
  if (seen.lifecycleSkipped || !runsContainer(sharedNeeds)) return undefined;
  return timed(run, 'lifecycle', () => observeContainer(observing, shared, sharedNeeds.has('runtime'), run.options.onStatus));
}

/** A perturbing probe's container that cannot be observed is that check's `error`, not the audit's. */
async function observeIsolatedLifecycles(observing: Observing, perturbing: Check[], sharedDone: Promise<void>): Promise<void> {
  const { run, work, seen } = observing;
  if (!perturbing.length || seen.lifecycleSkipped) return;
  const headStart = new AbortController();
  await Promise.race([sharedDone, sleep(run.deps.perturbingHeadStartMs ?? PERTURBING_HEAD_START_MS, AbortSignal.any([work, headStart.signal])).catch(() => undefined)]);
  headStart.abort();
  if (work.aborted) throw work.reason;
  await Promise.all(
    perturbing.map(async (check) => {
      const began = run.clock.now();
      try {
        const onStatus = run.options.onStatus && ((line: string) => run.options.onStatus!(`${check.id}'s container: ${line}`));
        seen.isolated.set(check.id, await observeContainer(observing, [check], check.needs.includes('runtime'), onStatus));
      } catch (err) {
        if (work.aborted) throw err;
        seen.observeErrors.set(check.id, `its own container could not be observed: ${(err as Error).message}`);
      } finally {
        seen.isolatedMs.set(check.id, Math.round(run.clock.now() - began));
      }
    }),
  );
}

/** A container of the image, created with the audit's options and labels, observed from start to exit with these checks' probes. */
async function observeContainer(observing: Observing, probing: Check[], runtime: boolean, onStatus: ((line: string) => void) | undefined): Promise<LifecycleObservation> {
  const { run, reaper, image } = observing;
  const { docker, settings, options } = run;
  const { basics } = image;
  const config = basics.image.config;
  const healthcheck = config.healthcheck;
  const containerId = await docker.createContainer({
    image: basics.image.id,
    env: envList({ ...settings.manifest?.run.env, ...options.env }),
    labels: reaper.labels,
    ...(settings.manifest ? manifestContainerOptions(settings.manifest) : {}),
    healthcheck: healthcheck && auditHealthOverride(healthcheck),
    memoryBytes: settings.memoryBytes,
    pidsLimit: settings.pidsLimit,
    network: settings.network,
  });
  reaper.track(containerId);
  return observeLifecycle(docker, {
    containerId,
    basics,
    stopSignal: config.stopSignal,
    healthcheck,
    shutdownBudgetMs: settings.shutdownBudgetMs,
    healthTimeoutMs: settings.healthTimeoutMs,
    runtime,
    runtimeUnavailable: observing.runtimeUnavailable,
    probes: probing.filter((c) => c.probe).map((c) => ({ id: c.id, probe: c.probe! })),
    probeSettings: { shutdownBudgetMs: settings.shutdownBudgetMs, port: settings.port ?? exposedTcpPort(config.exposedPorts), drainPath: settings.drainPath, manifest: settings.manifest, deep: settings.deep },
    signal: observing.work,
    clock: run.clock,
    onStatus,
    helpers: { labels: reaper.labels, track: (id) => reaper.track(id) },
    // The first container started lets the file reads go.
    onStarted: observing.appStartCalled,
  });
}

function envList(env: Record<string, string> | undefined): string[] {
  return Object.entries(env ?? {}).map(([key, value]) => `${key}=${value}`);
}

/** The image's first EXPOSEd TCP port, e.g. "3000/tcp" → 3000. */
function exposedTcpPort(exposed: string[]): number | undefined {
  const tcp = exposed.map((p) => /^(\d+)(?:\/tcp)?$/.exec(p)).find(Boolean);
  return tcp ? Number(tcp[1]) : undefined;
}

/** The file facts, read from the files container (the image export of `secrets` does not use it, so it does not wait). */
async function gatherFiles({ run, image, filesContainer, filesDocker, work }: Observing): Promise<FileFacts | undefined> {
  if (!filesContainer) return undefined;
  const id = await filesContainer();
  return run.needs.has('files') ? timed(run, 'files', () => gatherFileFacts(filesDocker, id, image.basics, image.resolved.contextDir, work)) : undefined;
}

/** Each check's own observation (`observe`), once, side by side; one that fails is that check's `error`. */
async function runObservers({ run, image, filesContainer, filesDocker, work, seen }: Observing): Promise<void> {
  const observers = run.checks.filter((c) => c.observe);
  if (!observers.length) return;
  const { basics, resolved } = image;
  await timed(run, 'observe', () =>
    Promise.all(
      observers.map(async (check) => {
        try {
          seen.observed.set(
            check.id,
            await check.observe!({
              docker: filesDocker,
              basics,
              imageRef: basics.image.id,
              target: run.spec,
              contextDir: resolved.contextDir,
              dockerfile: resolved.dockerfile,
              builtContext: resolved.context,
              filesContainer,
              stage: run.stage,
              signal: work,
              settings: run.settings,
              onStatus: run.options.onStatus,
            }),
          );
        } catch (err) {
          if (work.aborted) throw err;
          seen.observeErrors.set(check.id, (err as Error).message);
        }
      }),
    ),
  );
}

/** Every check run on the same observations (the app's logs redacted first), located in the Dockerfile, waivers applied. */
async function judge(run: AuditRun, { basics, resolved }: AuditedImage, seen: Observations): Promise<CheckResult[]> {
  const { redactor, settings } = run;
  // The app's logs are redacted before any check quotes (and cuts) a line of them.
  const redactLogs = (life: LifecycleObservation) => ({ ...life, logs: life.logs.map((line) => redactor.redact(line)) });
  if (seen.lifecycle) seen.lifecycle = redactLogs(seen.lifecycle);
  for (const [id, life] of seen.isolated) seen.isolated.set(id, redactLogs(life));
  // A check whose probe perturbs judges the container it ran on, and its observation took that long.
  const ownLifecycle = (check: Check) => (check.probe?.perturbs ? { lifecycle: seen.isolated.get(check.id) } : {});
  const ownPhases = (check: Check) => (check.probe?.perturbs ? { ...run.phaseMs, lifecycle: seen.isolatedMs.get(check.id) } : run.phaseMs);
  const daemon = seen.daemon;
  const input: Omit<CheckInput, 'observed'> = {
    basics,
    files: seen.files,
    lifecycle: seen.lifecycle,
    settings,
    daemon: daemon && { userns: daemon.userns, rootless: daemon.rootless, engine: daemon.engine },
  };
  const view = resolved.contextDir && resolved.dockerfile ? await run.stage?.() : undefined;
  return applyWaivers(
    run.checks.map((check) => {
      const { secrets, ...result } = runCheck(check, { ...input, ...ownLifecycle(check), observed: seen.observed.get(check.id) }, ownPhases(check), seen.lifecycleSkipped, seen.observeErrors.get(check.id));
      redactor.addAll(secrets ?? []);
      const location = result.location ?? (view && check.locate ? check.locate(view, basics) ?? view.from : undefined);
      return location ? { ...result, location } : result;
    }),
    run.options.waivers,
    run.options.now,
  );
}

/** A check that throws could not run: that is an `error` verdict, never a crash of the audit. */
function runCheck(
  check: Check,
  input: CheckInput,
  phaseMs: Partial<Record<Phase, number>>,
  lifecycleSkipped: string | undefined,
  observeError: string | undefined,
): CheckResult & { secrets?: string[] } {
  const start = systemClock.now();
  let verdict;
  if (lifecycleSkipped && runsContainer(check.needs)) verdict = { status: 'error' as const, message: `could not observe the running app: ${lifecycleSkipped}`, evidence: {} };
  else if (observeError) verdict = { status: 'error' as const, message: `could not observe: ${observeError}`, evidence: {} };
  else {
    try {
      verdict = check.run(input);
    } catch (err) {
      verdict = { status: 'error' as const, message: `the check could not run: ${(err as Error).message}`, evidence: {} };
    }
  }
  // The observations a check needed are shared, so these durations overlap between checks.
  const observedMs = [...check.needs, ...(check.observe ? (['observe'] as const) : [])].reduce((sum, need) => sum + (phaseMs[need] ?? 0), 0);
  return { id: check.id, title: check.title, ...verdict, doc: docPath(check.id), durationMs: Math.round(observedMs + systemClock.now() - start) };
}

function reportOf(run: AuditRun, { basics, resolved }: AuditedImage, seen: Observations, results: CheckResult[]): AuditReport {
  const { spec, settings } = run;
  return {
    target: spec.kind === 'context' ? spec.dir : spec.ref,
    source: resolved.contextDir && resolved.dockerfile ? { contextDir: resolved.contextDir, dockerfile: resolved.dockerfile } : undefined,
    image: { id: basics.image.id, tags: basics.image.tags, sizeBytes: basics.image.sizeBytes },
    checks: results,
    summary: summarise(results),
    durationMs: Math.round(run.clock.now() - run.began),
    observed: {
      timeline: (seen.lifecycle ?? seen.isolated.values().next().value)?.timeline ?? [],
      layers: basics.history.map((l) => ({ createdBy: l.createdBy, sizeBytes: l.sizeBytes })),
      limits: { sizeBudgetBytes: settings.sizeBudgetBytes, shutdownBudgetMs: settings.shutdownBudgetMs, healthTimeoutMs: settings.healthTimeoutMs, memoryBytes: settings.memoryBytes, pidsLimit: settings.pidsLimit, network: settings.network },
      ...(settings.manifest ? { manifest: manifestSummary(settings.manifest) } : {}),
    },
  };
}

export function summarise(results: CheckResult[]): Record<CheckStatus, number> {
  const summary: Record<CheckStatus, number> = { pass: 0, fail: 0, warn: 0, skip: 0, error: 0, waived: 0 };
  for (const r of results) summary[r.status]++;
  return summary;
}
