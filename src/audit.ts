// The audit: target → image facts → one observed lifecycle → checks → report.
import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { StageView } from './facts/dockerfile.js';
import { docPath, type Check, type CheckInput, type CheckSettings, type Need } from './checks/check.js';
import { CHECKS, CHECK_IDS } from './checks/registry.js';
import { applyWaivers, waiverProblems } from './checks/waivers.js';
import { currentEnginePort } from './docker/dockerode-port.js';
import type { DaemonInfo, DockerPort } from './docker/port.js';
import { ContainerReaper, reapAbandoned } from './docker/reaper.js';
import { AuditInterruptedError, UsageError } from './errors.js';
import { gatherFileFacts, gatherImageBasics, type FileFacts } from './facts/image-facts.js';
import { checkOptions } from './config/rules.js';
import { Redactor } from './redact/redactor.js';
import { buildArgSecrets, configEnvSecrets, dockerfileSecrets, envSecrets, historySecrets } from './redact/secret-values.js';
import { auditHealthOverride, observeLifecycle, type LifecycleObservation } from './lifecycle/observe.js';
import { PERTURBING_HEAD_START_MS } from './lifecycle/probe.js';
import { parseTarget, resolveTarget } from './target/resolve.js';
import type { AuditOptions, AuditReport, CheckId, CheckResult, CheckStatus, TargetSpec } from './types.js';
import { parseDuration, parseSize } from './units.js';
import { sleep, systemClock } from './wait.js';
import { manifestContainerOptions, manifestSettings, resolveManifest } from './manifest/audit-input.js';
import { manifestSummary } from './manifest/select.js';

export const DEFAULTS = {
  sizeBudget: '250MB',
  shutdownBudget: '5s',
  init: ['dumb-init'],
  healthTimeout: '2m',
  memory: '1GiB',
  pidsLimit: 512,
  network: 'bridge',
  drainPath: '/',
} as const;

export interface ResolvedSettings extends CheckSettings {
  healthTimeoutMs: number;
  memoryBytes: number;
  pidsLimit: number;
  network: string;
}

/**
 * The settings an audit runs with. Every value is checked by the one rule set of `config/rules.ts`
 * (the CLI, the suite and the config file use it too): a library caller gets the same message,
 * naming the option, e.g. `Bad port 70000 (audit() option "port"): not a TCP port (1-65535)`.
 */
export function resolveSettings(options: AuditOptions): ResolvedSettings {
  const checked = checkOptions(options, (key) => `audit() option "${key}"`);
  const pidsLimit = (checked.pidsLimit ?? DEFAULTS.pidsLimit) as number;
  return {
    sizeBudgetBytes: parseSize(checked.sizeBudget ?? DEFAULTS.sizeBudget)!,
    shutdownBudgetMs: parseDuration(checked.shutdownBudget ?? DEFAULTS.shutdownBudget)!,
    acceptedInits: checked.init?.length ? checked.init : [...DEFAULTS.init],
    healthTimeoutMs: parseDuration(checked.healthTimeout ?? DEFAULTS.healthTimeout)!,
    memoryBytes: parseSize(checked.memory ?? DEFAULTS.memory)!,
    pidsLimit,
    network: checked.network || DEFAULTS.network,
    port: checked.port as number | undefined,
    drainPath: checked.drainPath || DEFAULTS.drainPath,
    deep: checked.deep === true,
    // An escape hatch for daemons whose BuildKit misbehaves (classic semantics differ: see the README).
    builder: process.env.IMAGE_AUDIT_BUILDER === 'classic' ? 'classic' : 'auto',
  };
}

export function selectChecks(only?: string[], skip?: string[], deep = false, manifest = false): Check[] {
  for (const id of [...(only ?? []), ...(skip ?? [])]) {
    if (!CHECK_IDS.includes(id as CheckId)) {
      throw new UsageError(`Unknown check id "${id}": the checks are ${CHECK_IDS.join(', ')}`);
    }
  }
  // A deep probe runs with --deep, or when named in --only.
  // A check about the manifest (k8s-*) is present when one is given, or when named in --only.
  const selected = CHECKS.filter((c) => (only?.length ? only.includes(c.id) : (!c.deep || deep) && (!c.withManifest || manifest)) && !skip?.includes(c.id));
  if (!selected.length) throw new UsageError(`No check left to run: --only ${(only ?? []).join(',') || '(all)'} --skip ${(skip ?? []).join(',')}`);
  return selected;
}

