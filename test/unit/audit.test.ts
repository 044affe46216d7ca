// audit() end to end against a scripted daemon (real time, short scripts): what it creates, starts and
// removes, and what it reports when the image cannot be run or the caller aborts.
import { describe, expect, it } from 'vitest';
import { audit } from '../../src/audit.js';
import { LABEL } from '../../src/docker/reaper.js';
import { AuditInterruptedError } from '../../src/errors.js';
import { healthcheckOf, fakeDocker, row, type Script } from '../support/fake-docker.js';
import type { CheckId } from '../../src/types.js';

const LIFECYCLE_CHECKS: CheckId[] = ['non-root-user', 'init-pid1', 'sigterm-shutdown', 'healthcheck'];
const passwd = 'root:x:0:0:root:/root:/bin/bash\nnode:x:1000:1000::/home/node:/bin/bash\n';
const compliant: Script = {
  image: { config: { healthcheck: healthcheckOf({ intervalMs: 10_000, timeoutMs: 3000, retries: 3 }) } },
  files: { '/etc/passwd': passwd, '/etc/group': 'root:x:0:\nnode:x:1000:\n' },
  events: [{ atMs: 50, action: 'health_status: healthy' }],
  processes: [row(100, 1, 'dumb-init -- node server.js'), row(101, 100, 'node server.js')],
  onStopSignal: { exitCode: 0, afterMs: 30 },
};
const statusOf = (report: Awaited<ReturnType<typeof audit>>) => Object.fromEntries(report.checks.map((c) => [c.id, c.status]));

describe('audit() with a fake port', () => {
  it('reports what it observed on a compliant image, and removes every container it created', async () => {
    const docker = fakeDocker(compliant);
    const report = await audit('team/api:1.0.0', { only: LIFECYCLE_CHECKS }, { docker });
    expect(statusOf(report)).toEqual({ 'non-root-user': 'pass', 'init-pid1': 'pass', 'sigterm-shutdown': 'pass', healthcheck: 'pass' });
    expect(report.summary).toMatchObject({ pass: 4, fail: 0, error: 0 });
    // One container for the files (never started), one for the lifecycle.
    expect(docker.created).toHaveLength(2);
    expect(docker.started).toHaveLength(1);
    const files = docker.created.find((c) => !docker.started.includes(c.id))!;
    expect(files.spec).toMatchObject({ network: 'none', entrypoint: ['/image-audit: never started'] });
    const lifecycle = docker.created.find((c) => docker.started.includes(c.id))!;
    expect(lifecycle.spec).toMatchObject({ memoryBytes: 1024 ** 3, pidsLimit: 512, network: 'bridge', healthcheck: { intervalNs: 500e6 } });
    for (const { spec } of docker.created) expect(spec.labels[LABEL]).toBe('true');
    expect([...docker.removed].sort()).toEqual(docker.created.map((c) => c.id).sort());
    expect(docker.signals).toEqual(['SIGTERM']);
  });

  it('still reports on an image with no CMD or ENTRYPOINT: its lifecycle checks are errors with the reason', async () => {
    const docker = fakeDocker({ ...compliant, image: { config: { entrypoint: [], cmd: [] } } });
    const report = await audit('team/api:1.0.0', { only: [...LIFECYCLE_CHECKS, 'size-budget'] }, { docker });
    for (const id of LIFECYCLE_CHECKS) {
      const check = report.checks.find((c) => c.id === id)!;
      expect(check.status, id).toBe('error');
      expect(check.message, id).toBe('could not observe the running app: the image has no CMD or ENTRYPOINT: there is nothing to run');
    }
    expect(report.checks.find((c) => c.id === 'size-budget')?.status).toBe('pass');
    expect(docker.started).toEqual([]);
    expect([...docker.removed].sort()).toEqual(docker.created.map((c) => c.id).sort());
  });

  it('throws AuditInterruptedError when aborted during the health wait, promptly, and removes its containers', async () => {
    // Never healthy: only the abort ends the wait.
    const docker = fakeDocker({ ...compliant, events: [] });
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error('SIGINT')), 150);
    const began = performance.now();
    const error = await audit('team/api:1.0.0', { only: LIFECYCLE_CHECKS, signal: abort.signal }, { docker }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(AuditInterruptedError);
    expect((error as Error).message).toBe('audit interrupted (SIGINT): no verdict was reached');
    // Expected ~150 ms; generous for a loaded 2-core CI.
    expect(performance.now() - began).toBeLessThan(3000);
    expect(docker.created.length).toBeGreaterThan(0);
    expect([...docker.removed].sort()).toEqual(docker.created.map((c) => c.id).sort());
    expect(docker.signals).toEqual([]);
  });

  it('sweeps abandoned containers and asks the daemon\'s nature only once the app\'s start call returned, not beside the creates', async () => {
    const docker = fakeDocker(compliant);
    const calls: string[] = [];
    const recording = new Proxy(docker, {
      get(target, key) {
        const value = Reflect.get(target, key) as unknown;
        if (typeof value !== 'function' || !['createContainer', 'startContainer', 'info', 'listLabelledContainers'].includes(String(key))) return value;
        return async (...args: unknown[]) => {
          calls.push(`${String(key)} called`);
          try {
            return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          } finally {
            calls.push(`${String(key)} returned`);
          }
        };
      },
    });
    const report = await audit('team/api:1.0.0', { only: LIFECYCLE_CHECKS }, { docker: recording });
    expect(report.summary).toMatchObject({ pass: 4 });
    const started = calls.indexOf('startContainer returned');
    expect(started).toBeGreaterThan(calls.lastIndexOf('createContainer returned'));
    expect(calls.indexOf('info called')).toBeGreaterThan(started);
    expect(calls.indexOf('listLabelledContainers called')).toBeGreaterThan(started);
    expect(calls.filter((c) => c === 'info called')).toHaveLength(1);
    // The sweep at the start and the one at the end.
    expect(calls.filter((c) => c === 'listLabelledContainers called')).toHaveLength(2);
  });

  it('an audit that ends before any container starts still sweeps abandoned containers', async () => {
    const docker = fakeDocker({ images: {} });
    let swept = 0;
    const counting = new Proxy(docker, {
      get: (target, key) => (key === 'listLabelledContainers' ? (...args: Parameters<typeof docker.listLabelledContainers>) => (swept++, target.listLabelledContainers(...args)) : Reflect.get(target, key)),
    });
    await expect(audit('team/api:9.9.9', { only: LIFECYCLE_CHECKS }, { docker: counting })).rejects.toThrow('Image not found in the daemon');
    for (let waited = 0; swept === 0 && waited < 2000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(swept).toBe(1);
  });

  it('fails with the daemon\'s own error when the image is not there, creating nothing', async () => {
    const docker = fakeDocker({ images: {} });
    await expect(audit('team/api:9.9.9', { only: LIFECYCLE_CHECKS }, { docker })).rejects.toThrow('Image not found in the daemon: team/api:9.9.9');
    expect(docker.created).toEqual([]);
  });
});
