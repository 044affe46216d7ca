import { formatMs } from '../units.js';
import { lastLogLine, required, verdict, type Check } from './check.js';

const NS_PER_MS = 1e6;

/** The line of a probe's output that says what went wrong (a stack trace starts with a location). */
export function telling(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /error|cannot|not found|refused|denied|failed|timed out/i.test(l)) ?? lines[0] ?? '';
}

export const healthcheck: Check = {
  id: 'healthcheck',
  title: 'Declares a HEALTHCHECK that turns healthy',
  needs: ['image', 'lifecycle'],
  run({ basics, lifecycle }) {
    const declared = basics.image.config.healthcheck;
    if (!declared) {
      return verdict('fail', 'the image declares no HEALTHCHECK: orchestrators cannot tell when it is ready or stuck', {});
    }
    const life = required(lifecycle, 'lifecycle');
    const configured = {
      test: declared.test,
      intervalMs: declared.intervalNs / NS_PER_MS || undefined,
      timeoutMs: declared.timeoutNs / NS_PER_MS || undefined,
      startPeriodMs: declared.startPeriodNs / NS_PER_MS || undefined,
      retries: declared.retries || undefined,
    };
    if (life.startError) return verdict('fail', `the container could not start: ${life.startError}`, { configured });
    const health = required(life.health, 'health observation');
    const lastProbe = health.probes[health.probes.length - 1];
    const probeOutput = lastProbe?.output.trim();
    const evidence = {
      configured,
      effective: health.effective,
      note: health.intervalShortened
        ? `the audit probed every ${formatMs(health.effective.intervalMs)} instead of the image's interval; command, timeout, start period and retries are the image's`
        : undefined,
      deadlineMs: Math.round(health.deadlineMs),
      timeline: health.transitions,
      probes: health.probes.slice(-5).map((p) => ({ atMs: p.atMs, exitCode: p.exitCode, output: p.output.trim().slice(0, 500) })),
      lastLogLines: life.logs.slice(-10),
    };
    const quote = probeOutput ? `; probe said: "${telling(probeOutput).slice(0, 200)}"` : '';
    switch (health.outcome) {
      case 'healthy':
        return verdict('pass', `healthy ${formatMs(health.timeToHealthyMs ?? 0)} after start`, evidence);
      case 'unhealthy': {
        const at = health.transitions.find((t) => t.status === 'unhealthy')?.atMs ?? 0;
        return verdict('fail', `turned unhealthy ${formatMs(at)} after start${quote}`, evidence);
      }
      case 'exited':
        return verdict('fail', `the app exited with code ${life.exitedEarly?.exitCode} before it was healthy${lastLogLine(life)}`, evidence);
      default:
        return verdict('fail', `still not healthy after ${formatMs(health.deadlineMs)} (deadline from the image's own timings)${quote}`, evidence);
    }
  },
};
