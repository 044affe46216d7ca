// Public types of node-image-audit: what an audit takes and what it reports.
import type { Redactor } from './redact/redactor.js';

/** `waived`: the check failed, and a waiver in the config (with a reason, not expired) accepts it. */
export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip' | 'error' | 'waived';

/** A check's id, e.g. 'non-root-user': the union of CHECK_IDS (src/checks/ids.ts). */
import type { CheckId } from './checks/ids.js';
export type { CheckId };

export interface CheckResult {
  id: CheckId;
  title: string;
  status: CheckStatus;
  /** One sentence: what was observed, and what was expected. */
  message: string;
  /** Structured, so every reporter can render it (numbers, lists, timelines). */
  evidence: Record<string, unknown>;
  durationMs: number;
  /** The Dockerfile instruction responsible, when the image was built from a context. */
  location?: SourceLocation;
  /** The waiver that applied (status `waived`) or that expired (status stays `fail`). */
  waiver?: Waiver & { expired: boolean };
  /** What to change, chosen from what was observed (fail, warn, error). */
  hint?: string;
  /** The check's doc page, relative to the package root, e.g. docs/checks/healthcheck.md. */
  doc?: string;
}

export interface SourceLocation {
  /** The Dockerfile's path relative to the build context, e.g. "Dockerfile" (or the manifest's path, for a finding about the manifest). */
  file: string;
  /** 1-based line of the instruction. */
  line: number;
  instruction: string;
}

export interface Waiver {
  check: CheckId;
  reason: string;
  /** Last day the waiver holds, YYYY-MM-DD (inclusive). */
  expires?: string;
}

export interface AuditReport {
  /** What was audited: the context directory or the image reference, as given. */
  target: string;
  /** The build context and Dockerfile, when the audit built the image. */
  source?: { contextDir: string; dockerfile: string };
  image: { id: string; tags: string[]; sizeBytes: number };
  checks: CheckResult[];
  summary: Record<CheckStatus, number>;
  durationMs: number;
  /** What the audit saw beyond the verdicts, for reports that draw it (the HTML timeline and layer chart). */
  observed?: {
    /** The container's lifecycle: ms since start, event, detail. */
    timeline: Array<{ atMs: number; event: string; detail?: string }>;
    /** Image history, newest first, as the daemon lists it. */
    layers: Array<{ createdBy: string; sizeBytes: number }>;
    limits: { sizeBudgetBytes: number; shutdownBudgetMs: number; healthTimeoutMs: number; memoryBytes: number; pidsLimit: number; network: string };
    /** The Kubernetes manifest the audited container ran as: which container, what was taken from it, what plain Docker cannot reproduce. */
    manifest?: { file: string; workload: string; container: string; taken: string[]; notReproducible: string[] };
  };
}

/** Where the image comes from: a build context on disk, or an image already in the daemon. */
export type TargetSpec =
  | { kind: 'context'; dir: string; dockerfile?: string; buildArgs?: Record<string, string>; buildTarget?: string; buildTimeoutMs?: number }
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
  /** The build is cancelled after this long, e.g. '20m' (default). */
  buildTimeout?: string | number;
  /** Passed to every container the audit runs; values never appear in reports. */
  env?: Record<string, string>;
  /** Accepted failures, each with a reason and an optional expiry date. */
  waivers?: Waiver[];
  /** "Today" for waiver expiry (default: now). */
  now?: Date;
  /** Leave the audit's containers in place for debugging. */
  keep?: boolean;
  /** Build progress lines, as they come. */
  onBuildProgress?: (line: string) => void;
  /** What the audit is doing now ("waiting for healthy, 3.2 s of 52 s"): transient. */
  onStatus?: (line: string) => void;
  /** Things the user should see even without a terminal (kept containers, a builder fallback). */
  onNotice?: (line: string) => void;
  /** Aborts the audit: every wait, stream and daemon call stops; audit() rejects with AuditInterruptedError. */
  signal?: AbortSignal;
  /** Caps the whole wait for the app to be up (healthy or settled), e.g. '2m' (default). */
  healthTimeout?: string | number;
  /** Memory limit of the audited container, e.g. '512MiB' (default 1GiB); 0 means no limit. */
  memory?: string | number;
  /** Pids limit of the audited container (default 512); 0 means no limit. */
  pidsLimit?: number;
  /** Network of the audited container: 'bridge' (default), 'none', or a network name. */
  network?: string;
  /** The app's TCP port for probes that need it (default: the image's first EXPOSEd TCP port). */
  port?: number;
  /** Request path of the graceful-drain probe (default '/'). */
  drainPath?: string;
  /** Also run the costly probes (see the README). */
  deep?: boolean;
  /** Kubernetes manifests (multi-document YAML): the audited container runs as the chosen container says, and the k8s-* checks judge it. */
  manifest?: string[];
  /** The manifest container to audit (default: the one whose image is the audited one, or the only one). */
  container?: string;
  /**
   * The redactor that masks every secret the audit learns (--env, build args, the Dockerfile's and the
   * image's secret-looking ENV/ARG, what the secrets check finds). Pass your own to guard your own
   * output with the same values (the CLI does); else the audit makes one. The report, the callbacks'
   * lines and errors are redacted either way.
   */
  redactor?: Redactor;
}
