import { formatMs } from '../units.js';
import { unobserved } from '../observed.js';
import { earlyExitText, lastLogLine, lineWriter, logLines, oomHint, required, startRefused, tellingLine, unobservedVerdict, verdict, type Check } from './check.js';

const NS_PER_MS = 1e6;

/** The line of a probe's output that says what went wrong (a stack trace starts with a location). */
export function telling(output: string): string {
  return tellingLine(output.split('\n')) ?? '';
}

/** A probe command that needs a program the image may lack, e.g. curl in a slim Node image. */
function missingProgram(output: string): string | undefined {
  return /(?:exec: "?|sh: \d+: |\/bin\/sh: )(\w[\w.-]*)"?:? (?:executable file )?not found/.exec(output)?.[1];
}

export const healthcheck: Check = {
  id: 'healthcheck',
  title: 'Declares a HEALTHCHECK that turns healthy',
  needs: ['image', 'lifecycle'],
  help: 'Declare a HEALTHCHECK whose command exists in the final image (e.g. a copied healthcheck.js, or `node -e` with http.get), with a start period that covers boot.',
  run({ basics, lifecycle, settings }) {
    const declared = basics.image.config.healthcheck;
    const probeHint = 'e.g. `HEALTHCHECK --interval=10s --timeout=3s --start-period=10s CMD ["node", "-e", "fetch(\'http://127.0.0.1:3000/health\').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]`';
    if (!declared && settings.manifest) {
      // Kubernetes never runs an image's HEALTHCHECK: under --manifest the kubelet's probes are what count,
      // and k8s-probes runs them. A HEALTHCHECK the image does declare is still run (docker, compose).
      const { workload, container } = settings.manifest;
      return verdict('skip', `the image declares no HEALTHCHECK, which Kubernetes ignores anyway: ${container.name} of ${workload} is probed by the manifest's probes (see k8s-probes)`, {});
    }
    if (!declared) {
      return verdict('fail', 'the image declares no HEALTHCHECK: orchestrators cannot tell when it is ready or stuck', {}, `Add a HEALTHCHECK that asks the app itself, ${probeHint}.`);
    }
    const life = required(lifecycle, 'lifecycle');
    const configured = {
      test: declared.test,
      intervalMs: declared.intervalNs / NS_PER_MS || undefined,
      timeoutMs: declared.timeoutNs / NS_PER_MS || undefined,
      startPeriodMs: declared.startPeriodNs / NS_PER_MS || undefined,
      retries: declared.retries || undefined,
    };
    const refused = startRefused(life, { configured });
    if (refused) return refused;
    const health = required(life.health, 'health observation');
    const lastProbe = health.probes[health.probes.length - 1];
    const probeOutput = lastProbe?.output.trim();
    // Transitions after the probes began are the probes' doing (health-detects-hang freezes the app).
    const timeline = health.transitions.slice(0, health.transitionsBeforeProbes);
    const firstHealthy = timeline.findIndex((t) => t.status === 'healthy');
    const flapped = firstHealthy >= 0 ? timeline.slice(firstHealthy + 1).find((t) => t.status === 'unhealthy') : undefined;
    const evidence = {
      configured,
      effective: health.effective,
      note: health.intervalShortened
        ? `the audit probed every ${formatMs(health.effective.intervalMs)} instead of ${formatMs(health.image.intervalMs)}; command, timeout, start period and retries are the image's, and so is the deadline (${formatMs(health.deadlineMs)})`
        : undefined,
      deadlineMs: Math.round(health.deadlineMs),
      capMs: health.capMs,
      timeline,
      probes: health.probes.slice(-5).map((p) => ({ atMs: p.atMs, exitCode: p.exitCode, output: p.output.trim().slice(0, 500) })),
      probeRuns: health.probeRuns.length ? health.probeRuns.slice(-5) : undefined,
      lastLogLines: life.logs.slice(-10),
    };
    const quote = probeOutput ? `; probe said: "${telling(probeOutput).slice(0, 200)}"` : '';
    const missing = probeOutput ? missingProgram(probeOutput) : undefined;
    const fixProbe = missing
      ? `The probe runs \`${missing}\`, which the image does not have: use node itself, ${probeHint}.`
      : /Cannot find module/.test(probeOutput ?? '')
        ? 'The probe script is not in the final image: COPY it into the runtime stage (or use `node -e` inline).'
        : `Make the probe ask the app and exit 0 when it answers, ${probeHint}.`;
    switch (health.outcome) {
      case 'healthy': {
        if (flapped) {
          return verdict('fail', `flapping: healthy at ${formatMs(health.timeToHealthyMs ?? 0)}, then unhealthy at ${formatMs(flapped.atMs)}${quote}`, evidence, 'The app answers the probe only intermittently: check the probe timeout against the app\'s response time under load.');
        }
        const early = health.unhealthyBeforeHealthyAtMs !== undefined
          ? ` (unhealthy at ${formatMs(health.unhealthyBeforeHealthyAtMs)} under the audit's faster probing, still within the image's own grace)`
          : '';
        return verdict('pass', `healthy ${formatMs(health.timeToHealthyMs ?? 0)} after start${early}`, evidence);
      }
      case 'unhealthy': {
        const at = timeline.find((t) => t.status === 'unhealthy')?.atMs ?? 0;
        const until = health.cappedAtMs !== undefined ? `--health-timeout (${formatMs(health.cappedAtMs)})` : `the image's own deadline (${formatMs(health.deadlineMs)})`;
        return verdict('fail', `unhealthy from ${formatMs(at)} after start and still at ${until}${quote}`, evidence, fixProbe);
      }
      case 'exited': {
        const exit = life.exitedEarly;
        if (!exit) return unobservedVerdict(unobserved('the app stopped before it was healthy, but its exit was not recorded'), evidence);
        if (exit.oomKilled) return verdict('fail', `${earlyExitText(exit, settings)}, before it was healthy`, evidence, oomHint(settings));
        const code = exit.exitCode.ok ? `with code ${exit.exitCode.value}` : `(exit code not known: ${exit.exitCode.why})`;
        return verdict('fail', `the app exited ${code} before it was healthy${lastLogLine(life)}`, evidence, 'The app crashed at start: see its log lines (a missing variable? pass it with --env).');
      }
      default: {
        const bound = health.cappedAtMs !== undefined
          ? `within --health-timeout (${formatMs(health.cappedAtMs)}; the image's own deadline is ${formatMs(health.deadlineMs)})`
          : `after ${formatMs(health.deadlineMs)} (deadline from the image's own timings)`;
        if (!health.probes.length && !timeline.length) {
          // Docker logs a probe once it ends (a timed-out one too): none logged, but one started and not
          // ended, is a probe still running at the bound the user set. None started: the engine ran none.
          const running = health.probeRuns.find((r) => r.endedAtMs === undefined);
          if (running) {
            return verdict(
              'fail',
              `still not healthy ${bound}: its probe, started ${formatMs(running.startedAtMs)} after start, was still running when the wait ended (the image's probe timeout is ${formatMs(health.image.timeoutMs)})`,
              evidence,
              `The HEALTHCHECK command did not answer within the wait: make it answer in a second or two by asking the app, ${probeHint}; or raise --health-timeout if the app needs longer.`,
            );
          }
          if (!health.probeRuns.length) {
            return verdict('error', `no health probe ran within ${formatMs(health.cappedAtMs ?? health.deadlineMs)}: the engine does not run this image's HEALTHCHECK (Podman without systemd timers does not), so health could not be observed`, evidence);
          }
        }
        return verdict('fail', `still not healthy ${bound}${quote}`, evidence, fixProbe);
      }
    }
  },
  lines(result) {
    const e = result.evidence as { configured?: { test?: string[] }; timeline?: Array<{ status: string; atMs: number }>; note?: string; probes?: Array<{ atMs: number; exitCode: number; output: string }> };
    const { lines, add } = lineWriter();
    add('test', e.configured?.test?.join(' '));
    if (e.timeline) add('timeline', e.timeline.map((t) => `${t.status} @ ${formatMs(t.atMs)}`).join(' → '));
    add('note', e.note);
    for (const probe of (e.probes ?? []).slice(-2)) add(`probe @ ${formatMs(probe.atMs)} exit ${probe.exitCode}`, telling(probe.output) || '(no output)');
    return [...lines, ...logLines(result)];
  },
  locate: (stage) => stage.last('HEALTHCHECK'),
  metrics: [
    {
      key: 'healthy',
      label: 'time to healthy',
      unit: 'ms',
      of: (result) => (result.evidence as { timeline?: Array<{ status: string; atMs: number }> }).timeline?.find((t) => t.status === 'healthy')?.atMs,
    },
  ],
};
