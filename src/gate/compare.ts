// Baseline against candidate: the regressions the release gate measures. Pure: two reports in,
// findings out.
import type { GateThresholds } from '../config/gate-thresholds.js';
import { CHECKS } from '../checks/registry.js';
import type { AuditReport } from '../types.js';
import { formatBytes, formatMs } from '../units.js';
import type { Metrics, Regression, TimingKind } from './types.js';

export type { Metrics, Regression, TimingKind } from './types.js';

/** The metrics the checks declare, read from their results: the gate knows no check by name. */
export function metricsOf(report: AuditReport): Metrics {
  const byKey: Record<string, number | undefined> = {};
  for (const result of report.checks) {
    for (const metric of CHECKS.find((c) => c.id === result.id)?.metrics ?? []) byKey[metric.key] = metric.of(result);
  }
  return { sizeBytes: report.image.sizeBytes, shutdownMs: byKey.shutdown, timeToHealthyMs: byKey.healthy, byKey };
}

const pct = (from: number, to: number) => (from === 0 ? (to === 0 ? 0 : Infinity) : ((to - from) / from) * 100);
const signedPct = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(1)}%`;

export const isTiming = (kind: Regression['kind']): kind is TimingKind => kind === 'shutdown' || kind === 'healthy';

const TIMINGS: Record<TimingKind, { label: string; bounds: (t: GateThresholds) => [pct: number, ms: number] }> = {
  shutdown: { label: 'shutdown time', bounds: (t) => [t.maxShutdownGrowthPercent, t.maxShutdownGrowthMs] },
  healthy: { label: 'time to healthy', bounds: (t) => [t.maxHealthyGrowthPercent, t.maxHealthyGrowthMs] },
};

export const timingLabel = (kind: TimingKind) => TIMINGS[kind].label;

/** A timing regresses past both its bounds; `basis` says what the two numbers are when not one run each. */
export function timingRegression(kind: TimingKind, from: number | undefined, to: number | undefined, t: GateThresholds, basis = ''): Regression[] {
  if (from === undefined || to === undefined) return [];
  const { label, bounds } = TIMINGS[kind];
  const [maxPct, maxMs] = bounds(t);
  const grew = to - from;
  if (pct(from, to) > maxPct && grew > maxMs) {
    return [{ kind, message: `${label} grew from ${formatMs(from)} to ${formatMs(to)} (${signedPct(pct(from, to))}, +${formatMs(grew)}; allowed ${maxPct}% and ${formatMs(maxMs)}${basis})` }];
  }
  return [];
}

export function findRegressions(baseline: AuditReport, candidate: AuditReport, t: GateThresholds): Regression[] {
  const regressions: Regression[] = [];
  const b = metricsOf(baseline);
  const c = metricsOf(candidate);
  const growth = c.sizeBytes - b.sizeBytes;
  const growthPct = pct(b.sizeBytes, c.sizeBytes);
  if (growthPct > t.maxSizeGrowthPercent || (t.maxSizeGrowthBytes !== undefined && growth > t.maxSizeGrowthBytes)) {
    const allowed = [`${t.maxSizeGrowthPercent}%`, t.maxSizeGrowthBytes !== undefined ? formatBytes(t.maxSizeGrowthBytes) : ''].filter(Boolean).join(' and ');
    regressions.push({ kind: 'size', message: `image grew from ${formatBytes(b.sizeBytes)} to ${formatBytes(c.sizeBytes)} (${signedPct(growthPct)}, +${formatBytes(growth)}; allowed ${allowed})` });
  }
  for (const before of baseline.checks) {
    const now = candidate.checks.find((x) => x.id === before.id);
    if (before.status === 'pass' && now && (now.status === 'fail' || now.status === 'error')) {
      regressions.push({ kind: 'check', checkId: now.id, message: `${now.id} passed on the baseline and now ${now.status === 'fail' ? 'fails' : 'errors'}: ${now.message}` });
    }
  }
  regressions.push(...timingRegression('shutdown', b.shutdownMs, c.shutdownMs, t));
  regressions.push(...timingRegression('healthy', b.timeToHealthyMs, c.timeToHealthyMs, t));
  return regressions;
}
