// "Up" for an image with a HEALTHCHECK: the daemon says healthy. The audit probes every 500 ms (so a
// healthy app is seen at once) but keeps the image's own grace: Docker gives an app start_period plus
// `retries` failing probes at the image's interval before it is unhealthy, so an early "unhealthy" under
// our faster interval is noted, not concluded, until the image's own deadline.
import type { DockerPort, HealthcheckConfig, HealthProbe } from '../docker/port.js';
import type { ContainerWatch } from './events.js';
import { cutLine } from './text.js';

const NS_PER_MS = 1e6;
/** Docker's defaults when HEALTHCHECK leaves a timing out. */
const HEALTH_DEFAULTS = { intervalNs: 30_000 * NS_PER_MS, timeoutNs: 30_000 * NS_PER_MS, startPeriodNs: 0, retries: 3 };
/** We probe at least this often; the image's test command, timeout, start period and retries stay. */
export const AUDIT_HEALTH_INTERVAL_MS = 500;
const DEADLINE_SLACK_MS = 2000;

export interface HealthTimings {
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  retries: number;
}

export interface HealthObservation {
  configured: HealthcheckConfig;
  /** The image's own timings (Docker's defaults filled in). */
  image: HealthTimings;
  /** What the audit ran with. */
  effective: HealthTimings;
  intervalShortened: boolean;
  /** When the image itself would be unhealthy at the latest: start period + (retries + 1) × interval + timeout. */
  deadlineMs: number;
  /** The --health-timeout cap on the whole wait. */
  capMs: number;
  /** Transitions in ms since the container started, on the daemon's clock. */
  transitions: Array<{ status: string; atMs: number }>;
  probes: Array<HealthProbe & { atMs: number }>;
  /**
   * The HEALTHCHECK command runs the daemon started (its `exec_start` events) by the end of the wait, ms
   * since start, each with its end when an `exec_die` came: a probe with no end was still running.
   */
  probeRuns: Array<{ startedAtMs: number; endedAtMs?: number; exitCode?: number }>;
  /** How many transitions had arrived when the probes began (or the stop signal went out): later ones are their doing. */
  transitionsBeforeProbes?: number;
  /**
   * healthy; unhealthy (still unhealthy at the image's own deadline); starting (neither by the deadline
   * or the cap); exited (the app stopped first).
   */
  outcome: 'healthy' | 'unhealthy' | 'starting' | 'exited';
  /** The wait ended at --health-timeout before the image's own deadline. */
  cappedAtMs?: number;
  timeToHealthyMs?: number;
  /** Unhealthy under the audit's interval before the image's deadline, then healthy: noted in the verdict. */
  unhealthyBeforeHealthyAtMs?: number;
}

/** The health override applied at create time: the image's command and timings, probed more often. */
export function auditHealthOverride(image: HealthcheckConfig): Partial<HealthcheckConfig> | undefined {
  const intervalNs = image.intervalNs || HEALTH_DEFAULTS.intervalNs;
  if (intervalNs <= AUDIT_HEALTH_INTERVAL_MS * NS_PER_MS) return undefined;
  // An empty test (and zero timings) make the daemon keep the image's own.
  return { intervalNs: AUDIT_HEALTH_INTERVAL_MS * NS_PER_MS };
}

export function healthPlan(configured: HealthcheckConfig, capMs: number) {
  const image: HealthTimings = {
    intervalMs: (configured.intervalNs || HEALTH_DEFAULTS.intervalNs) / NS_PER_MS,
    timeoutMs: (configured.timeoutNs || HEALTH_DEFAULTS.timeoutNs) / NS_PER_MS,
    startPeriodMs: (configured.startPeriodNs || HEALTH_DEFAULTS.startPeriodNs) / NS_PER_MS,
    retries: configured.retries || HEALTH_DEFAULTS.retries,
  };
  const override = auditHealthOverride(configured);
  const effective = { ...image, intervalMs: override?.intervalNs ? override.intervalNs / NS_PER_MS : image.intervalMs };
  const deadlineMs = image.startPeriodMs + (image.retries + 1) * image.intervalMs + image.timeoutMs + DEADLINE_SLACK_MS;
  return { image, effective, intervalShortened: override !== undefined, deadlineMs, capMs };
}

