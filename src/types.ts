// Public types of node-image-audit: what an audit takes and what it reports.

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip' | 'error';

export type CheckId =
  | 'non-root-user'
  | 'init-pid1'
  | 'sigterm-shutdown'
  | 'healthcheck'
  | 'no-dev-dependencies'
  | 'size-budget';

export interface CheckResult {
  id: CheckId;
  title: string;
  status: CheckStatus;
  /** One sentence: what was observed, and what was expected. */
  message: string;
  /** Structured, so every reporter can render it (numbers, lists, timelines). */
  evidence: Record<string, unknown>;
  durationMs: number;
}

export interface AuditReport {
  /** What was audited: the context directory or the image reference, as given. */
  target: string;
  image: { id: string; tags: string[]; sizeBytes: number };
  checks: CheckResult[];
  summary: Record<CheckStatus, number>;
  durationMs: number;
}

/** Where the image comes from: a build context on disk, or an image already in the daemon. */
export type TargetSpec =
  | { kind: 'context'; dir: string; dockerfile?: string; buildArgs?: Record<string, string>; buildTarget?: string }
  | { kind: 'image'; ref: string };

export interface AuditOptions {
  /** Ids of the checks to run (default: all). */
  only?: CheckId[];
  /** Ids of the checks to leave out. */
  skip?: CheckId[];
  /** Largest acceptable image size, e.g. '250MB' (decimal) or '240MiB', or a number of bytes. */
  sizeBudget?: string | number;
  /** Longest acceptable time from the stop signal to exit, e.g. '5s', or milliseconds. */
  shutdownBudget?: string | number;
  /** Accepted PID 1 programs (default: ['dumb-init']). */
  init?: string[];
  /** Build inputs for a context target. */
  dockerfile?: string;
  buildArgs?: Record<string, string>;
  target?: string;
  /** Passed to every container the audit runs; values never appear in reports. */
  env?: Record<string, string>;
  /** Leave the audit's containers in place for debugging. */
  keep?: boolean;
  /** Build progress lines, as they come. */
  onBuildProgress?: (line: string) => void;
  /** What the audit is doing now ("waiting for healthy, 3.2 s of 52 s"): transient. */
  onStatus?: (line: string) => void;
  /** Things the user should see even without a terminal (kept containers, a builder fallback). */
  onNotice?: (line: string) => void;
}
