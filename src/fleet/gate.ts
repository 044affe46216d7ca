// `fleet --gate`: the release gate applied to each target, each against its own baseline, plus one
// verdict for the fleet. As for the audit fleet, each target's entry holds the single gate's report as
// it is (`image-audit gate <target> --format json`), and everything else — the summary, the fleet's
// verdict, every format — is computed from those entries alone (`gatedFleetReport`), so `merge` of
// shards and a one-process gated fleet agree.
//
// A target's baseline is, each over the one before: the fleet file's `defaults.gate.baseline`, the
// service's own config `gate.baseline`, the fleet file entry's `gate.baseline`, `--baseline`. So does
// every threshold, key by key. A target without one is a usage error before anything runs (no baseline
// is no verdict: the fleet never gates a target on its own checks alone, as the single gate does), and
// so is `auto` for a target that cannot have a previous release (a build context, an image without a
// semver tag). A baseline that is not in the engine, or cannot be audited, is `could not gate` for that
// target, with the reason — never a SHIP.
import type { GateThresholds } from '../config/gate-thresholds.js';
import { UsageError } from '../errors.js';
import { autoBaselineProblem } from '../gate/baseline.js';
import { gateExitCode } from '../gate/gate.js';
import type { GateReport } from '../gate/types.js';
import { REFERENCE_GRAMMAR, referenceProblem } from '../target/reference.js';
import { shardTargets, targetOf, type TargetRun } from './report.js';
import type { Placement } from './schedule.js';
import type { FleetJob } from './targets.js';

/** A target's gate verdict: its exit code read as words (0 ship, 1 do not ship, anything else could not gate). */
export type GateVerdict = 'ship' | 'do-not-ship' | 'could-not-gate';

export interface GatedJob extends FleetJob {
  /** An image reference, or 'auto'. */
  baseline: string;
  thresholds: Partial<GateThresholds>;
}

/** `exitCode`: the single gate's (0 ship, 1 do not ship, 3 the candidate could not be fully audited), or that of the error that stopped it (2, 3). */
export interface GatedTarget extends TargetRun {
  /** `exitCode` in words: what the target's release may do. */
  verdict: GateVerdict;
  /** The single gate's JSON report, or null when the target could not be gated (`error` says why: the candidate or the baseline could not be found or audited). */
  gate: GateReport | null;
}

export interface GatedFleetSummary {
  targets: number;
  ship: number;
  doNotShip: number;
  couldNotGate: number;
  /** Targets per engine. */
  engines: Record<string, number>;
  /** The fleet's verdict: could not gate if any target could not be gated, else do not ship if any may not ship, else ship. */
  verdict: GateVerdict;
  /** 3 if any target could not be gated, else 1 if any may not ship, else 0. */
  exitCode: 0 | 1 | 3;
}

export interface GatedFleetReport {
  /** Tells a gated fleet's report from an audit fleet's (which has no `kind`). */
  kind: 'gate';
  targets: GatedTarget[];
  summary: GatedFleetSummary;
}

export const verdictOfExit = (exitCode: number): GateVerdict => (exitCode === 0 ? 'ship' : exitCode === 1 ? 'do-not-ship' : 'could-not-gate');

export function gatedTarget(placement: Placement, gate: GateReport): GatedTarget {
  const exitCode = gateExitCode(gate);
  return { target: placement.target, name: placement.name, engine: placement.engine, exitCode, verdict: verdictOfExit(exitCode), gate, ...(placement.attempts?.length && { attempts: placement.attempts }) };
}

export function notGatedTarget(placement: Placement, error: { message: string; detail?: string[] }, exitCode: number): GatedTarget {
  const { target, name, engine, attempts } = placement;
  return { target, name, engine, exitCode, verdict: 'could-not-gate', gate: null, error, ...(attempts?.length && { attempts }) };
}

/**
 * Each target's baseline and thresholds: its files' gate keys under the command line's. Every target
 * that cannot be gated whatever the engines hold is named here, before anything runs.
 */
