// health-detects-hang: once healthy, the app is frozen with SIGSTOP (it cannot answer, but its process
// and port stay) and the HEALTHCHECK must turn the container unhealthy; after SIGCONT it must turn healthy
// again. Never `docker pause`: a paused container reads unhealthy whatever its probe does (moby#46203).
// It runs on a container of its own (`perturbs`): healthcheck judges a container nobody froze.
import type { HealthProbe } from '../docker/port.js';
import type { LiveContext, LiveProbe } from '../lifecycle/probe.js';
import { formatMs } from '../units.js';
import { lineWriter, required, verdict, type Check } from './check.js';
import { execNode, isUnavailable, probeValue, unavailable, type Unavailable } from './probes/shared.js';

const SLACK_MS = 3000;

/**
 * How long a frozen app may take to read unhealthy: Docker runs one probe at a time, each taking up to
 * its timeout when the app hangs, with the interval between them; `retries` failures in a row make it
 * unhealthy. The probe in flight at the freeze may still succeed, hence one more interval.
 */
export function unhealthyBoundMs(h: { intervalMs: number; timeoutMs: number; retries: number }): number {
  return h.retries * (h.intervalMs + h.timeoutMs) + h.intervalMs + h.timeoutMs + SLACK_MS;
}

/** After SIGCONT, the next probe (at most one interval plus one timeout away, twice for the one in flight). */
export function recoveryBoundMs(h: { intervalMs: number; timeoutMs: number }): number {
  return 2 * (h.intervalMs + h.timeoutMs) + SLACK_MS;
}

export interface HangProbeValue {
  kind: 'observed' | 'not-healthy';
  /** How the app was frozen: the kill API on PID 1, or an exec'd kill of the app's pid in the container. */
  via?: 'kill-api' | 'exec';
  appPid?: number;
  frozenAtMs?: number;
  unhealthyAtMs?: number;
  resumedAtMs?: number;
  healthyAgainAtMs?: number;
  unhealthyBoundMs?: number;
  recoveryBoundMs?: number;
  /** The probes the daemon kept (the last five) just before the freeze, from the first that passed: a control. */
  probesBeforeFreeze?: Array<{ exitCode: number; output: string; durationMs: number }>;
  /** The probes the daemon ran while the app was frozen (it keeps the last five). */
  probesWhileFrozen?: Array<{ exitCode: number; output: string; durationMs: number }>;
  health?: { intervalMs: number; timeoutMs: number; retries: number };
}

const SIGNAL_APP = "process.kill(Number(process.argv[1]), process.argv[2])";

async function freezeAndThaw(context: LiveContext): Promise<HangProbeValue | Unavailable> {
  if (!context.basics.image.config.healthcheck || !context.health) return unavailable('the image declares no HEALTHCHECK (see the healthcheck check)');
  if (context.health.outcome !== 'healthy') return { kind: 'not-healthy' };
  const app = context.processes.app;
  if (!app) return unavailable('no node process was found in the container to freeze');
  const effective = context.health.effective;
  const health = { intervalMs: effective.intervalMs, timeoutMs: effective.timeoutMs, retries: effective.retries };
  const nodeIsPid1 = app.hostPid === context.processes.pid1.hostPid;
  // Signals sent inside the pid namespace cannot stop its PID 1; from the host (kill API) they can.
  let send: (signal: 'SIGSTOP' | 'SIGCONT') => Promise<void>;
  let appPid: number | undefined;
  if (nodeIsPid1) {
    send = async (signal) => {
      if ((await context.docker.signal(context.containerId, signal)) === 'not-running') throw new Error(`the container stopped before ${signal}`);
    };
  } else {
    appPid = context.runtime?.pid;
    if (!appPid) return unavailable("the app's pid inside the container could not be read (see the runtime observation), so it cannot be frozen");
    const user = `${app.uid}:${app.gid}`;
    // Never bound to the probe's signal: SIGCONT must reach the app even when the probe was cut short.
    send = async (signal) => {
      const run = await execNode({ ...context, exec: (argv, o) => context.docker.exec(context.containerId, { timeoutMs: 10_000, ...o, argv }) }, SIGNAL_APP, [String(appPid), signal], { user });
      if (isUnavailable(run)) throw new Error(run.reason);
    };
  }
  const value: HangProbeValue = { kind: 'observed', via: nodeIsPid1 ? 'kill-api' : 'exec', appPid, health, unhealthyBoundMs: unhealthyBoundMs(health), recoveryBoundMs: recoveryBoundMs(health) };
  const startedAtMs = Date.now();
  let frozen = false;
  try {
    const before = await context.docker.inspectContainer(context.containerId, { signal: context.signal });
    // From the first passing probe on: the failures of the start (the app not listening yet) are no control.
    const log = before.health?.log ?? [];
    const firstPass = log.findIndex((p) => p.exitCode === 0);
    value.probesBeforeFreeze = firstPass < 0 ? [] : log.slice(firstPass).map(summarise);
    const seen = context.watch.transitions.length - 1;
    await send('SIGSTOP');
    frozen = true;
    value.frozenAtMs = context.atMs();
    context.record('hang-probe', `SIGSTOP to the app (${value.via})`);
    const unhealthy = await nextStatus(context, seen, 'unhealthy', value.unhealthyBoundMs!);
    if (unhealthy) value.unhealthyAtMs = context.atMs();
    const state = await context.docker.inspectContainer(context.containerId, { signal: context.signal });
    value.probesWhileFrozen = (state.health?.log ?? []).filter((p) => Date.parse(p.start) >= startedAtMs - 50).map(summarise);
    const beforeResume = context.watch.transitions.length - 1;
    await send('SIGCONT');
    frozen = false;
    value.resumedAtMs = context.atMs();
    context.record('hang-probe', 'SIGCONT to the app');
    if (unhealthy) {
      const healthy = await nextStatus(context, beforeResume, 'healthy', value.recoveryBoundMs!);
      if (healthy) value.healthyAgainAtMs = context.atMs();
    }
    return value;
  } finally {
    if (frozen) await send('SIGCONT').catch(() => undefined);
  }
}

