// What every check is: an id (public contract), a title, what observations it needs, a pure `run`, and
// everything else about it that reporters and the gate use (its evidence as lines, its fix hint, its
// doc page, its Dockerfile location, its gate metrics). A reporter iterates; it never switches on an id.
import type { BuildResult, DockerPort } from '../docker/port.js';
import type { FileFacts, ImageBasics } from '../facts/image-facts.js';
import type { StageView } from '../facts/dockerfile.js';
import type { LiveProbe } from '../lifecycle/probe.js';
import type { EarlyExit, LifecycleObservation } from '../lifecycle/observe.js';
import type { NotObserved } from '../observed.js';
import type { ManifestTarget } from '../manifest/select.js';
import { formatBytes, formatMs } from '../units.js';
import type { CheckId, CheckResult, CheckStatus, SourceLocation, TargetSpec } from '../types.js';

/**
 * image: config and history; files: read from a created, never-started container; lifecycle: one
 * started container observed from start to exit; runtime: the app process seen from inside that
 * container (pid, cwd, argv, node version, NODE_ENV), read once by an exec'd node.
 */
export type Need = 'image' | 'files' | 'lifecycle' | 'runtime';

export interface CheckSettings {
  sizeBudgetBytes: number;
  shutdownBudgetMs: number;
  acceptedInits: string[];
  /** The app's TCP port, when given (else probes use the image's first EXPOSEd TCP port). */
  port?: number;
  drainPath: string;
  deep: boolean;
  /** The builder for every build of the audit: 'classic' forced by IMAGE_AUDIT_BUILDER=classic, read once in resolveSettings. */
  builder: 'auto' | 'classic';
  /** The layer-scan cache's folder (IMAGE_AUDIT_CACHE, IMAGE_AUDIT_CACHE_DIR, XDG_CACHE_HOME: read once in resolveSettings); undefined: no cache. */
  layerCacheDir?: string;
  /** The audited container's memory limit in bytes (--memory, default 1GiB; 0: none), when known. */
  memoryBytes?: number;
  /** The Kubernetes manifest's container the audit ran as (--manifest), when one was given. */
  manifest?: ManifestTarget;
}

export interface CheckInput {
  basics: ImageBasics;
  files?: FileFacts;
  lifecycle?: LifecycleObservation;
  settings: CheckSettings;
  /** What this check's own `observe` gathered (undefined when it has none). */
  observed?: unknown;
  /** The daemon's nature, when the audit asked for it. */
  daemon?: { userns: boolean; rootless: boolean; engine: 'docker' | 'podman' };
}

export interface Verdict<E = Record<string, unknown>> {
  status: CheckStatus;
  message: string;
  evidence: E;
  /** One or two lines: what to change, chosen from what was observed (fail and warn). */
  hint?: string;
  /**
   * Secret values the check found in the image. The audit feeds them to the one redactor, which masks
   * them wherever bytes leave (messages, evidence, logs, every report): a check never masks on its own.
   * They are not part of the report.
   */
  secrets?: string[];
  /** Where the finding is written when it is about the manifest (file, line): it wins over the Dockerfile's. */
  location?: SourceLocation;
}

/** A context target's build context as the audit built it: what a check may use of it without src/target/. */
export interface BuiltContext {
  /** The ignore file that decided what was sent (`<Dockerfile>.dockerignore` or `.dockerignore`), relative; undefined: none. */
  ignoreFile?: string;
  /** Whether a path relative to the context is sent to the builder. */
  isSent(relativePath: string): boolean;
  /** Builds `copyDir`, a copy of the context, as the target was built (Dockerfile, args, stage, builder, deadline), tagged `tag`. */
  rebuild(copyDir: string, tag: string, signal: AbortSignal): Promise<BuildResult>;
}

/** What a check may use to gather its own observation, once, before it runs. */
export interface ObserveContext {
  docker: DockerPort;
  basics: ImageBasics;
  /** The image id the daemon knows. */
  imageRef: string;
  /** The target as given, and the build context when the audit built it. */
  target: TargetSpec;
  contextDir?: string;
  dockerfile?: string;
  builtContext?: BuiltContext;
  /** The Dockerfile's stage view, parsed once per audit (undefined for an image reference or an unreadable Dockerfile). */
  stage?: () => Promise<StageView | undefined>;
  /**
   * A created, never-started container of the image, for archive reads. It resolves once the app's
   * container has been started: each archive read costs the daemon a helper process, which slowed the
   * start. Undefined when the audit made none.
   */
  filesContainer?: () => Promise<string>;
  signal: AbortSignal;
  settings: CheckSettings;
  onStatus?: (line: string) => void;
}

