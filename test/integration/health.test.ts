import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/report/exit-code.js';
import type { AuditReport } from '../../src/types.js';
import { auditFixture, check, fixtureFolder } from '../support/fixtures.js';

const auditLifecycleFixture = fixtureFolder(path.resolve(__dirname, '../../fixtures/lifecycle'));

describe('the broken-healthcheck fixture (HEALTHCHECK runs a file never copied)', () => {
  let report: AuditReport;
  beforeAll(async () => {
    report = await auditFixture('broken-healthcheck', { only: ['healthcheck'] });
  });
  it('fails healthcheck quoting the probe output', () => {
    const c = check(report, 'healthcheck');
    expect(c.status).toBe('fail');
    expect(c.message).toMatch(/^unhealthy from .* after start and still at the image's own deadline \(22.0 s\); probe said: "Error: Cannot find module '\/home\/node\/app\/healthcheck.js'"$/);
    expect((c.evidence.timeline as Array<{ status: string }>).map((t) => t.status)).toEqual(['unhealthy']);
    expect(c.evidence.configured).toMatchObject({ test: ['CMD-SHELL', 'node healthcheck.js'], intervalMs: 5000, retries: 2 });
    // The image's grace (start period + (retries + 1) × its own 5 s interval + timeout) is waited out,
    // although the audit's 500 ms probing saw it unhealthy within seconds.
    expect(c.evidence.deadlineMs).toBe(22_000);
    expect(c.hint).toContain('COPY it into the runtime stage');
  });
});

describe('the no-healthcheck fixture', () => {
  let report: AuditReport;
  beforeAll(async () => {
    report = await auditFixture('no-healthcheck', { only: ['healthcheck', 'sigterm-shutdown'] });
  });
  it('fails healthcheck: none declared', () => {
    expect(check(report, 'healthcheck')).toMatchObject({ status: 'fail', message: expect.stringContaining('declares no HEALTHCHECK') });
  });
  it('still measures shutdown once the app settled', () => {
    expect(check(report, 'sigterm-shutdown').status).toBe('pass');
  });
});

describe('the crash-on-start fixture (needs DATABASE_URL)', () => {
  let report: AuditReport;
  beforeAll(async () => {
    report = await auditFixture('crash-on-start');
  });
  it('fails healthcheck and sigterm-shutdown quoting the last log line', () => {
    for (const id of ['healthcheck', 'sigterm-shutdown'] as const) {
      const c = check(report, id);
      expect(c.status).toBe('fail');
      expect(c.message).toContain('"FATAL: DATABASE_URL is not set; refusing to start"');
    }
  });
  it('reports error, not a guess, for the checks that need a running process', () => {
    for (const id of ['non-root-user', 'init-pid1'] as const) {
      const c = check(report, id);
      expect(c.status).toBe('error');
      expect(c.message).toContain('exited by itself with code 1');
    }
  });
  it('still answers the checks that read the image', () => {
    expect(check(report, 'no-dev-dependencies').status).toBe('pass');
    expect(check(report, 'size-budget').status).toBe('pass');
  });
});

describe('the crash-on-start fixture given --env DATABASE_URL', () => {
  let report: AuditReport;
  beforeAll(async () => {
    report = await auditFixture('crash-on-start', { env: { DATABASE_URL: 'postgres://secret-value@db/app' } });
  });
  it('boots and passes every check', () => {
    expect(report.summary).toEqual({ pass: 10, fail: 0, warn: 0, skip: 0, error: 0, waived: 0 });
  });
  it('never puts the value into the report', () => {
    expect(JSON.stringify(report)).not.toContain('secret-value');
  });
});

describe('a HEALTHCHECK whose probe takes 20 s, audited with --health-timeout 2s', () => {
  let report: AuditReport;
  beforeAll(async () => {
    report = await auditLifecycleFixture('slow-probe.Dockerfile', { only: ['healthcheck'], healthTimeout: '2s' });
  });
  it('fails (not healthy by the bound the user set), saying the probe was still running: Docker ran it', () => {
    const c = check(report, 'healthcheck');
    expect(c.status).toBe('fail');
    expect(c.message).toMatch(/^still not healthy within --health-timeout \(2\.0 s; .*\): its probe, started .* after start, was still running when the wait ended \(the image's probe timeout is 30\.0 s\)$/);
    expect(c.message).not.toContain('Podman');
    expect(exitCodeFor(report)).toBe(1);
  });
});

describe('an app killed for memory at start under the audit\'s --memory 64MiB', () => {
  let report: AuditReport;
  beforeAll(async () => {
    report = await auditLifecycleFixture('oom.Dockerfile', { only: ['init-pid1', 'sigterm-shutdown', 'healthcheck'], memory: '64MiB' });
  });
  it('says out of memory and that the limit is the audit\'s, with --memory in the hint', () => {
    const c = check(report, 'sigterm-shutdown');
    expect(c.status).toBe('fail');
    expect(c.message).toMatch(/^the app was killed for running out of memory \(OOM, exit 137\) after .*, under the audit's memory limit of 64 MiB \(--memory, default 1 GiB\), before the stop signal was sent$/);
    expect(c.hint).toMatch(/raise --memory/);
    expect(c.evidence).toMatchObject({ oomKilled: true, exitCode: 137 });
  });
  it('names the OOM kill where the running app could not be observed', () => {
    const c = check(report, 'init-pid1');
    expect(c.status).toBe('error');
    expect(c.message).toContain('killed for running out of memory');
  });
  it('fails healthcheck saying the same, not "a missing variable?"', () => {
    const c = check(report, 'healthcheck');
    expect(c.status).toBe('fail');
    expect(c.message).toMatch(/^the app was killed for running out of memory \(OOM, exit 137\) .*, before it was healthy$/);
    expect(c.hint).toMatch(/raise --memory/);
  });
});
