// Probes provoke something on the live container (a zombie, a frozen app, traffic during the stop) and
// observe what follows. A check declares its probe; the lifecycle runs it at the right moment, with the
// audit's abort signal and a bound. A probe that perturbs the app (`perturbs`) runs on a container of its
// own, so it never changes what the other checks observe on the shared one.
import type { DockerPort, ExecRequest, ExecResult } from '../docker/port.js';
import type { ImageBasics } from '../facts/basics.js';
import type { ManifestTarget } from '../manifest/select.js';
import type { Clock } from '../wait.js';
import type { ContainerWatch } from './events.js';
import type { HealthObservation } from './health-wait.js';
import type { ProcessTree } from './process-tree.js';
import type { AppRuntime } from './runtime.js';

export interface ProbeSettings {
  shutdownBudgetMs: number;
  /** The app's TCP port: --port, else the image's first EXPOSEd TCP port. */
  port?: number;
  drainPath: string;
  /** The Kubernetes manifest's container the audit runs as (--manifest), for probes that act as the kubelet would. */
  manifest?: ManifestTarget;
  /** --deep: the costly parts of a probe too. */
  deep?: boolean;
}

export interface LiveContext {
  containerId: string;
  docker: DockerPort;
  /** Aborted when the audit is interrupted or the probe's bound passes. */
  signal: AbortSignal;
  clock: Clock;
  basics: ImageBasics;
  processes: ProcessTree;
  /** The app seen from inside the container, when a check needed it. */
  runtime?: AppRuntime;
  health?: HealthObservation;
  /** Health transitions and the exit, from the daemon's events. */
  watch: ContainerWatch;
  settings: ProbeSettings;
  /** Runs a program in the container (no shell), bounded and cancelled with the probe. */
  exec(argv: string[], options?: Partial<Omit<ExecRequest, 'argv' | 'signal'>>): Promise<ExecResult>;
  /**
   * Runs a program in a helper container of the same image that shares the audited container's network
   * namespace (so it reaches the app on 127.0.0.1) but not its pid namespace: it outlives the app's exit
   * and can report what the exit did to its connections. Labelled and removed like every audit container.
   */
  sidecar(argv: string[], options?: Partial<Omit<ExecRequest, 'argv' | 'signal' | 'user' | 'env' | 'workingDir'>>): Promise<ExecResult>;
  /** Adds an event to the lifecycle's timeline. */
  record(event: string, detail?: string): void;
  /** Milliseconds since the container started (the timeline's clock). */
  atMs(): number;
}

/**
 * A perturbing probe's container starts once the shared container has exited, so the shared lifecycle
 * runs alone as in an audit without the probe; but no later than this after the shared one started, so
 * an app slow to come up (or never healthy) does not make a deep audit wait for its deadline twice.
 */
export const PERTURBING_HEAD_START_MS = 10_000;

export interface LiveProbe<R = unknown> {
  /** Bound on the probe (both phases together). */
  timeoutMs: number;
  /**
   * The probe changes what the other checks would observe on its container: it holds connections of its
   * own, freezes the app, or owns the stop (sends the stop signal under its traffic). The audit then runs
   * it alone on a container of its own (same image, same create options and labels, observed from start
   * to exit, started once the shared one has exited: see PERTURBING_HEAD_START_MS), and the shared
   * container's lifecycle stays the one an audit without it sees.
   */
  perturbs?: boolean;
  /** Runs once the app is up, before the stop signal; probes run one after another. */
  whileUp?(context: LiveContext): Promise<R>;
  /**
   * Run `whileUp` as soon as the container runs, alongside the wait for "up" (for probes that need only
   * a running container, not the app: they then cost no time of their own). `processes` is then the
   * first sample, which may not show the app yet.
   */
  duringStartup?: boolean;
  /** Arms before the stop signal (e.g. opens connections); the function it returns collects after the exit. */
  aroundStop?(context: LiveContext): Promise<() => Promise<R>>;
}

/** What a probe gave: its value, or why it could not run (a `skip`/`error` for its check, never a pass). */
export type ProbeOutcome = { ran: true; value: unknown; durationMs: number } | { ran: false; reason: string; durationMs: number };

/** A probe that throws could not run: its reason is kept for its check; an abort of the audit propagates. */
export async function runProbe(work: () => Promise<unknown>, clock: Clock, signal: AbortSignal): Promise<ProbeOutcome> {
  const began = clock.now();
  try {
    const value = await work();
    return { ran: true, value, durationMs: Math.round(clock.now() - began) };
  } catch (err) {
    if (signal.aborted) throw err;
    const e = err as Error;
    const reason = e.name === 'TimeoutError' || e.name === 'AbortError' ? 'the probe did not finish within its bound' : e.message;
    return { ran: false, reason, durationMs: Math.round(clock.now() - began) };
  }
}