export interface HealthWaitOptions {
  docker: DockerPort;
  containerId: string;
  configured: HealthcheckConfig;
  capMs: number;
  watch: ContainerWatch;
  /** Daemon-clock time the container started (ms since the epoch). */
  startedAtMs: number;
  /** ms since start on our clock, for the cap. */
  elapsedMs: () => number;
  signal: AbortSignal;
  onStatus?: (line: string) => void;
}

/** Waits on the events stream until healthy, the image's deadline, the cap, or the exit. */
export async function waitUntilHealthy(opts: HealthWaitOptions): Promise<HealthObservation> {
  const plan = healthPlan(opts.configured, opts.capMs);
  const health: HealthObservation = { configured: opts.configured, ...plan, transitions: [], probes: [], probeRuns: [], outcome: 'starting' };
  const sinceStart = (timeMs: number) => Math.max(0, Math.round(timeMs - opts.startedAtMs));
  const until = Math.min(plan.deadlineMs, plan.capMs);
  let seen = -1;
  for (;;) {
    if (opts.watch.died) {
      health.outcome = 'exited';
      break;
    }
    const remaining = until - opts.elapsedMs();
    if (remaining <= 0) break;
    opts.onStatus?.(`waiting for healthy, ${(opts.elapsedMs() / 1000).toFixed(1)} s of ${(until / 1000).toFixed(0)} s`);
    const next = await Promise.race([
      opts.watch.nextHealth(seen, Math.min(remaining, 10_000), opts.signal),
      opts.watch.waitFor((e) => e.action === 'die', Math.min(remaining, 10_000), opts.signal).then(() => undefined),
    ]);
    while (opts.watch.transitions.length - 1 > seen) {
      seen++;
      const t = opts.watch.transitions[seen];
      health.transitions.push({ status: t.status, atMs: sinceStart(t.timeMs) });
    }
    const last = health.transitions[health.transitions.length - 1];
    if (last?.status === 'healthy') {
      health.outcome = 'healthy';
      health.timeToHealthyMs = last.atMs;
      const before = health.transitions.find((t) => t.status === 'unhealthy');
      if (before) health.unhealthyBeforeHealthyAtMs = before.atMs;
      break;
    }
    if (next === undefined && opts.watch.died) {
      health.outcome = 'exited';
      break;
    }
  }
  if (health.outcome === 'starting') {
    const last = health.transitions[health.transitions.length - 1];
    // Still unhealthy when the wait ended (the image's deadline or the cap): `cappedAtMs` tells which.
    if (last?.status === 'unhealthy') health.outcome = 'unhealthy';
    if (plan.capMs < plan.deadlineMs && opts.elapsedMs() >= plan.capMs) health.cappedAtMs = plan.capMs;
  }
  health.probeRuns = probeRuns(opts.watch, opts.configured, sinceStart);
  // The probes' own outputs come from inspect: the daemon keeps the last five.
  const state = await opts.docker.inspectContainer(opts.containerId, { signal: opts.signal }).catch(() => undefined);
  for (const probe of state?.health?.log ?? []) health.probes.push({ ...probe, output: cutLine(probe.output, 2000), atMs: sinceStart(Date.parse(probe.end)) });
  return health;
}

/** The command line the daemon logs for a HEALTHCHECK's exec: `/bin/sh -c <cmd>` for CMD-SHELL, the argv for CMD. */
export function healthExecCommand(test: string[]): string | undefined {
  const [kind, ...rest] = test;
  if (kind === 'CMD-SHELL') return `/bin/sh -c ${rest.join(' ')}`;
  if (kind === 'CMD') return rest.join(' ');
  return undefined;
}

/** The health probes the daemon exec'd so far (matched by command: the audit's own execs run other commands). */
function probeRuns(watch: ContainerWatch, configured: HealthcheckConfig, sinceStart: (timeMs: number) => number): HealthObservation['probeRuns'] {
  const command = healthExecCommand(configured.test);
  if (command === undefined) return [];
  return watch.execs
    .filter((e) => e.action === `exec_start: ${command}`)
    .map((start) => {
      const id = start.attributes.execID;
      const die = id ? watch.execs.find((e) => e.action === 'exec_die' && e.attributes.execID === id) : undefined;
      return { startedAtMs: sinceStart(start.timeMs), ...(die ? { endedAtMs: sinceStart(die.timeMs), exitCode: Number(die.attributes.exitCode) } : {}) };
    });
}
