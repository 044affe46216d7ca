// The engine under faults: a verdict that is the same on every run, nothing left behind when the
// auditor is killed, no report when it is interrupted.
import { execFileSync } from 'node:child_process';
import { hostname } from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import { audit } from '../../src/audit.js';
import { DockerodePort } from '../../src/docker/dockerode-port.js';
import { HOST_LABEL, LABEL, PID_LABEL } from '../../src/docker/reaper.js';
import { AuditInterruptedError } from '../../src/errors.js';
import type { AuditReport } from '../../src/types.js';
import { runCli, startCli } from '../support/cli.js';
import { auditFixture, check } from '../support/fixtures.js';

const docker = new DockerodePort();

describe('the npm-start fixture (dumb-init → npm start → sh -c node → node)', () => {
  const reports: AuditReport[] = [];
  beforeAll(async () => {
    // The first audit builds; the rest reuse the image: five observations of the same image.
    reports.push(await auditFixture('npm-start', { only: ['init-pid1'] }));
    const image = reports[0].image.id;
    for (let i = 0; i < 4; i++) reports.push(await audit(image, { only: ['init-pid1'] }));
  }, 240_000);

  it('gives the same init-pid1 verdict on five runs in a row', () => {
    const verdicts = reports.map((r) => `${check(r, 'init-pid1').status}: ${check(r, 'init-pid1').message}`);
    expect(new Set(verdicts).size, verdicts.join('\n')).toBe(1);
  });

  it('takes the deepest node process for the app and names npm as npm', () => {
    const c = check(reports[0], 'init-pid1');
    expect(c.status).toBe('warn');
    expect(c.message).toMatch(/^dumb-init is PID 1, but npm \(".*"\) stands between it and node; chain: dumb-init → npm → sh → node$/);
    const chain = c.evidence.processChain as string[];
    expect(chain[chain.length - 1]).toBe('node src/index.js');
  });
});

describe('an auditor killed with SIGKILL mid-audit', () => {
  it('leaves a labelled container that the next audit removes', async () => {
    const first = await auditFixture('compliant', { only: ['size-budget'] });
    const image = first.image.id;
    const run = startCli([image, '--only', 'sigterm-shutdown', '--shutdown-budget', '5s']);
    // Wait until its container exists, then kill the auditor without any chance to clean up.
    const deadline = Date.now() + 30_000;
    let mine: string[] = [];
    let said = '';
    run.child.stderr!.on('data', (d) => (said += d));
    while (Date.now() < deadline && !mine.length && run.child.exitCode === null) {
      mine = (await docker.listLabelledContainers(`${PID_LABEL}=${run.child.pid}`)).map((c) => c.id);
      if (!mine.length) await new Promise((r) => setTimeout(r, 100));
    }
    expect(mine.length, `the auditor made no container (exit ${run.child.exitCode}): ${said}`).toBeGreaterThan(0);
    run.child.kill('SIGKILL');
    await run.done;
    const left = await docker.listLabelledContainers(`${PID_LABEL}=${run.child.pid}`);
    expect(left.length).toBeGreaterThan(0);
    expect(left[0].labels[HOST_LABEL]).toBe(hostname());

    // The next audit removes it. A create of the killed auditor can still be in flight then (under load
    // one landed after the sweep and was left): here one lands while the next audit runs, after the
    // sweep at its start removed the first container. The app drains for 4 s on SIGTERM, so the audit is
    // still running when it lands.
    const next = audit(image, { only: ['sigterm-shutdown'], env: { FIXTURE_SIGTERM: 'drain', FIXTURE_DRAIN_MS: '4000' } });
    let settled = false;
    void next.then(() => (settled = true), () => (settled = true));
    let late: string | undefined;
    const pause = () => new Promise((r) => setTimeout(r, 100));
    try {
      while (!settled && (await docker.listLabelledContainers(`${PID_LABEL}=${run.child.pid}`)).length) await pause();
      while (!settled && !(await docker.listLabelledContainers(`${PID_LABEL}=${process.pid}`)).length) await pause();
      // The first sweep has had its last look (it holds only while one is still listed).
      await new Promise((r) => setTimeout(r, 1000));
      late = await docker.createContainer({
        image,
        env: [],
        labels: { ...left[0].labels },
        entrypoint: ['/image-audit: never started'],
        cmd: [],
        network: 'none',
      });
      expect(settled, 'the late create must land while the next audit runs').toBe(false);
      await next;
      const after = await docker.listLabelledContainers(`${PID_LABEL}=${run.child.pid}`);
      expect(after).toEqual([]);
    } finally {
      await next.catch(() => undefined);
      if (late) await docker.removeContainer(late);
    }
  }, 120_000);
});

describe('an audit aborted through its AbortSignal', () => {
  it('rejects with AuditInterruptedError within seconds and removes its container', async () => {
    const first = await auditFixture('sigterm-ignored', { only: ['size-budget'] });
    const controller = new AbortController();
    const began = Date.now();
    const running = audit(first.image.id, { only: ['sigterm-shutdown'], shutdownBudget: '60s', signal: controller.signal });
    // Abort during the shutdown wait (the app ignores SIGTERM; the budget is 60 s).
    setTimeout(() => controller.abort(new Error('test abort')), 4000);
    const error = await running.catch((err: unknown) => err);
    expect(error).toBeInstanceOf(AuditInterruptedError);
    expect(Date.now() - began).toBeLessThan(20_000);
    const labelled = execFileSync('docker', ['ps', '-aq', '--filter', `label=${LABEL}`, '--filter', `label=${PID_LABEL}=${process.pid}`], { encoding: 'utf8' }).trim();
    expect(labelled).toBe('');
  }, 120_000);
});

describe('a long health wait in a CI log (stderr is not a terminal)', () => {
  it('prints a progress line at least every 10 s, and the verdict', async () => {
    const first = await auditFixture('broken-healthcheck', { only: ['size-budget'] });
    const run = await runCli([first.image.id, '--only', 'healthcheck']);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/^image-audit: waiting for healthy, \d+\.\d s of 22 s$/m);
    expect(run.stdout).toMatch(/FAIL\s+healthcheck\s+unhealthy from/);
  }, 120_000);
});
