import { describe, expect, it } from 'vitest';
import { observeLifecycle } from '../../src/lifecycle/observe.js';
import { fakeDocker, instantClock } from '../support/fake-docker.js';

const healthcheck = { test: ['CMD', 'node', 'hc.js'], intervalNs: 10e9, timeoutNs: 3e9, startPeriodNs: 5e9, retries: 3 };
const appRows = [
  { pid: 100, ppid: 1, uid: 1000, gid: 1000, args: 'dumb-init -- node app.js' },
  { pid: 101, ppid: 100, uid: 1000, gid: 1000, args: 'node app.js' },
];

describe('observeLifecycle', () => {
  it('records starting → healthy, the process table, then a clean exit on SIGTERM', async () => {
    const docker = fakeDocker({ health: ['starting', 'starting', 'healthy'], processes: appRows, onStopSignal: { exitCode: 143 } });
    const seen = await observeLifecycle(docker, { containerId: 'c1', stopSignal: 'SIGTERM', healthcheck, shutdownBudgetMs: 1000, clock: instantClock() });
    expect(seen.health?.outcome).toBe('healthy');
    expect(seen.health?.transitions.map((t) => t.status)).toEqual(['starting', 'healthy']);
    expect(seen.health?.intervalShortened).toBe(true);
    // start period 5 s + (retries + 1) × (0.5 s interval + 3 s timeout) + 2 s slack
    expect(seen.health?.deadlineMs).toBe(5000 + 4 * 3500 + 2000);
    expect(seen.processes?.chainToApp.map((p) => p.program)).toEqual(['dumb-init', 'node']);
    expect(seen.shutdown).toMatchObject({ signal: 'SIGTERM', exitCode: 143, killedAtBudget: false });
    expect(docker.signals).toEqual(['SIGTERM']);
  });

  it('sends SIGKILL when the app is still running at the budget', async () => {
    const docker = fakeDocker({ processes: appRows, onStopSignal: 'ignore' });
    const seen = await observeLifecycle(docker, { containerId: 'c1', stopSignal: 'SIGTERM', shutdownBudgetMs: 50, clock: instantClock() });
    expect(seen.settle?.appSeen).toBe(true);
    expect(seen.shutdown).toMatchObject({ killedAtBudget: true, exitCode: 137 });
    expect(docker.signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(seen.timeline.map((e) => e.event)).toEqual(['started', 'settled', 'processes', 'signal', 'budget-passed', 'killed']);
  });

  it('uses the image stop signal', async () => {
    const docker = fakeDocker({ processes: appRows, onStopSignal: { exitCode: 0 } });
    await observeLifecycle(docker, { containerId: 'c1', stopSignal: 'SIGQUIT', shutdownBudgetMs: 50, clock: instantClock() });
    expect(docker.signals).toEqual(['SIGQUIT']);
  });

  it('records an app that exits while starting, and sends no signal', async () => {
    const docker = fakeDocker({ health: ['starting'], exitsAtInspect: { index: 1, code: 1 }, onStopSignal: { exitCode: 0 } });
    const seen = await observeLifecycle(docker, { containerId: 'c1', stopSignal: 'SIGTERM', healthcheck, shutdownBudgetMs: 50, clock: instantClock() });
    expect(seen.exitedEarly?.exitCode).toBe(1);
    expect(seen.health?.outcome).toBe('exited');
    expect(seen.shutdown).toBeUndefined();
    expect(docker.signals).toEqual([]);
    expect(seen.logs).toEqual(['listening on 3000']);
  });

  it('gives up on health at the deadline derived from the image timings', async () => {
    const docker = fakeDocker({ health: ['starting'], processes: appRows, onStopSignal: { exitCode: 0 } });
    const seen = await observeLifecycle(docker, { containerId: 'c1', stopSignal: 'SIGTERM', healthcheck, shutdownBudgetMs: 50, clock: instantClock() });
    expect(seen.health?.outcome).toBe('starting');
    expect(seen.timeline.some((e) => e.event === 'health:deadline')).toBe(true);
  });

  it('records a container the daemon could not start', async () => {
    const docker = fakeDocker({ startError: 'unable to find user appuser', onStopSignal: { exitCode: 0 } });
    const seen = await observeLifecycle(docker, { containerId: 'c1', stopSignal: 'SIGTERM', shutdownBudgetMs: 50, clock: instantClock() });
    expect(seen.startError).toBe('unable to find user appuser');
    expect(seen.processes).toBeUndefined();
  });
});
