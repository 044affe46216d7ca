// The sweep of abandoned containers (an auditor killed with SIGKILL leaves its containers behind) holds
// for a create of that auditor still in flight: dockerd lists a container it is still creating before it
// can remove it, and a create may land after the sweep started.
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { audit } from '../../src/audit.js';
import { HOST_LABEL, LABEL, PID_LABEL, reapAbandoned } from '../../src/docker/reaper.js';
import { fakeDocker, healthcheckOf, row, type Script } from '../support/fake-docker.js';

/** Above the largest pid_max Linux allows (2^22): no process can have it, so its auditor is dead. */
const DEAD_PID = '4194305';
const labels = (pid: string, host = hostname()) => ({ [LABEL]: 'true', [PID_LABEL]: pid, [HOST_LABEL]: host });
const listed = async (docker: ReturnType<typeof fakeDocker>) => (await docker.listLabelledContainers(LABEL)).map((c) => c.id).sort();

describe('reapAbandoned', () => {
  it("removes a dead auditor's container, and leaves live auditors' and other hosts' alone", async () => {
    const docker = fakeDocker({
      foreign: [
        { id: 'dead', labels: labels(DEAD_PID) },
        { id: 'alive', labels: labels(String(process.pid)) },
        { id: 'elsewhere', labels: labels(DEAD_PID, 'another-host') },
      ],
    });
    expect(await reapAbandoned(docker)).toBe(1);
    expect(await listed(docker)).toEqual(['alive', 'elsewhere']);
  });

  it('holds for a create still in flight: listed, but not removable yet (404), then removed once the daemon registered it', async () => {
    const docker = fakeDocker({ foreign: [{ id: 'creating', labels: labels(DEAD_PID), registeredAfterMs: 600 }] });
    const began = performance.now();
    expect(await reapAbandoned(docker)).toBe(1);
    expect(await listed(docker)).toEqual([]);
    expect(docker.removed).toEqual(['creating']);
    expect(performance.now() - began).toBeGreaterThanOrEqual(550);
  });

  it('gives up at its bound on a container that never becomes removable', async () => {
    const docker = fakeDocker({ foreign: [{ id: 'stuck', labels: labels(DEAD_PID), registeredAfterMs: 60_000 }] });
    const began = performance.now();
    await reapAbandoned(docker, { holdMs: 300 });
    // Expected ~300 ms; a loaded CI gets far more.
    expect(performance.now() - began).toBeLessThan(5000);
    expect(await listed(docker)).toEqual(['stuck']);
  });
});

describe('audit() and a dead auditor', () => {
  const app: Script = {
    image: { config: { healthcheck: healthcheckOf({ intervalMs: 10_000, timeoutMs: 3000, retries: 3 }) } },
    // Up after 400 ms: the dead auditor's container appears while this audit runs, after its first sweep.
    events: [{ atMs: 400, action: 'health_status: healthy' }],
    processes: [row(100, 1, 'dumb-init -- node server.js'), row(101, 100, 'node server.js')],
    onStopSignal: { exitCode: 0, afterMs: 30 },
  };

  it("removes a dead auditor's container whose create lands after the audit's first sweep", async () => {
    const docker = fakeDocker({ ...app, foreign: [{ id: 'late', labels: labels(DEAD_PID), appearsAfterMs: 150 }] });
    const report = await audit('team/api:1.0.0', { only: ['sigterm-shutdown'] }, { docker });
    expect(report.checks[0].status).toBe('pass');
    expect(docker.removed).toContain('late');
    expect(await listed(docker)).toEqual([]);
  });
});