/** A number the release gate compares between baseline and candidate. */
export interface GateMetric {
  /** Key in the gate's thresholds and reports, e.g. "shutdown". */
  key: string;
  label: string;
  unit: 'ms' | 'bytes';
  of(result: CheckResult): number | undefined;
}

export interface Check {
  id: CheckId;
  title: string;
  needs: Need[];
  /** The general fix, for rule help texts (SARIF) and docs. */
  help: string;
  /** Costly probes run only with --deep. */
  deep?: boolean;
  /** About a Kubernetes manifest: present when --manifest is given (or when named in --only). */
  withManifest?: boolean;
  /** A probe on the live container (between "up" and the exit), run by the lifecycle. */
  probe?: LiveProbe;
  /** The check's own observation, gathered once before `run` (e.g. the image's layers). */
  observe?(context: ObserveContext): Promise<unknown>;
  run(input: CheckInput): Verdict;
  /** The evidence as short lines, for terminals, JUnit and test failure messages. */
  lines(result: CheckResult): string[];
  /** The Dockerfile instruction responsible for the verdict, in the stage that became the image. */
  locate?(stage: StageView, basics: ImageBasics): SourceLocation | undefined;
  metrics?: GateMetric[];
}

export const verdict = (status: CheckStatus, message: string, evidence: Record<string, unknown> = {}, hint?: string): Verdict => ({
  status,
  message,
  evidence,
  ...(hint && (status === 'fail' || status === 'warn' || status === 'error') ? { hint } : {}),
});

/**
 * The only verdict a check may give for a fact it could not observe: `error` (it should have been
 * seen: a failed read, an interrupted probe) or `skip` (there is nothing of the kind to judge), with
 * the reason the read failed, never a pass or a fail.
 */
export const unobservedVerdict = (fact: NotObserved, evidence: Record<string, unknown> = {}, status: 'error' | 'skip' = 'error', prefix = 'not observed'): Verdict =>
  verdict(status, `${prefix}: ${fact.why}`, { ...evidence, notObserved: fact.why });

/** The doc page of a check, relative to the package root. */
export const docPath = (id: string) => `docs/checks/${id}.md`;

/** Lifecycle checks get `lifecycle` and `files` when they declare the need; this narrows it once. */
export function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`internal: ${what} was not gathered`);
  return value;
}

/**
 * The line of an app's output that says what went wrong: Node prints the error line, then a stack,
 * then "Node.js v20.x" last, so the last line is rarely the one to quote.
 */
