// Every outcome of the healthcheck check, from a lifecycle observed on a scripted daemon in fake time.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CheckInput } from '../../src/checks/check.js';
import { healthcheck } from '../../src/checks/healthcheck.js';
import { healthcheckOf, row, scriptedLifecycle, settleInFakeTime, type Script } from '../support/fake-docker.js';

/** Start period 5 s, interval 10 s, timeout 3 s, 3 retries → the image's deadline is 50 s (with 2 s slack). */
const imageProbe = healthcheckOf({ intervalMs: 10_000, timeoutMs: 3000, startPeriodMs: 5000, retries: 3 });
const appRows = [row(100, 1, 'dumb-init -- node server.js'), row(101, 100, 'node server.js')];
const settings: CheckInput['settings'] = { sizeBudgetBytes: 250e6, shutdownBudgetMs: 5000, acceptedInits: ['dumb-init'], drainPath: '/', deep: false, builder: 'auto' };

async function verdictFor(script: Script, healthTimeoutMs = 120_000, over: Partial<CheckInput['settings']> = {}) {
  const { basics, run } = await scriptedLifecycle({ processes: appRows, image: { config: { healthcheck: imageProbe } }, ...script }, { healthTimeoutMs });
  const lifecycle = await settleInFakeTime((ms) => vi.advanceTimersByTimeAsync(ms), run());
  return healthcheck.run({ basics, lifecycle, settings: { ...settings, ...over } });
}

