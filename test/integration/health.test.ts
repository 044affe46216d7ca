import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditReport } from '../../src/types.js';
import { auditFixture, check } from '../support/fixtures.js';

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
