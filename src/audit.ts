// The audit: target → image facts → one observed lifecycle → checks → report.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Check, CheckInput, CheckSettings, Need } from './checks/check.js';
import { CHECKS, CHECK_IDS } from './checks/registry.js';
import { applyWaivers } from './checks/waivers.js';
import { DockerodePort } from './docker/dockerode-port.js';
import type { DockerPort } from './docker/port.js';
import { ContainerReaper } from './docker/reaper.js';
import { UsageError } from './errors.js';
import { gatherFileFacts, gatherImageBasics, type FileFacts } from './facts/image-facts.js';
import { auditHealthOverride, observeLifecycle, type LifecycleObservation } from './lifecycle/observe.js';
import { parseTarget, resolveTarget } from './target/resolve.js';
import type { AuditOptions, AuditReport, CheckId, CheckResult, CheckStatus, TargetSpec } from './types.js';
import { parseDuration, parseSize } from './units.js';
import { systemClock } from './wait.js';

export const DEFAULTS = { sizeBudget: '250MB', shutdownBudget: '5s', init: ['dumb-init'] } as const;

export function resolveSettings(options: AuditOptions): CheckSettings {
  const sizeBudgetBytes = parseSize(options.sizeBudget ?? DEFAULTS.sizeBudget);
  if (sizeBudgetBytes === undefined) {
    throw new UsageError(`Bad size budget "${options.sizeBudget}": use a size such as 250MB, 240MiB or 1GB`);
  }
  const shutdownBudgetMs = parseDuration(options.shutdownBudget ?? DEFAULTS.shutdownBudget);
  if (shutdownBudgetMs === undefined || shutdownBudgetMs <= 0) {
    throw new UsageError(`Bad shutdown budget "${options.shutdownBudget}": use a duration such as 5s or 1500ms`);
  }
  const acceptedInits = options.init?.length ? options.init : [...DEFAULTS.init];
  return { sizeBudgetBytes, shutdownBudgetMs, acceptedInits };
}

export function selectChecks(only?: string[], skip?: string[]): Check[] {
  for (const id of [...(only ?? []), ...(skip ?? [])]) {
    if (!CHECK_IDS.includes(id as CheckId)) {
      throw new UsageError(`Unknown check id "${id}": the checks are ${CHECK_IDS.join(', ')}`);
    }
  }
  return CHECKS.filter((c) => (!only?.length || only.includes(c.id)) && !skip?.includes(c.id));
}

function envList(env: Record<string, string> | undefined): string[] {
  return Object.entries(env ?? {}).map(([key, value]) => `${key}=${value}`);
}

export interface AuditDependencies {
  docker?: DockerPort;
}

export async function audit(
  target: string | TargetSpec,
  options: AuditOptions = {},
  deps: AuditDependencies = {},
): Promise<AuditReport> {
  const clock = systemClock;
  const began = clock.now();
  const settings = resolveSettings(options);
  const checks = selectChecks(options.only, options.skip);
  const buildTimeoutMs = options.buildTimeout === undefined ? undefined : parseDuration(options.buildTimeout);
  if (options.buildTimeout !== undefined && !buildTimeoutMs) {
    throw new UsageError(`Bad build timeout "${options.buildTimeout}": use a duration such as 20m`);
  }
  const spec = typeof target === 'string' ? parseTarget(target, { ...options, buildTimeoutMs }) : target;
  const docker = deps.docker ?? new DockerodePort();
  const needs = new Set<Need>(checks.flatMap((c) => c.needs));
  const phaseMs: Partial<Record<Need, number>> = {};
  const timed = async <T>(need: Need, work: () => Promise<T>): Promise<T> => {
    const start = clock.now();
    try {
      return await work();
    } finally {
      phaseMs[need] = Math.round(clock.now() - start);
    }
  };

  // The ping answers "is there a daemon?" within its bound. A build must wait for it; an image
  // reference is inspected meanwhile, and an unreachable daemon still gets the ping's message.
  const pinged = docker.ping();
  if (spec.kind === 'context') await pinged;
  options.onStatus?.(spec.kind === 'context' ? `building ${spec.dir}` : `inspecting ${spec.ref}`);
  const resolved = await resolveTarget(docker, spec, options.onBuildProgress);
  const gathering = timed('image', () => gatherImageBasics(docker, resolved.imageRef));
  gathering.catch(() => undefined); // the ping's error, when there is one, is the one to report
  await pinged;
  const basics = await gathering;

  let files: FileFacts | undefined;
  let lifecycle: LifecycleObservation | undefined;
  const reaper = new ContainerReaper(docker, options.keep ?? false);
  try {
    if (needs.has('files') || needs.has('lifecycle')) {
      const healthcheck = basics.image.config.healthcheck;
      const containerId = await docker.createContainer({
        image: basics.image.id,
        env: envList(options.env),
        labels: reaper.labels,
        healthcheck: healthcheck && auditHealthOverride(healthcheck),
      });
      reaper.track(containerId);
      // Files are read through the archive endpoint while the app runs: both observe the same container.
      [files, lifecycle] = await Promise.all([
        needs.has('files') ? timed('files', () => gatherFileFacts(docker, containerId, basics, resolved.contextDir)) : undefined,
        needs.has('lifecycle')
          ? timed('lifecycle', () =>
              observeLifecycle(docker, {
                containerId,
                stopSignal: basics.image.config.stopSignal,
                healthcheck,
                shutdownBudgetMs: settings.shutdownBudgetMs,
                clock,
                onStatus: options.onStatus,
              }),
            )
          : undefined,
      ]);
    }
  } finally {
    await reaper.release();
  }
  if (reaper.kept.length) options.onNotice?.(`kept container(s): ${reaper.kept.join(', ')}`);

  const input: CheckInput = { basics, files, lifecycle, settings };
  const locate = resolved.contextDir && resolved.dockerfile ? await locatorFor(resolved.contextDir, resolved.dockerfile, spec) : undefined;
  const largestLayer = [...basics.history].sort((a, b) => b.sizeBytes - a.sizeBytes)[0];
  const results = applyWaivers(
    checks.map((check) => ({ ...runCheck(check, input, phaseMs), location: locate?.(check.id, largestLayer) })),
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
  };
}

export function summarise(results: CheckResult[]): Record<CheckStatus, number> {
  const summary: Record<CheckStatus, number> = { pass: 0, fail: 0, warn: 0, skip: 0, error: 0, waived: 0 };
  for (const r of results) summary[r.status]++;
  return summary;
}

/** Only built images have a Dockerfile to point into; the parser is loaded for them alone. */
async function locatorFor(contextDir: string, dockerfile: string, spec: TargetSpec) {
  const { dockerfileLocator } = await import('./facts/dockerfile.js');
  const content = readFileSync(path.join(contextDir, dockerfile), 'utf8');
  return dockerfileLocator(dockerfile, content, spec.kind === 'context' ? spec.buildTarget : undefined);
}

/** A check that throws could not run: that is an `error` verdict, never a crash of the audit. */
function runCheck(check: Check, input: CheckInput, phaseMs: Partial<Record<Need, number>>): CheckResult {
  const start = systemClock.now();
  let verdict;
  try {
    verdict = check.run(input);
  } catch (err) {
    verdict = { status: 'error' as const, message: `the check could not run: ${(err as Error).message}`, evidence: {} };
  }
  // The observations a check needed are shared, so these durations overlap between checks.
  const observedMs = check.needs.reduce((sum, need) => sum + (phaseMs[need] ?? 0), 0);
  return { id: check.id, title: check.title, ...verdict, durationMs: Math.round(observedMs + systemClock.now() - start) };
}
