// The fleet report: the single-audit report of each target, as it is, plus what the fleet knows about
// the target (where it ran, its exit code, why it could not be audited). Everything else (the summary,
// the order, every fleet format) is computed from those entries alone by `fleetReport`, the one
// function a one-process fleet and `merge` of its shards both go through: they cannot disagree.
import { UsageError } from '../errors.js';
import { exitCodeFor } from '../report/exit-code.js';
import type { AuditReport, CheckStatus } from '../types.js';

export const CHECK_STATUSES: CheckStatus[] = ['pass', 'fail', 'warn', 'skip', 'error', 'waived'];

/** What every fleet target carries, audited or gated (`fleet --gate`: src/fleet/gate.ts). */
export interface TargetRun {
  /** The target as given: a build context directory or an image reference. */
  target: string;
  /** Unique in the fleet: the fleet file's `name` of the entry, else the target as given. */
  name: string;
  /** The engine that produced the report (or, without one, the last engine tried): its name or URL as given. */
  engine: string;
  /** The single audit's (or gate's) exit code, or that of the error that stopped it (2, 3). */
  exitCode: number;
  /** Why there is no report. */
  error?: { message: string; detail?: string[] };
  /** Attempts on engines that stopped answering, or lacked the image, before the one that counts. */
  attempts?: Array<{ engine: string; error: string }>;
}

export interface FleetTarget extends TargetRun {
  /** The single-audit JSON report, or null when the target could not be audited. */
  report: AuditReport | null;
}

export interface FleetSummary {
  targets: number;
  /** Targets by their exit code: every check passed (0), a check failed (1), could not be audited (2, 3). */
  pass: number;
  fail: number;
  couldNotAudit: number;
  /** Checks of every report, by status. */
  checks: Record<CheckStatus, number>;
  /** Targets per engine. */
  engines: Record<string, number>;
  /** 3 if any target could not be audited, else 1 if any failed, else 0. */
  exitCode: 0 | 1 | 3;
}

export interface FleetReport {
  targets: FleetTarget[];
  summary: FleetSummary;
}

/** A target that was audited: its exit code is the single audit's. */
export function auditedTarget(entry: { target: string; name: string; engine: string; attempts?: FleetTarget['attempts'] }, report: AuditReport): FleetTarget {
  return { target: entry.target, name: entry.name, engine: entry.engine, exitCode: exitCodeFor(report), report, ...(entry.attempts?.length && { attempts: entry.attempts }) };
}

/** Codepoint order: the same on every machine and locale, so shards merge into the same order as a whole fleet. */
const byName = (a: FleetTarget, b: FleetTarget) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function couldNotAudit(t: FleetTarget): boolean {
  return t.report === null || (t.exitCode !== 0 && t.exitCode !== 1);
}

/** The fleet's exit code: 3 if any target could not be audited, else 1 if any failed, else 0. */
export function fleetExitCode(targets: FleetTarget[]): 0 | 1 | 3 {
  if (targets.some(couldNotAudit)) return 3;
  return targets.some((t) => t.exitCode === 1) ? 1 : 0;
}

/** The fleet report of these targets: sorted by name, summarised. Names must be unique. */
export function fleetReport(targets: FleetTarget[]): FleetReport {
  const sorted = [...targets].sort(byName);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].name === sorted[i - 1].name) throw new UsageError(`Target "${sorted[i].name}" appears twice in the fleet`);
  }
  const checks = Object.fromEntries(CHECK_STATUSES.map((s) => [s, 0])) as Record<CheckStatus, number>;
  const engines: Record<string, number> = {};
  for (const t of sorted) {
    for (const c of t.report?.checks ?? []) checks[c.status] = (checks[c.status] ?? 0) + 1;
  }
  for (const t of [...sorted].sort((a, b) => (a.engine < b.engine ? -1 : a.engine > b.engine ? 1 : 0))) engines[t.engine] = (engines[t.engine] ?? 0) + 1;
  const bad = sorted.filter(couldNotAudit).length;
  return {
    targets: sorted,
    summary: {
      targets: sorted.length,
      pass: sorted.filter((t) => t.exitCode === 0 && t.report).length,
      fail: sorted.filter((t) => t.exitCode === 1 && t.report).length,
      couldNotAudit: bad,
      checks,
      engines,
      exitCode: fleetExitCode(sorted),
    },
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A single-audit report, as `--format json` writes it. */
function isAuditReport(v: unknown): v is AuditReport {
  return isObject(v) && typeof v.target === 'string' && Array.isArray(v.checks) && isObject(v.summary) && isObject(v.image);
}

/**
 * The targets of one report file for `merge`: a fleet report (`{ targets, summary }`, a shard's), or a
 * single-audit report (then its engine is unknown: "unknown"). Anything else is a usage error naming the file.
 */
export function targetsOf(json: unknown, file: string): FleetTarget[] {
  if (isAuditReport(json)) {
    return [{ target: json.target, name: json.target, engine: 'unknown', exitCode: exitCodeFor(json), report: json }];
  }
  if (!isObject(json) || !Array.isArray(json.targets)) {
    throw new UsageError(`${file} is not an image-audit report: expected a fleet report ({ "targets": […], "summary": {…} }) or a single audit's JSON report`);
  }
  return json.targets.map((t, i) =>
    targetOf(t, `${file}: targets[${i}]`, { kind: 'fleet target', field: 'report' }, (report, at) => {
      if (report !== null && !isAuditReport(report)) throw new UsageError(`${at}.report is neither null nor an audit report`);
      return { report: report as AuditReport | null };
    }),
  );
}

/**
 * One entry of a shard's `targets`: the fields every fleet target has are checked here, the report
 * field (`report`, or `gate` for a gated fleet) by `body`; the keys keep the order the fleet writes them in.
 */
export function targetOf<B extends object>(t: unknown, at: string, what: { kind: string; field: string }, body: (value: unknown, at: string, exitCode: number) => B): TargetRun & B {
  if (!isObject(t) || typeof t.target !== 'string' || typeof t.engine !== 'string' || typeof t.exitCode !== 'number') {
    throw new UsageError(`${at} is not a ${what.kind}: expected "target", "engine", "exitCode" and "${what.field}"`);
  }
  const name = typeof t.name === 'string' && t.name ? t.name : t.target;
  const entry: TargetRun & B = { target: t.target, name, engine: t.engine, exitCode: t.exitCode, ...body(t[what.field], at, t.exitCode) };
  if (isObject(t.error) && typeof t.error.message === 'string') entry.error = t.error as TargetRun['error'];
  if (Array.isArray(t.attempts)) entry.attempts = t.attempts as TargetRun['attempts'];
  return entry;
}

/** The targets of shard files, read by `targetsOf`, in order. A target in two inputs is a usage error naming both. */
export function shardTargets<T extends { name: string }>(inputs: Array<{ file: string; json: unknown }>, read: (json: unknown, file: string) => T[]): T[] {
  const from = new Map<string, string>();
  const all: T[] = [];
  for (const { file, json } of inputs) {
    for (const t of read(json, file)) {
      const earlier = from.get(t.name);
      if (earlier) throw new UsageError(`Target "${t.name}" is in both ${earlier} and ${file}: shards of one fleet are disjoint`);
      from.set(t.name, file);
      all.push(t);
    }
  }
  return all;
}

/** Shard reports into one: their targets, the fleet report of them. */
export function mergeReports(inputs: Array<{ file: string; json: unknown }>): FleetReport {
  return fleetReport(shardTargets(inputs, targetsOf));
}
