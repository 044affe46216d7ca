// A daemon restarted mid-audit: the audit says so (exit 3) within 10 s, and the container it leaves
// (stopped by the restart, its auditor gone) is removed by the next audit. The test runs its own
// dockerd on its own socket and data root, so the shared daemon is never touched.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LABEL } from '../../src/docker/reaper.js';
import { runCli, startCli } from '../support/cli.js';

const root = '/tmp/image-audit-dockerd-test';
const socket = `${root}/docker.sock`;
const host = `unix://${socket}`;
const canRun = process.getuid?.() === 0 && existsSync('/usr/sbin/dockerd') && existsSync('/usr/bin/unshare');
const image = 'image-audit-test/hangs-in-health:1';

// In its own network namespace: a dockerd with --bridge=none deletes the host's docker0 at start,
// which would cut every other container on this machine off the default bridge.
function startDockerd(): ChildProcess {
  const child = spawn(
    'unshare',
    ['--net', 'dockerd',
    '--data-root', `${root}/data`, '--exec-root', `${root}/exec`, '--pidfile', `${root}/docker.pid`, '-H', host, '--bridge=none', '--iptables=false', '--ip-masq=false', '--containerd-namespace', 'image-audit-test', '--containerd-plugins-namespace', 'image-audit-test-plugins'],
    { stdio: 'ignore' },
  );
  return child;
}

async function waitForDaemon(): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      execFileSync('docker', ['-H', host, 'info'], { stdio: 'ignore' });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** Our containers on the test daemon (stopped ones too). */
const ours = () => execFileSync('docker', ['-H', host, 'ps', '-aq', '--filter', `label=${LABEL}`], { encoding: 'utf8' }).split('\n').filter(Boolean);

async function stopDockerd(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
}

describe.skipIf(!canRun)('a daemon restarted mid-audit (own dockerd on its own socket)', () => {
  let dockerd: ChildProcess;
  beforeAll(async () => {
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    dockerd = startDockerd();
    await waitForDaemon();
    // The base image, then an image whose health probe hangs, so the audit is mid-wait for a long time.
    execFileSync('bash', ['-c', `docker save ${inject('nodeImage')} | docker -H ${host} load -q`], { stdio: 'ignore' });
    execFileSync('docker', ['-H', host, 'tag', inject('nodeImage'), 'base:1']);
    execFileSync('bash', ['-c', `printf 'FROM base:1\\nHEALTHCHECK --interval=5s --timeout=60s --retries=1 CMD sleep 100000\\nCMD ["node", "-e", "setInterval(() => {}, 1000)"]\\n' | DOCKER_BUILDKIT=0 docker -H ${host} build -q -t ${image} -`], { stdio: 'ignore' });
  }, 180_000);
  afterAll(async () => {
    if (dockerd) await stopDockerd(dockerd);
    rmSync(root, { recursive: true, force: true });
  }, 60_000);

  it('exits 3 within 10 s of the restart, and the next audit removes what the first one left', async () => {
    const run = startCli([image, '--network', 'none', '--only', 'healthcheck'], { DOCKER_HOST: host });
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !ours().length) await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 1500)); // the health wait is under way

    await stopDockerd(dockerd);
    const stoppedAt = Date.now();
    const result = await run.done;
    expect(result.code, result.stderr).toBe(3);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    // Either the daemon stopped answering, or it stopped the container on its way down: both say so.
    expect(result.stderr).toMatch(/Docker daemon|stopped from outside the audit/);
    expect(result.stdout).toBe('');

    dockerd = startDockerd();
    await waitForDaemon();
    // The auditor may have removed its container before the daemon went (it saw the daemon stop it);
    // whatever it could not remove is the next audit's to reap.
    const next = await runCli([image, '--network', 'none', '--only', 'size-budget'], { DOCKER_HOST: host });
    expect(next.code, next.stderr).toBe(0);
    expect(ours()).toEqual([]);
  }, 180_000);
});
