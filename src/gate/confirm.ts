// One pair of runs cannot tell a slower image from a busier host: on a loaded CI runner the same image
// turned healthy in 1.7 s, then in 4.5 s. So a timing regression is measured again before it stops a
// release: CONFIRM_RUNS more runs of each image, of the checks that own the timing only, baseline and
// candidate alternating so that a change in load falls on both; the medians are compared.
import { CHECKS } from '../checks/registry.js';
import type { AuditReport, CheckId } from '../types.js';
import { formatMs } from '../units.js';
import { isTiming, metricsOf, timingLabel, timingRegression } from './compare.js';
import type { GateThresholds } from '../config/gate-thresholds.js';
import type { Regression, TimingKind, TimingRemeasure } from './types.js';

export type { TimingRemeasure } from './types.js';

/** Runs added to each side: with the first, three samples a side, so one outlier cannot decide. */
export const CONFIRM_RUNS = 2;

/** Audits one side again with only these checks. */
export type Remeasure = (side: 'baseline' | 'candidate', only: CheckId[]) => Promise<AuditReport>;

export const median = (values: number[]): number | undefined => {
  if (!values.length) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : Math.round((sorted[mid - 1] + sorted[mid]) / 2);
};

function ownersOf(kind: TimingKind): CheckId[] {
  return CHECKS.filter((c) => c.metrics?.some((m) => m.key === kind)).map((c) => c.id);
}

/** The suspected regressions with their timing ones replaced by what the medians say. */
export async function confirmTimings(
  suspected: Regression[],
  first: { baseline: AuditReport; candidate: AuditReport },
  remeasure: Remeasure,
  thresholds: GateThresholds,
): Promise<{ regressions: Regression[]; remeasured: TimingRemeasure[] }> {
  const kinds = suspected.map((r) => r.kind).filter(isTiming);
  if (!kinds.length) return { regressions: suspected, remeasured: [] };
  // One lifecycle observes both timings: the checks of every suspected kind run together.
  const only = [...new Set(kinds.flatMap(ownersOf))];
  const runs = { baseline: [first.baseline], candidate: [first.candidate] };
  for (let i = 0; i < CONFIRM_RUNS; i++) {
    // Baseline first: the first pair ran the candidate first.
    runs.baseline.push(await remeasure('baseline', only));
    runs.candidate.push(await remeasure('candidate', only));
  }
  const judged = kinds.map((kind) => {
    const samples = (side: 'baseline' | 'candidate') => runs[side].map((r) => metricsOf(r).byKey[kind]).filter((v): v is number => v !== undefined);
    const baseline = samples('baseline');
    const candidate = samples('candidate');
    const list = (values: number[]) => values.map(formatMs).join(', ');
    const basis = `; medians of ${baseline.length} and ${candidate.length} runs: baseline ${list(baseline)}; candidate ${list(candidate)}`;
    const [regression] = timingRegression(kind, median(baseline), median(candidate), thresholds, basis);
    // The first runs gave both numbers (that is how the kind was suspected): they are each side's first sample.
    const firstPair = `${timingLabel(kind)} grew from ${formatMs(baseline[0])} to ${formatMs(candidate[0])}`;
    const note = regression
      ? `${firstPair} on the first runs, and the medians of more runs confirm it`
      : `${firstPair} on the first runs, but not in the medians of ${baseline.length} and ${candidate.length} runs (${formatMs(median(baseline)!)} and ${formatMs(median(candidate)!)}): the host's noise, not a regression`;
    return { regression, remeasure: { kind, baseline, candidate, confirmed: regression !== undefined, note } satisfies TimingRemeasure };
  });
  const regressions = suspected.flatMap((r) => {
    if (!isTiming(r.kind)) return [r];
    const confirmed = judged.find((j) => j.remeasure.kind === r.kind)?.regression;
    return confirmed ? [confirmed] : [];
  });
  const remeasured = judged.map((j) => j.remeasure);
  return { regressions, remeasured };
}