function envList(env: Record<string, string> | undefined): string[] {
  return Object.entries(env ?? {}).map(([key, value]) => `${key}=${value}`);
}

export interface AuditDependencies {
  docker?: DockerPort;
  /** How long a perturbing probe's container waits for the shared one before it starts anyway (tests shorten it). */
  perturbingHeadStartMs?: number;
}

/** The image's first EXPOSEd TCP port, e.g. "3000/tcp" → 3000. */
function exposedTcpPort(exposed: string[]): number | undefined {
  const tcp = exposed.map((p) => /^(\d+)(?:\/tcp)?$/.exec(p)).find(Boolean);
  return tcp ? Number(tcp[1]) : undefined;
}

export async function audit(target: string | TargetSpec, options: AuditOptions = {}, deps: AuditDependencies = {}): Promise<AuditReport> {
  const aborted = () => options.signal?.aborted === true;
  // One redactor for the whole audit (the CLI passes the one that guards its own output): what leaves
  // audit() — the report, every callback line, an error's message — has every known secret masked.
  const redactor = options.redactor ?? new Redactor();
  const redacted = (callback?: (line: string) => void) => callback && ((line: string) => callback(redactor.redact(line)));
  const guarded: AuditOptions = {
    ...options,
    redactor,
    onBuildProgress: redacted(options.onBuildProgress),
    onStatus: redacted(options.onStatus),
    onNotice: redacted(options.onNotice),
  };
  try {
    return redactor.redactDeep(await runAudit(target, guarded, deps, redactor));
  } catch (err) {
    // Whatever failed after an abort (a removed container, a destroyed stream) is the abort's doing.
    if (aborted()) throw err instanceof AuditInterruptedError ? err : new AuditInterruptedError(String(options.signal?.reason?.message ?? options.signal?.reason ?? 'aborted'));
    throw redactError(err, redactor);
  }
}

/** An error leaves audit() with every known secret masked in its message and detail (a failed build quotes its step). */
function redactError(err: unknown, redactor: Redactor): unknown {
  if (!(err instanceof Error) || !redactor.size) return err;
  err.message = redactor.redact(err.message);
  if (err.stack) err.stack = redactor.redact(err.stack);
  const detailed = err as Error & { detail?: unknown; output?: unknown; failingStep?: unknown };
  for (const key of ['detail', 'output'] as const) {
    const lines = detailed[key];
    if (Array.isArray(lines)) lines.splice(0, lines.length, ...lines.map((l) => (typeof l === 'string' ? redactor.redact(l) : l)));
  }
  if (typeof detailed.failingStep === 'string') Object.defineProperty(detailed, 'failingStep', { value: redactor.redact(detailed.failingStep) });
  return err;
}