function summarise(p: HealthProbe) {
  return { exitCode: p.exitCode, output: p.output.trim().slice(0, 300), durationMs: Math.max(0, Date.parse(p.end) - Date.parse(p.start)) };
}

/** Waits for a health transition to `status` after index `after`, within `boundMs`. */
async function nextStatus(context: LiveContext, after: number, status: string, boundMs: number): Promise<boolean> {
  const until = context.clock.now() + boundMs;
  let index = after;
  for (;;) {
    const remaining = until - context.clock.now();
    if (remaining <= 0) return false;
    const next = await context.watch.nextHealth(index, remaining, context.signal);
    if (!next) return false;
    index++;
    if (next.status === status) return true;
  }
}

export const hangProbe: LiveProbe<HangProbeValue | Unavailable> = {
  // Bounded inside by the image's own health timings; this is the outer cap.
  timeoutMs: 300_000,
  // A frozen app turns its container unhealthy on purpose: it gets a container of its own.
  perturbs: true,
  whileUp: freezeAndThaw,
};

export function judgeHang(value: HangProbeValue) {
  const { via, frozenAtMs = 0, unhealthyAtMs, resumedAtMs = 0, healthyAgainAtMs } = value;
  const evidence = { ...value };
  delete (evidence as Partial<HangProbeValue>).kind;
  const probeHint = 'Make the HEALTHCHECK ask the app over HTTP with a timeout, e.g. `CMD ["node", "-e", "fetch(\'http://127.0.0.1:3000/health\', {signal: AbortSignal.timeout(2000)}).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]`, not `true`, `pgrep node` or a port check.';
  if (unhealthyAtMs === undefined) {
    return verdict(
      'fail',
      `the app was frozen (SIGSTOP via ${via === 'kill-api' ? 'the kill API' : 'an exec\'d kill'}) for ${formatMs(resumedAtMs - frozenAtMs)} and the container stayed healthy: the HEALTHCHECK does not notice a hung app`,
      evidence,
      probeHint,
    );
  }
  // Unhealthy proves the probe noticed the hang only if it did not fail without one: on a host loaded
  // enough to run a probe past its timeout, even `node -e 0` turns a container unhealthy.
  const failedBefore = (value.probesBeforeFreeze ?? []).filter((p) => p.exitCode !== 0);
  if (failedBefore.length) {
    const p = failedBefore[failedBefore.length - 1];
    return verdict(
      'error',
      `the HEALTHCHECK failed before the app was frozen too (${failedBefore.length} of the last ${value.probesBeforeFreeze!.length} probes; exit ${p.exitCode}${p.output ? `: "${p.output.split('\n')[0].slice(0, 120)}"` : ''}): whether it notices a hung app cannot be told on this run (a host too loaded to run the probe within its timeout?)`,
      evidence,
    );
  }
  const noticed = formatMs(unhealthyAtMs - frozenAtMs);
  if (healthyAgainAtMs === undefined) {
    return verdict(
      'warn',
      `unhealthy ${noticed} after the app was frozen, but not healthy again within ${formatMs(value.recoveryBoundMs ?? 0)} of SIGCONT`,
      evidence,
      'The app did not recover from a pause: check that its health route does not stay failed after a stall (timeouts, broken connections).',
    );
  }
  return verdict('pass', `unhealthy ${noticed} after the app was frozen; healthy again ${formatMs(healthyAgainAtMs - resumedAtMs)} after SIGCONT`, evidence);
}

export const healthDetectsHang: Check = {
  id: 'health-detects-hang',
  title: 'The HEALTHCHECK notices a frozen app',
  needs: ['image', 'lifecycle', 'runtime'],
  help: 'Make the HEALTHCHECK ask the app itself (an HTTP request with a timeout on the main server), so a hung event loop reads unhealthy.',
  deep: true,
  probe: hangProbe,
  run({ lifecycle }) {
    const life = required(lifecycle, 'lifecycle');
    const got = probeValue<HangProbeValue>(life, 'health-detects-hang');
    if ('verdict' in got) return got.verdict;
    if (got.value.kind === 'not-healthy') return verdict('skip', `the app never turned healthy (outcome "${life.health?.outcome}"), so a hang cannot be told apart (see healthcheck)`, {});
    return judgeHang(got.value);
  },
  lines(result) {
    const e = result.evidence as Partial<HangProbeValue>;
    const { lines, add } = lineWriter();
    if (e.frozenAtMs !== undefined) {
      const steps = [`SIGSTOP @ ${formatMs(e.frozenAtMs)}`];
      if (e.unhealthyAtMs !== undefined) steps.push(`unhealthy @ ${formatMs(e.unhealthyAtMs)}`);
      if (e.resumedAtMs !== undefined) steps.push(`SIGCONT @ ${formatMs(e.resumedAtMs)}`);
      if (e.healthyAgainAtMs !== undefined) steps.push(`healthy @ ${formatMs(e.healthyAgainAtMs)}`);
      add('timeline', steps.join(' → '));
    }
    add('bound', e.unhealthyBoundMs !== undefined ? `${formatMs(e.unhealthyBoundMs)} to read unhealthy` : undefined);
    for (const p of (e.probesWhileFrozen ?? []).slice(-2)) add(`probe while frozen exit ${p.exitCode} in ${formatMs(p.durationMs)}`, p.output || '(no output)');
    return lines;
  },
  locate: (stage) => stage.last('HEALTHCHECK'),
};
