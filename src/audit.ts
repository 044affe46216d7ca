// The library's edge: audit() checks what its caller gave (the same rules as the CLI, the suite and the
// config file), resolves the settings once, and hands them to the pipeline (src/pipeline.ts: target →
// image facts → one observed lifecycle → checks → report); what leaves it has every known secret masked.
import { CHECKS, CHECK_IDS } from './checks/registry.js';
import type { Check } from './checks/check.js';
import { waiverProblems } from './checks/waivers.js';
import { checkOptions } from './config/rules.js';
import { AuditInterruptedError, UsageError } from './errors.js';
import { manifestSettings, resolveManifest } from './manifest/audit-input.js';
import { runAudit, type AuditDependencies, type AuditPlan, type ResolvedSettings } from './pipeline.js';
import { Redactor } from './redact/redactor.js';
import { parseTarget } from './target/resolve.js';
import type { AuditOptions, AuditReport, CheckId, TargetSpec } from './types.js';
import { parseDuration, parseSize } from './units.js';
import { systemClock } from './wait.js';
import { cacheDir } from './cache-dir.js';

export { summarise } from './pipeline.js';
export type { AuditDependencies, ResolvedSettings } from './pipeline.js';

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

export async function audit(target: string | TargetSpec, options: AuditOptions = {}, deps: AuditDependencies = {}): Promise<AuditReport> {
  const began = systemClock.now();
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
    return redactor.redactDeep(await runAudit(planAudit(began, target, guarded), guarded, deps, redactor));
  } catch (err) {
    // Whatever failed after an abort (a removed container, a destroyed stream) is the abort's doing.
    if (aborted()) throw err instanceof AuditInterruptedError ? err : new AuditInterruptedError(String(options.signal?.reason?.message ?? options.signal?.reason ?? 'aborted'));
    throw redactError(err, redactor);
  }
}

/**
 * Everything that can be a usage error (exit 2), before any daemon call: the options, the waivers, the
 * target, the manifest (a bad file or an ambiguous container) and the selection of checks.
 */
function planAudit(began: number, target: string | TargetSpec, options: AuditOptions): AuditPlan {
  const settings = resolveSettings(options);
  const badWaivers = waiverProblems(options.waivers, 'waivers');
  if (badWaivers.length) throw new UsageError(`Bad waiver: ${badWaivers[0]}`, badWaivers.slice(1));
  // Checked with the other options by resolveSettings.
  const buildTimeoutMs = options.buildTimeout === undefined ? undefined : parseDuration(options.buildTimeout);
  const spec = typeof target === 'string' ? parseTarget(target, { ...options, buildTimeoutMs }) : target;
  // --manifest: the container Kubernetes would run.
  const manifest = resolveManifest(options, spec);
  if (manifest) Object.assign(settings, manifestSettings(manifest, options), { manifest });
  const checks = selectChecks(options.only, options.skip, settings.deep, manifest !== undefined);
  return { began, settings, spec, checks };
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
    // An escape hatch for daemons whose BuildKit misbehaves (classic semantics differ: see the README);
    // read here only, and handed down as `settings.builder`.
    builder: process.env.IMAGE_AUDIT_BUILDER === 'classic' ? 'classic' : 'auto',
    layerCacheDir: cacheDir(process.env),
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