describe('healthcheck', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('passes an image that turns healthy, saying what the audit overrode', async () => {
    const v = await verdictFor({ events: [{ atMs: 1200, action: 'health_status: healthy' }] });
    expect(v.status).toBe('pass');
    expect(v.message).toBe('healthy 1.2 s after start');
    expect(v.evidence.note).toBe(
      "the audit probed every 500 ms instead of 10.0 s; command, timeout, start period and retries are the image's, and so is the deadline (50.0 s)",
    );
    expect(v.hint).toBeUndefined();
  });

  it('keeps a healthy transition that came before the probes when the start call answered late (daemon and our clocks differ by that latency)', async () => {
    const v = await verdictFor({ events: [{ atMs: 2500, action: 'health_status: healthy' }], startAnswersAfterMs: 3000 });
    expect(v.status).toBe('pass');
    expect((v.evidence.timeline as Array<{ status: string }>).map((t) => t.status)).toEqual(['healthy']);
  });

  it("passes healthy after an early unhealthy within the image's grace, and notes it", async () => {
    const v = await verdictFor({
      events: [
        { atMs: 1500, action: 'health_status: unhealthy' },
        { atMs: 9000, action: 'health_status: healthy' },
      ],
    });
    expect(v.status).toBe('pass');
    expect(v.message).toBe("healthy 9.0 s after start (unhealthy at 1.5 s under the audit's faster probing, still within the image's own grace)");
  });

  it('fails a flapping healthcheck (healthy, then unhealthy before the probes) instead of passing its first healthy', async () => {
    const npmOnly = [row(100, 1, 'dumb-init -- npm start'), row(101, 100, 'node /usr/local/bin/npm start')];
    const v = await verdictFor({
      events: [
        { atMs: 500, action: 'health_status: healthy' },
        { atMs: 900, action: 'health_status: unhealthy' },
      ],
      // The app appears at 1.5 s: the lifecycle is still observing when the probe turns unhealthy.
      processes: [
        { fromMs: 0, rows: npmOnly },
        { fromMs: 1500, rows: [...npmOnly, row(103, 101, 'node server.js')] },
      ],
    });
    expect(v.status).toBe('fail');
    expect(v.message).toMatch(/^flapping: healthy at 500 ms, then unhealthy at 900 ms/);
    expect(v.hint).toBeDefined();
  });

  it('does not count an unhealthy probe during the shutdown as a flap', async () => {
    const v = await verdictFor({
      events: [
        { atMs: 500, action: 'health_status: healthy' },
        { atMs: 1500, action: 'health_status: unhealthy' },
      ],
      // The stop signal goes out right after healthy; the app drains for 3 s and its probe fails meanwhile.
      onStopSignal: { exitCode: 0, afterMs: 3000 },
    });
    expect(v.status).toBe('pass');
    expect(v.message).toBe('healthy 500 ms after start');
  });

  it("fails unhealthy at the image's own deadline, quoting the probe and naming the missing program", async () => {
    const v = await verdictFor({
      events: [{ atMs: 1500, action: 'health_status: unhealthy' }],
      healthLog: [{ start: '', end: '', exitCode: 127, output: '/bin/sh: 1: curl: not found\n' }],
    });
    expect(v.status).toBe('fail');
    expect(v.message).toBe('unhealthy from 1.5 s after start and still at the image\'s own deadline (50.0 s); probe said: "/bin/sh: 1: curl: not found"');
    expect(v.hint).toMatch(/^The probe runs `curl`, which the image does not have/);
  });

  it('fails a probe still starting when --health-timeout caps the wait, naming both bounds', async () => {
    const healthLog = [{ start: '2026-01-01T00:00:01Z', end: '2026-01-01T00:00:02Z', exitCode: 1, output: 'connect ECONNREFUSED 127.0.0.1:3000' }];
    const v = await verdictFor({ healthLog }, 3000);
    expect(v.status).toBe('fail');
    expect(v.message).toBe(`still not healthy within --health-timeout (3.0 s; the image's own deadline is 50.0 s); probe said: "connect ECONNREFUSED 127.0.0.1:3000"`);
  });

  it('errors when the engine ran no probe at all (Podman without systemd): health was not observed', async () => {
    const v = await verdictFor({}, 3000);
    expect(v.status).toBe('error');
    expect(v.message).toMatch(/^no health probe ran within 3.0 s: the engine does not run this image's HEALTHCHECK/);
  });

  it('fails, not "the engine runs no HEALTHCHECK", when a probe was still running at --health-timeout', async () => {
    // HEALTHCHECK CMD sleep 20 (the image's timeout is Docker's default 30 s), audited with --health-timeout 2s.
    const sleepy = { test: ['CMD-SHELL', 'sleep 20'], intervalNs: 30e9, timeoutNs: 0, startPeriodNs: 0, retries: 0 };
    const v = await verdictFor({ image: { config: { healthcheck: sleepy } }, events: [{ atMs: 500, action: 'exec_start: /bin/sh -c sleep 20' }] }, 2000);
    expect(v.status).toBe('fail');
    expect(v.message).toMatch(/^still not healthy within --health-timeout \(2\.0 s; the image's own deadline is .*\): its probe, started 500 ms after start, was still running when the wait ended \(the image's probe timeout is 30\.0 s\)$/);
    expect(v.hint).toMatch(/--health-timeout/);
    expect(v.evidence.probeRuns).toEqual([{ startedAtMs: 500 }]);
  });

  it("does not take the audit's own execs for health probes", async () => {
    const v = await verdictFor({ events: [{ atMs: 500, action: 'exec_start: node -e process.exit(0)' }] }, 3000);
    expect(v.status).toBe('error');
  });

  it('says out of memory, and whose limit, when the app was OOM-killed before it was healthy', async () => {
    const v = await verdictFor({ exits: { atMs: 800, exitCode: 137, oomKilled: true }, logs: [] }, 120_000, { memoryBytes: 64 * 2 ** 20 });
    expect(v.status).toBe('fail');
    expect(v.message).toBe("the app was killed for running out of memory (OOM, exit 137) after 800 ms, under the audit's memory limit of 64 MiB (--memory, default 1 GiB), before it was healthy");
    expect(v.hint).toMatch(/raise --memory/);
    expect(v.hint).not.toMatch(/missing variable/);
  });

  it('fails unhealthy at --health-timeout when that comes first', async () => {
    const v = await verdictFor({ events: [{ atMs: 1000, action: 'health_status: unhealthy' }] }, 4000);
    expect(v.status).toBe('fail');
    expect(v.message).toBe('unhealthy from 1.0 s after start and still at --health-timeout (4.0 s)');
  });

  it('fails an app that exited before it was healthy, quoting its log', async () => {
    const v = await verdictFor({ exits: { atMs: 800, exitCode: 1 }, logs: ['Error: DATABASE_URL is not set', '    at main (/app/server.js:3:9)', 'Node.js v20.19.0'] });
    expect(v.status).toBe('fail');
    expect(v.message).toBe('the app exited with code 1 before it was healthy; it said: "Error: DATABASE_URL is not set"');
  });

  it('fails an image without HEALTHCHECK before looking at the lifecycle', async () => {
    const { basics } = await scriptedLifecycle({});
    const v = healthcheck.run({ basics, settings });
    expect(v.status).toBe('fail');
    expect(v.message).toMatch(/^the image declares no HEALTHCHECK/);
    expect(v.hint).toMatch(/^Add a HEALTHCHECK/);
  });

  it('skips an image without HEALTHCHECK under --manifest (Kubernetes ignores it; k8s-probes runs the manifest\'s probes)', async () => {
    const { basics } = await scriptedLifecycle({});
    const manifest = { workload: 'Deployment/orders-api', container: { name: 'api' } } as unknown as NonNullable<CheckInput['settings']['manifest']>;
    const v = healthcheck.run({ basics, settings: { ...settings, manifest } });
    expect(v).toMatchObject({ status: 'skip', message: "the image declares no HEALTHCHECK, which Kubernetes ignores anyway: api of Deployment/orders-api is probed by the manifest's probes (see k8s-probes)" });
  });
});