/** What the audit knows is secret before anything runs: --env and --build-arg values, the Dockerfile's ENV and ARG defaults. */
async function feedInputs(redactor: Redactor, options: AuditOptions, spec: TargetSpec, stage: (() => Promise<StageView | undefined>) | undefined): Promise<void> {
  redactor.addAll(envSecrets(options.env));
  if (spec.kind !== 'context') return;
  redactor.addAll(buildArgSecrets(spec.buildArgs));
  redactor.addAll(dockerfileSecrets((await stage?.())?.assignments ?? []));
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

async function runAudit(target: string | TargetSpec, options: AuditOptions, deps: AuditDependencies, redactor: Redactor): Promise<AuditReport> {
  const clock = systemClock;
  const began = clock.now();
  const signal = options.signal ?? new AbortController().signal;
  const settings = resolveSettings(options);
  const badWaivers = waiverProblems(options.waivers, 'waivers');
  if (badWaivers.length) throw new UsageError(`Bad waiver: ${badWaivers[0]}`, badWaivers.slice(1));
  // Checked with the other options by resolveSettings.
  const buildTimeoutMs = options.buildTimeout === undefined ? undefined : parseDuration(options.buildTimeout);
  const spec = typeof target === 'string' ? parseTarget(target, { ...options, buildTimeoutMs }) : target;
  // --manifest: the container Kubernetes would run (exit 2 now for a bad file or an ambiguous choice).
  const manifest = resolveManifest(options, spec);
  if (manifest) Object.assign(settings, manifestSettings(manifest, options), { manifest });
  const checks = selectChecks(options.only, options.skip, settings.deep, manifest !== undefined);
  const stage = stageOnce(spec);
  await feedInputs(redactor, options, spec, stage);
  // The manifest's env values are as sensitive as --env.
  if (manifest) redactor.addAll(envSecrets(manifest.run.env));
  if (manifest) options.onNotice?.(`running ${manifest.container.name} of ${manifest.kind}/${manifest.workload} as the manifest says: ${manifest.taken.join('; ') || 'nothing to change'}${manifest.notReproducible.length ? ` (not reproducible: ${manifest.notReproducible.join('; ')})` : ''}`);
  // As the docker CLI picks it: DOCKER_HOST, DOCKER_CONTEXT, the current context, the default socket.
  const docker = deps.docker ?? currentEnginePort();
  const needs = new Set<Need>(checks.flatMap((c) => c.needs));
  const phaseMs: Partial<Record<Need | 'observe', number>> = {};
  const timed = async <T>(need: Need | 'observe', work: () => Promise<T>): Promise<T> => {
    const start = clock.now();
    try {
      return await work();
    } finally {
      phaseMs[need] = Math.round(clock.now() - start);
    }
  };
  const throwIfAborted = () => {
    if (signal.aborted) throw new AuditInterruptedError(String(signal.reason?.message ?? signal.reason ?? 'aborted'));
  };

  // The ping answers "is there a daemon?" within its bound. A build must wait for it; an image
  // reference is inspected meanwhile, and an unreachable daemon still gets the ping's message.
  const pinged = docker.ping();
  pinged.catch(() => undefined);
  if (spec.kind === 'context') await pinged;
  // Containers of audits whose process is gone (SIGKILL, a daemon restart) are removed on the way.
  const reaped = pinged.then(() => reapAbandoned(docker, { signal })).catch(() => 0);
  const runsContainer = needs.has('lifecycle') || needs.has('runtime');
  const daemonInfo: Promise<DaemonInfo | undefined> = runsContainer ? pinged.then(() => docker.info()).catch(() => undefined) : Promise.resolve(undefined);
  options.onStatus?.(spec.kind === 'context' ? `building ${spec.dir}` : `inspecting ${spec.ref}`);
  const resolved = await resolveTarget(docker, spec, settings.builder, options.onBuildProgress, signal);
  throwIfAborted();
  const gathering = timed('image', () => gatherImageBasics(docker, resolved.imageRef));
  gathering.catch(() => undefined); // the ping's error, when there is one, is the one to report
  await pinged;
  const basics = await gathering;
  throwIfAborted();
  redactor.addAll([...configEnvSecrets(basics.image.config.env), ...historySecrets(basics.history.map((l) => l.createdBy))]);

  let files: FileFacts | undefined;
  let lifecycle: LifecycleObservation | undefined;
  let lifecycleSkipped: string | undefined;
  /** The lifecycles of the containers of the checks whose probe perturbs, and how long each took. */
  const isolated = new Map<CheckId, LifecycleObservation>();
  const isolatedMs = new Map<CheckId, number>();
  let daemon: DaemonInfo | undefined;
  const observed = new Map<CheckId, unknown>();
  const observeErrors = new Map<CheckId, string>();
  const reaper = new ContainerReaper(docker, options.keep ?? false);
  const config = basics.image.config;
  // One failing branch cancels its siblings: an audit that cannot complete stops everything at once.
  const sibling = new AbortController();
  const work = AbortSignal.any([signal, sibling.signal]);
  // Every concurrent read and wait listens on the same signal: dozens of listeners are expected here.
  setMaxListeners(200, work, signal);
  try {
    const needsFilesContainer = needs.has('files') || checks.some((c) => c.observe);
    // Files are read from a container that is never started, so an entrypoint that rewrites /etc/passwd
    // or node_modules cannot race the facts.
    const filesContainer = needsFilesContainer
      ? docker
          .createContainer({ image: basics.image.id, env: [], labels: reaper.labels, entrypoint: ['/image-audit: never started'], cmd: [], network: 'none' })
          .then((id) => (reaper.track(id), id))
      : undefined;
    filesContainer?.catch(() => undefined);

    // File reads wait for the app's start: each archive read of the files container makes the daemon
    // mount its rootfs and run a helper, which on 2 cores slowed the start call by ~0.4 s (measured).
    let appStartCalled: () => void = () => undefined;
    const appStarted = new Promise<void>((resolve) => (appStartCalled = resolve));
    // The files container for reads: the file facts and every observer that reads files (the image
    // export of `secrets` does not use it, so it does not wait).
    const filesContainerForReads = filesContainer && (() => appStarted.then(() => filesContainer));
    // Probes that perturb the app they run on (connections of their own, a frozen app, their own stop
    // signal) each get a container of their own, created like the shared one and started once the shared
    // one has exited (or after a head start, for an app slow to come up), so the shared lifecycle is the
    // one an audit without them sees (docs/design.md, "How probes are isolated"). The check declares it
    // (`probe.perturbs`); nothing here names a check.
    const perturbing = checks.filter((c) => c.probe?.perturbs);
    const shared = checks.filter((c) => !c.probe?.perturbs);
    const sharedNeeds = new Set<Need>(shared.flatMap((c) => c.needs));
    if (runsContainer && !config.entrypoint.length && !config.cmd.length && !settings.manifest?.run.entrypoint?.length && !settings.manifest?.run.cmd?.length) lifecycleSkipped = 'the image has no CMD or ENTRYPOINT: there is nothing to run';
    // The daemon's nature matters only once the app is up: it is not waited for before the create.
    const runtimeUnavailable = daemonInfo.then((info) =>
      info?.userns || info?.rootless ? `the daemon runs ${info.userns ? 'with user namespaces' : 'rootless'}: uids seen from the host are not the container's` : undefined,
    );
    /** A container of the image, created with the audit's options and labels, observed from start to exit with these checks' probes. */
    const observeContainer = async (probing: Check[], runtime: boolean, onStatus: ((line: string) => void) | undefined): Promise<LifecycleObservation> => {
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
        runtimeUnavailable,
        probes: probing.filter((c) => c.probe).map((c) => ({ id: c.id, probe: c.probe! })),
        probeSettings: { shutdownBudgetMs: settings.shutdownBudgetMs, port: settings.port ?? exposedTcpPort(config.exposedPorts), drainPath: settings.drainPath, manifest: settings.manifest, deep: settings.deep },
        signal: work,
        clock,
        onStatus,
        helpers: { labels: reaper.labels, track: (id) => reaper.track(id) },
        // The first container started lets the file reads go.
        onStarted: appStartCalled,
      });
    };
    let sharedEnded: () => void = () => undefined;
    const sharedDone = new Promise<void>((resolve) => (sharedEnded = resolve));
    const runLifecycle = async (): Promise<LifecycleObservation | undefined> => {
      try {
        if (lifecycleSkipped || !(sharedNeeds.has('lifecycle') || sharedNeeds.has('runtime'))) return undefined;
        return await timed('lifecycle', () => observeContainer(shared, sharedNeeds.has('runtime'), options.onStatus));
      } finally {
        sharedEnded();
      }
    };
    // A perturbing probe's container that cannot be observed is that check's `error`, not the audit's.
    const runIsolated = async () => {
      if (!perturbing.length || lifecycleSkipped) return;
      const headStart = new AbortController();
      await Promise.race([sharedDone, sleep(deps.perturbingHeadStartMs ?? PERTURBING_HEAD_START_MS, AbortSignal.any([work, headStart.signal])).catch(() => undefined)]);
      headStart.abort();
      if (work.aborted) throw work.reason;
      await Promise.all(
        perturbing.map(async (check) => {
          const began = clock.now();
          try {
            const onStatus = options.onStatus && ((line: string) => options.onStatus!(`${check.id}'s container: ${line}`));
            isolated.set(check.id, await observeContainer([check], check.needs.includes('runtime'), onStatus));
          } catch (err) {
            if (work.aborted) throw err;
            observeErrors.set(check.id, `its own container could not be observed: ${(err as Error).message}`);
          } finally {
            isolatedMs.set(check.id, Math.round(clock.now() - began));
          }
        }),
      );
    };

    const gatherFiles = async () => {
      if (!filesContainerForReads) return undefined;
      const id = await filesContainerForReads();
      return needs.has('files') ? timed('files', () => gatherFileFacts(docker, id, basics, resolved.contextDir, work)) : undefined;
    };

    const runObservers = async () => {
      const observers = checks.filter((c) => c.observe);
      if (!observers.length) return;
      await timed('observe', () =>
        Promise.all(
          observers.map(async (check) => {
            try {
              observed.set(
                check.id,
                await check.observe!({
                  docker,
                  basics,
                  imageRef: basics.image.id,
                  target: spec,
                  contextDir: resolved.contextDir,
                  dockerfile: resolved.dockerfile,
                  filesContainer: filesContainerForReads,
                  stage,
                  signal: work,
                  settings,
                  onStatus: options.onStatus,
                }),
              );
            } catch (err) {
              if (work.aborted) throw err;
              observeErrors.set(check.id, (err as Error).message);
            }
          }),
        ),
      );
    };

    const guard = <T>(work: Promise<T>) =>
      work.catch((err) => {
        sibling.abort(err);
        throw err;
      });
    const lifecycles = [guard(runLifecycle()), guard(runIsolated())] as const;
    // File reads go once a container started, or once no container will.
    void Promise.allSettled(lifecycles).then(appStartCalled);
    [files, lifecycle] = await Promise.all([guard(gatherFiles()), lifecycles[0], guard(runObservers()), lifecycles[1]]).then(([f, l]) => [f, l] as const);
    if (lifecycle || isolated.size) daemon = await daemonInfo;
  } finally {
    // The sweep of abandoned containers runs once more at the end: a killed auditor's create that was
    // still in flight at the first sweep has landed by now (each sweep also holds while one is listed).
    await Promise.all([reaper.release(), reaped.then(() => reapAbandoned(docker, { signal })).catch(() => 0)]);
  }
  throwIfAborted();
  if (reaper.kept.length) options.onNotice?.(`kept container(s): ${reaper.kept.join(', ')}`);

  // The app's logs are redacted before any check quotes (and cuts) a line of them.
  if (lifecycle) lifecycle = { ...lifecycle, logs: lifecycle.logs.map((line) => redactor.redact(line)) };
  for (const [id, life] of isolated) isolated.set(id, { ...life, logs: life.logs.map((line) => redactor.redact(line)) });
  // A check whose probe perturbs judges the container it ran on, and its observation took that long.
  const ownLifecycle = (check: Check) => (check.probe?.perturbs ? { lifecycle: isolated.get(check.id) } : {});
  const ownPhases = (check: Check) => (check.probe?.perturbs ? { ...phaseMs, lifecycle: isolatedMs.get(check.id) } : phaseMs);
  const input: Omit<CheckInput, 'observed'> = {
    basics,
    files,
    lifecycle,
    settings,
    daemon: daemon && { userns: daemon.userns, rootless: daemon.rootless, engine: daemon.engine },
  };
  const view = resolved.contextDir && resolved.dockerfile ? await stage?.() : undefined;
  const results = applyWaivers(
    checks.map((check) => {
      const { secrets, ...result } = runCheck(check, { ...input, ...ownLifecycle(check), observed: observed.get(check.id) }, ownPhases(check), lifecycleSkipped, observeErrors.get(check.id));
      redactor.addAll(secrets ?? []);
      const location = result.location ?? (view && check.locate ? check.locate(view, basics) ?? view.from : undefined);
      return location ? { ...result, location } : result;
    }),
    options.waivers,
    options.now,
  );
  return {
    target: spec.kind === 'context' ? spec.dir : spec.ref,
    source: resolved.contextDir && resolved.dockerfile ? { contextDir: resolved.contextDir, dockerfile: resolved.dockerfile } : undefined,
    image: { id: basics.image.id, tags: basics.image.tags, sizeBytes: basics.image.sizeBytes },
    checks: results,
    summary: summarise(results),
    durationMs: Math.round(clock.now() - began),
    observed: {
      timeline: (lifecycle ?? isolated.values().next().value)?.timeline ?? [],
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


/** A check that throws could not run: that is an `error` verdict, never a crash of the audit. */
function runCheck(
  check: Check,
  input: CheckInput,
  phaseMs: Partial<Record<Need | 'observe', number>>,
  lifecycleSkipped: string | undefined,
  observeError: string | undefined,
): CheckResult & { secrets?: string[] } {
  const start = systemClock.now();
  let verdict;
  const runsContainer = check.needs.includes('lifecycle') || check.needs.includes('runtime');
  if (lifecycleSkipped && runsContainer) verdict = { status: 'error' as const, message: `could not observe the running app: ${lifecycleSkipped}`, evidence: {} };
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
