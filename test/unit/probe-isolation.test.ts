// A probe that perturbs the app runs on a container of its own: against a scripted daemon where the
// drain probe's connections hold the exit of the container they are opened on (as a silent socket holds
// a Node 20 `server.close()`), sigterm-shutdown still measures a clean stop.
import { describe, expect, it } from 'vitest';
import { audit } from '../../src/audit.js';
import { LABEL } from '../../src/docker/reaper.js';
import type { LiveProbe } from '../../src/lifecycle/probe.js';
import { fakeDocker, healthcheckOf, row, scriptedLifecycle, type Script } from '../support/fake-docker.js';
import type { CheckId } from '../../src/types.js';

const app: Script = {
  image: { config: { healthcheck: healthcheckOf({ intervalMs: 10_000, timeoutMs: 3000, retries: 3 }), exposedPorts: ['3000/tcp'] } },
  events: [{ atMs: 50, action: 'health_status: healthy' }],
  processes: [row(100, 1, 'dumb-init -- node server.js'), row(101, 100, 'node server.js')],
  onStopSignal: { exitCode: 0, afterMs: 30 },
  sidecar: { stdoutLines: [JSON.stringify({ e: 'ready', t: 0, budgetMs: 1000 })], holdsExit: true },
};
const SHARED: CheckId[] = ['sigterm-shutdown', 'healthcheck', 'init-pid1'];
const statusOf = (report: Awaited<ReturnType<typeof audit>>) => Object.fromEntries(report.checks.map((c) => [c.id, c.status]));

describe('probes that perturb the app (audit() with a fake port)', () => {
  it('runs graceful-drain on a container of its own: sigterm-shutdown passes and the shared checks keep their statuses', async () => {
    const plain = await audit('team/api:1.0.0', { only: SHARED, shutdownBudget: '1s' }, { docker: fakeDocker(app) });
    const docker = fakeDocker(app);
    const order: string[] = [];
    const { startContainer, signal } = docker;
    docker.startContainer = async (id) => (order.push(`start ${id}`), startContainer(id));
    docker.signal = async (id, sig) => (order.push(`${sig} ${id}`), signal(id, sig));
    const deep = await audit('team/api:1.0.0', { only: [...SHARED, 'graceful-drain'], shutdownBudget: '1s' }, { docker });

    const { 'graceful-drain': drainStatus, ...shared } = statusOf(deep);
    expect(shared).toEqual(statusOf(plain));
    expect(shared['sigterm-shutdown'], deep.checks.find((c) => c.id === 'sigterm-shutdown')?.message).toBe('pass');
    expect(drainStatus).toBeDefined();
    // The drain's own container was held by its traffic and killed at the budget: that is its check's evidence.
    expect(deep.checks.find((c) => c.id === 'graceful-drain')?.evidence.killedAtBudget).toBe(true);

    // Two app containers created alike (same image, options, labels), the sidecar in the drain one's network.
    const apps = docker.created.filter((c) => docker.started.includes(c.id));
    expect(apps).toHaveLength(2);
    expect(apps[0].spec).toEqual(apps[1].spec);
    expect(apps[0].spec.labels[LABEL]).toBe('true');
    const sidecar = docker.created.find((c) => c.spec.network?.startsWith('container:'))!;
    const drained = sidecar.spec.network!.slice('container:'.length);
    const sharedId = apps.map((a) => a.id).find((id) => id !== drained)!;
    const signalsTo = (id: string) => docker.signalled.filter((s) => s.id === id).map((s) => s.signal);
    expect(signalsTo(drained)).toEqual(['SIGTERM', 'SIGKILL']);
    expect(signalsTo(sharedId)).toEqual(['SIGTERM']);
    // The shared container ran alone: the drain's container started once it had stopped.
    expect(order).toEqual([`start ${sharedId}`, `SIGTERM ${sharedId}`, `start ${drained}`, `SIGTERM ${drained}`, `SIGKILL ${drained}`]);
    expect([...docker.removed].sort()).toEqual(docker.created.map((c) => c.id).sort());
  });

  it('gives only the perturbing check an error when its own container cannot be observed', async () => {
    const docker = fakeDocker(app);
    let creates = 0;
    const create = docker.createContainer;
    // The second app container (the drain's) is refused by the daemon.
    docker.createContainer = async (spec) => {
      if (spec.healthcheck && ++creates === 2) throw new Error('Docker refused creating the container: no space left on device');
      return create(spec);
    };
    const report = await audit('team/api:1.0.0', { only: [...SHARED, 'graceful-drain'], shutdownBudget: '1s' }, { docker });
    expect(statusOf(report)).toEqual({ 'sigterm-shutdown': 'pass', healthcheck: 'pass', 'init-pid1': 'pass', 'graceful-drain': 'error' });
    expect(report.checks.find((c) => c.id === 'graceful-drain')?.message).toMatch(/^could not observe: its own container could not be observed: .*no space left on device/);
  });
});

describe('probes that perturb the app, on an app slow to come up', () => {
  it("starts the probe's container after a head start, not once the shared one gave up waiting", async () => {
    // Never healthy: the shared container waits until --health-timeout (1.5 s here).
    const docker = fakeDocker({ ...app, events: [] });
    const began = performance.now();
    const startedAt: number[] = [];
    const { startContainer } = docker;
    docker.startContainer = async (id) => (startedAt.push(performance.now() - began), startContainer(id));
    const report = await audit('team/api:1.0.0', { only: ['healthcheck', 'graceful-drain'], shutdownBudget: '1s', healthTimeout: '1500ms' }, { docker, perturbingHeadStartMs: 300 });
    expect(report.observed?.timeline.map((e) => e.event)).toContain('health:deadline');
    expect(startedAt).toHaveLength(2);
    expect(startedAt[1]).toBeGreaterThanOrEqual(290);
    // Well before the shared container gave up at 1.5 s (a loaded host delays it, never that much).
    expect(startedAt[1]).toBeLessThan(1400);
  });
});

describe('observeLifecycle', () => {
  it('refuses to run a perturbing probe with another probe on one container', async () => {
    const quiet: LiveProbe = { timeoutMs: 1000, whileUp: async () => 'ok' };
    const loud: LiveProbe = { timeoutMs: 1000, perturbs: true, whileUp: async () => 'frozen' };
    const { run } = await scriptedLifecycle(app, { probes: [{ id: 'quiet', probe: quiet }, { id: 'loud', probe: loud }] });
    await expect(run()).rejects.toThrow('internal: the loud probe perturbs the app and must run alone on its container (with quiet)');
  });
});