export function gateJobs(jobs: FleetJob[], flags: { baseline?: string; thresholds: Partial<GateThresholds> }): GatedJob[] {
  const problems: string[] = [];
  const gated = jobs.map((job): GatedJob => {
    const { baseline: fromFiles, ...thresholds } = job.gate;
    const baseline = flags.baseline ?? fromFiles;
    if (!baseline) problems.push(`${job.name}: no baseline (give --baseline auto or an image, or "gate": { "baseline": … } in its fleet file entry or its config)`);
    else if (baseline === 'auto') {
      const problem = job.kind === 'context' ? `it is a build context, which has no release tags` : autoBaselineProblem(job.target);
      if (problem) problems.push(`${job.name}: --baseline auto finds no previous release: ${problem} (give its entry a "gate": { "baseline": IMAGE })`);
    } else {
      const problem = referenceProblem(baseline);
      if (problem) problems.push(`${job.name}: bad baseline ${JSON.stringify(baseline)}: ${problem}. An image reference is ${REFERENCE_GRAMMAR}`);
    }
    return { ...job, baseline: baseline ?? '', thresholds: { ...thresholds, ...flags.thresholds } };
  });
  if (problems.length) throw new UsageError(`Cannot gate ${problems.length === 1 ? 'a target' : `${problems.length} targets`}: ${problems[0]}`, problems.slice(1));
  return gated;
}

/** Codepoint order, as the audit fleet: the same on every machine, so shards merge into the whole fleet's order. */
const byName = (a: GatedTarget, b: GatedTarget) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function gatedFleetExitCode(targets: GatedTarget[]): 0 | 1 | 3 {
  if (targets.some((t) => t.verdict === 'could-not-gate')) return 3;
  return targets.some((t) => t.verdict === 'do-not-ship') ? 1 : 0;
}

/** The gated fleet's report of these targets: sorted by name, summarised. Names must be unique. */
export function gatedFleetReport(targets: GatedTarget[]): GatedFleetReport {
  const sorted = [...targets].sort(byName);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].name === sorted[i - 1].name) throw new UsageError(`Target "${sorted[i].name}" appears twice in the fleet`);
  }
  const engines: Record<string, number> = {};
  for (const t of [...sorted].sort((a, b) => (a.engine < b.engine ? -1 : a.engine > b.engine ? 1 : 0))) engines[t.engine] = (engines[t.engine] ?? 0) + 1;
  const exitCode = gatedFleetExitCode(sorted);
  return {
    kind: 'gate',
    targets: sorted,
    summary: {
      targets: sorted.length,
      ship: sorted.filter((t) => t.verdict === 'ship').length,
      doNotShip: sorted.filter((t) => t.verdict === 'do-not-ship').length,
      couldNotGate: sorted.filter((t) => t.verdict === 'could-not-gate').length,
      engines,
      verdict: verdictOfExit(exitCode),
      exitCode,
    },
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A single gate's report, as `image-audit gate --format json` writes it. */
export function isGateReport(v: unknown): v is GateReport {
  return isObject(v) && (v.verdict === 'ship' || v.verdict === 'do-not-ship') && isObject(v.candidate) && Array.isArray(v.regressions) && Array.isArray(v.failures);
}

export const isGatedFleetReport = (v: unknown): v is GatedFleetReport => isObject(v) && v.kind === 'gate';

/**
 * The targets of one report file for `merge` of gated fleets: a gated fleet report (a shard's), or a
 * single gate's report (then its engine is "unknown"). The verdict is read again from the exit code.
 */
export function gatedTargetsOf(json: unknown, file: string): GatedTarget[] {
  if (isGateReport(json)) {
    const exitCode = gateExitCode(json);
    return [{ target: json.candidate.target, name: json.candidate.target, engine: 'unknown', exitCode, verdict: verdictOfExit(exitCode), gate: json }];
  }
  if (!isGatedFleetReport(json) || !Array.isArray(json.targets)) {
    throw new UsageError(`${file} is not a gate report: expected a gated fleet report ({ "kind": "gate", "targets": […] }) or a single gate's JSON report`);
  }
  return (json.targets as unknown[]).map((t, i) =>
    targetOf(t, `${file}: targets[${i}]`, { kind: 'gated fleet target', field: 'gate' }, (gate, at, exitCode) => {
      if (gate !== null && !isGateReport(gate)) throw new UsageError(`${at}.gate is neither null nor a gate report`);
      return { verdict: gate === null && exitCode < 2 ? ('could-not-gate' as const) : verdictOfExit(exitCode), gate: gate as GateReport | null };
    }),
  );
}

/** Gated shard reports into one: their targets, the gated fleet report of them. */
export function mergeGatedReports(inputs: Array<{ file: string; json: unknown }>): GatedFleetReport {
  return gatedFleetReport(shardTargets(inputs, gatedTargetsOf));
}
