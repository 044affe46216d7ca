// The release gate's report as data: types only, no logic, so that reporters (src/report/) and the
// fleet read a gate report without importing the gate. Whatever the gate concluded is in the data:
// each remeasured timing says whether the medians `confirmed` it, or dismissed it as the host's noise.
import type { GateThresholds } from '../config/gate-thresholds.js';
import type { AuditReport, CheckId } from '../types.js';

export interface Regression {
  kind: 'size' | 'check' | 'shutdown' | 'healthy';
  message: string;
  checkId?: CheckId;
}

export interface Metrics {
  sizeBytes: number;
  shutdownMs?: number;
  timeToHealthyMs?: number;
  /** Every check's gate metric by key (shutdown, healthy, and whatever later checks declare). */
  byKey: Record<string, number | undefined>;
}

export type TimingKind = 'shutdown' | 'healthy';

export interface TimingRemeasure {
  kind: TimingKind;
  /** Every sample in ms, the first run's first (a run whose check gave no number is left out). */
  baseline: number[];
  candidate: number[];
  /** The medians still regress; false: the first runs' growth was dismissed as the host's noise. */
  confirmed: boolean;
  /** What the samples say, in one line. */
  note: string;
}

export interface GateReport {
  verdict: 'ship' | 'do-not-ship';
  candidate: AuditReport;
  baseline?: { ref: string; how: 'given' | 'auto'; report: AuditReport };
  /** Why there is no baseline (then only the candidate's own checks gate). */
  baselineNote?: string;
  metrics: { candidate: Metrics; baseline?: Metrics };
  regressions: Regression[];
  /** Timings that regressed on the first runs, measured again (confirmed or dismissed as noise). */
  remeasured?: TimingRemeasure[];
  /** The candidate's failing checks that are not regressions (waived ones excluded). */
  failures: Array<{ id: string; message: string }>;
  thresholds: GateThresholds;
  durationMs: number;
}
