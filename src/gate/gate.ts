// The release gate: audit the candidate and its baseline (the previous release), compare, and answer
// "may this image ship?".
import { audit, type AuditDependencies } from '../audit.js';
import { DEFAULT_GATE, type GateThresholds } from '../config/gate-thresholds.js';
import { currentEnginePort } from '../docker/dockerode-port.js';
import { CouldNotAuditError, ImageNotFoundError } from '../errors.js';
import type { AuditOptions } from '../types.js';
import { previousRelease } from './baseline.js';
import { findRegressions, isTiming, metricsOf, timingLabel } from './compare.js';
import { CONFIRM_RUNS, confirmTimings } from './confirm.js';
import type { GateReport, TimingRemeasure } from './types.js';

export type { GateReport } from './types.js';

export interface GateOptions extends AuditOptions {
  /** An image reference, 'auto' (the previous release tag in the daemon), or none. */
  baseline?: string;
  thresholds?: Partial<GateThresholds>;
  /**
   * No baseline is no verdict (`fleet --gate`): a baseline that is not given or not found throws
   * BaselineNotFoundError before the candidate is audited, instead of gating on the candidate alone.
   */
  requireBaseline?: boolean;
}

/** The baseline is not in the engine (`auto` found no lower release tag there, or the given image is missing). */
export class BaselineNotFoundError extends ImageNotFoundError {}

export async function gate(candidate: string, options: GateOptions = {}, deps: AuditDependencies = {}): Promise<GateReport> {
  const began = performance.now();
  // As the docker CLI picks it: DOCKER_HOST, DOCKER_CONTEXT, the current context, the default socket.
  const docker = deps.docker ?? currentEnginePort();
  const thresholds: GateThresholds = { ...DEFAULT_GATE, ...options.thresholds };
  const { baseline: baselineOption, thresholds: _, requireBaseline, ...auditOptions } = options;

  // Which baseline, before anything is audited: without one, a gate that requires it stops here.
  let chosen: { ref: string; how: 'given' | 'auto' } | undefined;
  let baselineNote: string | undefined;
  if (baselineOption === 'auto') {
    const choice = previousRelease(candidate, await docker.listImageTags());
    if ('version' in choice) chosen = { ref: choice.ref, how: 'auto' };
    else if (requireBaseline) throw new BaselineNotFoundError(`no baseline: ${choice.reason}`);
    else baselineNote = `${choice.reason}: gating on the candidate's own checks only`;
  } else if (baselineOption) {
    chosen = { ref: baselineOption, how: 'given' };
  } else if (requireBaseline) {
    throw new BaselineNotFoundError('no baseline given');
  } else {
    baselineNote = 'no baseline given: gating on the candidate\'s own checks only';
  }

  // Sequential on purpose: timings measured side by side would slow each other down.
  const candidateReport = await audit(candidate, auditOptions, { docker });
  let baseline: GateReport['baseline'];
  if (chosen) {
    try {
      baseline = { ...chosen, report: await audit(chosen.ref, auditOptions, { docker }) };
    } catch (err) {
      // Say which side could not be audited.
      if (err instanceof ImageNotFoundError) throw new BaselineNotFoundError(`baseline: ${err.message}`, err.detail);
      if (err instanceof CouldNotAuditError) err.message = `baseline ${chosen.ref}: ${err.message}`;
      throw err;
    }
  }

  const suspected = baseline ? findRegressions(baseline.report, candidateReport, thresholds) : [];
  let regressions = suspected;
  let remeasured: TimingRemeasure[] | undefined;
  if (baseline && suspected.some((r) => isTiming(r.kind))) {
    const labels = suspected.flatMap((r) => (isTiming(r.kind) ? [timingLabel(r.kind)] : []));
    options.onNotice?.(`${labels.join(' and ')} grew on the first runs: measuring again (${CONFIRM_RUNS} more runs of each image) before concluding`);
    // By image id: a context target is not rebuilt, and a tag moved meanwhile does not change what is measured.
    const images = { baseline: baseline.report.image.id, candidate: candidateReport.image.id };
    const confirmed = await confirmTimings(
      suspected,
      { baseline: baseline.report, candidate: candidateReport },
      (side, only) => audit({ kind: 'image', ref: images[side] }, { ...auditOptions, only, skip: undefined }, { docker }),
      thresholds,
    );
    regressions = confirmed.regressions;
    remeasured = confirmed.remeasured;
  }
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
    remeasured,
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
