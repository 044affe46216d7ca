// Probes provoke something on the live container (a zombie, a frozen app, traffic during the stop) and
// observe what follows. A check declares its probe; the lifecycle runs it at the right moment, on the one
// container every check shares, with the audit's abort signal and a bound.
import type { DockerPort, ExecRequest, ExecResult } from '../docker/port.js';
import type { ImageBasics } from '../facts/image-facts.js';
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

export interface LiveProbe<R = unknown> {
  /** Bound on the probe (both phases together). */
  timeoutMs: number;
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
