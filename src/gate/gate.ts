// The release gate: audit the candidate and its baseline (the previous release), compare, and answer
// "may this image ship?".
import { audit, type AuditDependencies } from '../audit.js';
import { DEFAULT_GATE, type GateThresholds } from './thresholds.js';
import { DockerodePort } from '../docker/dockerode-port.js';
import type { AuditOptions, AuditReport } from '../types.js';
import { previousRelease } from './baseline.js';
import { findRegressions, metricsOf, type Metrics, type Regression } from './compare.js';

export interface GateOptions extends AuditOptions {
  /** An image reference, 'auto' (the previous release tag in the daemon), or none. */
  baseline?: string;
  thresholds?: Partial<GateThresholds>;
}

export interface GateReport {
  verdict: 'ship' | 'do-not-ship';
  candidate: AuditReport;
  baseline?: { ref: string; how: 'given' | 'auto'; report: AuditReport };
  /** Why there is no baseline (then only the candidate's own checks gate). */
  baselineNote?: string;
  metrics: { candidate: Metrics; baseline?: Metrics };
  regressions: Regression[];
  /** The candidate's failing checks that are not regressions (waived ones excluded). */
  failures: Array<{ id: string; message: string }>;
  thresholds: GateThresholds;
  durationMs: number;
}

export async function gate(candidate: string, options: GateOptions = {}, deps: AuditDependencies = {}): Promise<GateReport> {
  const began = performance.now();
  const docker = deps.docker ?? new DockerodePort();
  const thresholds: GateThresholds = { ...DEFAULT_GATE, ...options.thresholds };
  const { baseline: baselineOption, thresholds: _, ...auditOptions } = options;

  // Sequential on purpose: timings measured side by side would slow each other down.
  const candidateReport = await audit(candidate, auditOptions, { docker });
  let baseline: GateReport['baseline'];
  let baselineNote: string | undefined;
  if (baselineOption === 'auto') {
    const choice = previousRelease(candidate, await docker.listImageTags());
    if ('version' in choice) baseline = { ref: choice.ref, how: 'auto', report: await audit(choice.ref, auditOptions, { docker }) };
    else baselineNote = `${choice.reason}: gating on the candidate's own checks only`;
  } else if (baselineOption) {
    baseline = { ref: baselineOption, how: 'given', report: await audit(baselineOption, auditOptions, { docker }) };
  } else {
    baselineNote = 'no baseline given: gating on the candidate\'s own checks only';
  }

  const regressions = baseline ? findRegressions(baseline.report, candidateReport, thresholds) : [];
  // A failing check that is already a regression is reported once, as the regression.
  const regressed = new Set(regressions.map((r) => r.checkId).filter(Boolean));
  const failures = candidateReport.checks
    .filter((c) => c.status === 'fail' && !regressed.has(c.id))
    .map((c) => ({ id: c.id, message: c.message }));
  return {
    verdict: regressions.length || failures.length ? 'do-not-ship' : 'ship',
    candidate: candidateReport,
    baseline,
    baselineNote,
    metrics: { candidate: metricsOf(candidateReport), baseline: baseline && metricsOf(baseline.report) },
    regressions,
    failures,
    thresholds,
    durationMs: Math.round(performance.now() - began),
  };
}

/** 0 ship; 1 do not ship; 3 the candidate could not be fully audited. */
export function gateExitCode(report: GateReport): 0 | 1 | 3 {
  if (report.candidate.summary.error > 0) return 3;
  return report.verdict === 'ship' ? 0 : 1;
}