export function tellingLine(lines: string[]): string | undefined {
  const clean = lines.map((l) => l.trim()).filter(Boolean);
  // Node prints the throwing source line above a caret line: that is code, not the error.
  const code = new Set(clean.flatMap((l, i) => (/^\^+$/.test(clean[i + 1] ?? '') ? [i] : [])));
  const candidates = clean.filter((_, i) => !code.has(i));
  const error = candidates.find((l) => /^(\w*Error|FATAL|Fatal|panic|UnhandledPromiseRejection)\b|^\w+Error:|^\[?UnhandledPromiseRejection|^\[\w+Error|Error \[|Cannot find module|ECONNREFUSED|EADDRINUSE|is not set/.test(l));
  return error ?? [...candidates].reverse().find((l) => !/^Node\.js v\d/.test(l) && !/^at /.test(l) && !/^\^+$/.test(l) && !/^[{}()[\];,]+$/.test(l));
}

/** The app's own words when it stopped early, quoted in messages. */
export function lastLogLine(lifecycle: LifecycleObservation): string {
  const line = tellingLine(lifecycle.logs);
  return line ? `; it said: "${line.slice(0, 200)}"` : '; it printed nothing';
}

/**
 * Start refusals that the image itself causes: its USER, its ENTRYPOINT/CMD program, its WORKDIR
 * (runc's, crun's and Podman's wording). Anything else (cgroups, the network, a shim) is the engine's.
 */
const IMAGE_START_FAULT = new RegExp(
  [
    'unable to find (user|group)',
    'no matching entries in (passwd|group)',
    // The program to run: runc's `exec: "/app/x": stat /app/x: no such file or directory`, crun's `executable file '/x' not found`.
    'executable file .*not found',
    'exec: "[^"]*": .*(no such file or directory|permission denied|exec format error|not a directory)',
    'exec format error',
    // WORKDIR: `chdir to cwd ("/x") set in config.json failed: not a directory`.
    'chdir to cwd',
  ].join('|'),
  'i',
);

/**
 * The verdict of a check that judges the running app (it must start to pass) when the start was
 * refused: `fail` when the image caused it, `error` when the engine did (nothing about the image was
 * seen). Undefined when the container started.
 */
export function startRefused(lifecycle: LifecycleObservation, evidence: Record<string, unknown>): Verdict | undefined {
  const why = lifecycle.startError;
  if (why === undefined) return undefined;
  if (IMAGE_START_FAULT.test(why)) return verdict('fail', `the container could not start: ${why}`, evidence);
  return verdict('error', `the engine could not start the container (this says nothing about the image): ${why}`, evidence);
}

/** A memory limit as --memory takes it: "64 MiB", "1 GiB", else decimal. */
function limitText(bytes: number): string {
  if (bytes % 2 ** 30 === 0) return `${bytes / 2 ** 30} GiB`;
  if (bytes % 2 ** 20 === 0) return `${bytes / 2 ** 20} MiB`;
  return formatBytes(bytes);
}

/** Whose the memory limit was: the audit's own (--memory), which the image does not choose. */
function memoryLimitText(settings?: Pick<CheckSettings, 'memoryBytes'>): string {
  if (settings?.memoryBytes === undefined) return ", under the audit's memory limit (--memory, default 1 GiB)";
  if (settings.memoryBytes === 0) return ' (the audit set no memory limit: the host ran out)';
  return `, under the audit's memory limit of ${limitText(settings.memoryBytes)} (--memory, default 1 GiB)`;
}

/** The fix for an app killed for memory under the audit's limit. */
export function oomHint(settings?: Pick<CheckSettings, 'memoryBytes'>): string {
  const limit = settings?.memoryBytes ? limitText(settings.memoryBytes) : 'its limit';
  return `The app used more memory than the audit's --memory (${limit}) allows: raise --memory (e.g. \`--memory 2GiB\`) if it needs that much in production too, or reduce what it allocates at start.`;
}

/**
 * An exit before the stop signal in words: the kernel's OOM kill (naming the audit's limit), or the app's
 * own exit with its code. A code or time the engine did not give is said to be unknown, never made up.
 */
export function earlyExitText(exit: EarlyExit, settings?: Pick<CheckSettings, 'memoryBytes'>): string {
  const after = exit.afterMs.ok ? ` after ${formatMs(exit.afterMs.value)}` : ` (when is not known: ${exit.afterMs.why})`;
  if (exit.oomKilled) {
    return `the app was killed for running out of memory (OOM${exit.exitCode.ok ? `, exit ${exit.exitCode.value}` : ''})${after}${memoryLimitText(settings)}`;
  }
  if (!exit.exitCode.ok) return `the app stopped (its exit code is not known: ${exit.exitCode.why})${after}`;
  return `the app exited by itself with code ${exit.exitCode.value}${after}`;
}

/** When the lifecycle could not be observed at all, say why (shared by the runtime checks). */
export function notObserved(lifecycle: LifecycleObservation, settings?: Pick<CheckSettings, 'memoryBytes'>): string | undefined {
  if (lifecycle.startError !== undefined) return `the container could not start: ${lifecycle.startError || '(the engine gave no reason)'}`;
  if (lifecycle.exitedEarly) {
    const exit = lifecycle.exitedEarly;
    return `${earlyExitText(exit, settings)}${exit.oomKilled ? '' : lastLogLine(lifecycle)}`;
  }
  return undefined;
}

/** Adds "label: value" lines, skipping empty values: the shape every check's `lines` uses. */
export function lineWriter() {
  const lines: string[] = [];
  const add = (label: string, value: unknown) => {
    if (value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)) return;
    lines.push(`${label}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  };
  return { lines, add };
}

/** The app's last log lines, for checks whose verdict depends on the app running. */
export function logLines(result: CheckResult, key = 'lastLogLines'): string[] {
  const logs = (result.evidence as Record<string, unknown>)[key];
  if (result.status === 'pass' || !Array.isArray(logs) || !logs.length) return [];
  return ['last log lines:', ...(logs as string[]).slice(-5).map((l) => `  ${l}`)];
}
