// k8s-grace-period on the packed bin: a slow drain (8 s) under grace 2 s (fail) and 20 s (pass); a preStop
// `sleep 10` plus a 5 s drain under grace 12 s (fail); a preStop `sleep` in an image without sleep (fail); the
// 8 s drain behind a 2.5 s busy start under grace 2 s (fail: "up" waits for the start, so the drain is seen).
import { beforeAll, describe, expect, it } from 'vitest';
import { auditK8s, checkOf, type K8sAudit } from './k8s-support.js';

const audits: Record<string, K8sAudit> = {};
const ONLY = ['--only', 'k8s-grace-period'];

beforeAll(async () => {
  [audits.grace2, audits.grace20] = await Promise.all([auditK8s('Dockerfile', 'slow-drain-grace-2', ONLY), auditK8s('Dockerfile', 'slow-drain-grace-20', ONLY)]);
  [audits.overGrace, audits.noSleep, audits.slowBoot] = await Promise.all([
    auditK8s('Dockerfile', 'prestop-sleep-over-grace', ONLY),
    auditK8s('nosleep.Dockerfile', 'prestop-no-sleep', ONLY),
    auditK8s('Dockerfile', 'slow-boot-grace-2', ONLY),
  ]);
}, 300_000);

describe('k8s-grace-period', () => {
  it('fails an 8 s drain under terminationGracePeriodSeconds 2, at the grace line', () => {
    const c = checkOf(audits.grace2, 'k8s-grace-period');
    expect(c.status, c.message).toBe('fail');
    expect(c.message).toMatch(/still running 2\.0 s after SIGTERM does not fit terminationGracePeriodSeconds 2/);
    expect(c.location?.instruction).toBe('terminationGracePeriodSeconds: 2');
    expect(audits.grace2.report.observed?.limits.shutdownBudgetMs).toBe(2000);
  });
  it('passes the same drain under terminationGracePeriodSeconds 20, with the measured time', () => {
    const c = checkOf(audits.grace20, 'k8s-grace-period');
    expect(c.status, c.message).toBe('pass');
    expect(c.evidence.shutdownMs as number).toBeGreaterThan(7500);
    expect(c.evidence.shutdownMs as number).toBeLessThan(20_000);
  });
  it('fails a preStop sleep 10 plus a 5 s drain under 12 s, counting the sleep without sleeping it', () => {
    const c = checkOf(audits.overGrace, 'k8s-grace-period');
    expect(c.status, c.message).toBe('fail');
    expect(c.message).toMatch(/^preStop 10\.0 s \(exec sleep\) \+ shutdown \d+\.\d+ s = \d+\.\d+ s, over terminationGracePeriodSeconds 12/);
    expect(c.location?.instruction).toBe('preStop:');
    expect(audits.overGrace.run.elapsedMs).toBeLessThan(60_000);
  });
  it('fails a preStop sleep in an image without sleep: FailedPreStopHook, the pause never happens', () => {
    const c = checkOf(audits.noSleep, 'k8s-grace-period');
    expect(c.status, c.message).toBe('fail');
    expect(c.message).toMatch(/the preStop hook \["sleep","5"\] cannot run: sleep does not exist in the image/);
    expect(c.hint).toContain('sleep: { seconds');
  });
  it('waits out a busy start before the SIGTERM: the 8 s drain behind it fails at the grace line, not a 0.3 s death', () => {
    const c = checkOf(audits.slowBoot, 'k8s-grace-period');
    expect(c.status, c.message).toBe('fail');
    expect(c.message).toMatch(/still running 2\.0 s after SIGTERM does not fit terminationGracePeriodSeconds 2/);
    const settled = audits.slowBoot.report.observed!.timeline.find((e) => e.event === 'settled')!;
    expect(settled.atMs).toBeGreaterThan(2500);
    expect(settled.detail).toBeUndefined();
    expect(JSON.stringify(c.evidence)).toContain('SIGTERM: draining for 8000 ms');
  });
});
