// The matchers on inline reports: what they say when they fail, with and without .not.
import { describe, expect, it } from 'vitest';
import type { AuditReport, CheckResult } from '../../src/types.js';
import '../../src/vitest/index.js';

const result = (over: Partial<CheckResult> & Pick<CheckResult, 'id'>): CheckResult => ({ title: '', status: 'pass', message: 'fine', evidence: {}, durationMs: 1, ...over });

const report: AuditReport = {
  target: './svc',
  image: { id: 'sha256:1', tags: [], sizeBytes: 219_200_000 },
  checks: [
    result({ id: 'non-root-user', message: 'PID 1 and the app run as uid 1000 ("node")' }),
    result({ id: 'init-pid1', status: 'warn', message: 'a shell stands between dumb-init and node' }),
    result({ id: 'sigterm-shutdown', evidence: { signal: 'SIGTERM', exitedAfterMs: 211, exitCode: 0, killedAtBudget: false } }),
    result({
      id: 'healthcheck',
      status: 'fail',
      message: 'turned unhealthy 4.5 s after start; probe said: "Error: Cannot find module \'/app/healthcheck.js\'"',
      evidence: { configured: { test: ['CMD-SHELL', 'node healthcheck.js'] }, timeline: [{ status: 'starting', atMs: 700 }, { status: 'unhealthy', atMs: 4500 }] },
    }),
    result({
      id: 'no-dev-dependencies',
      status: 'fail',
      message: '1 dev-only package is installed',
      evidence: { leaked: [{ name: 'typescript', version: '5.9.3', path: '/app/node_modules/typescript', sizeBytes: 23_000_000 }] },
    }),
    result({ id: 'size-budget', evidence: { largestLayers: [{ size: '219.2 MB', createdBy: 'base' }] } }),
  ],
  summary: { pass: 3, fail: 2, warn: 1, skip: 0, error: 0, waived: 0 },
  durationMs: 5000,
};

describe('image-audit matchers', () => {
  it('pass on passing checks, and on warnings', () => {
    expect(report).toRunAsNonRoot();
    expect(report).toHaveInitAsPid1();
    expect(report).toPassCheck('size-budget');
    expect(report).toShutDownWithin('1s');
    expect(report).toFitSizeBudget('250MB');
  });

  it('fail with the observed message and evidence, not "expected false to be true"', () => {
    expect(() => expect(report).toBecomeHealthy()).toThrow(
      `expected ./svc to become healthy, but healthcheck fail: turned unhealthy 4.5 s after start; probe said: "Error: Cannot find module '/app/healthcheck.js'"`,
    );
    expect(() => expect(report).toBecomeHealthy()).toThrow(/timeline: starting @ 700 ms → unhealthy @ 4.5 s/);
    expect(() => expect(report).toHaveNoDevDependencies()).toThrow(/leaked: typescript@5.9.3\s+23.0 MB\s+\/app\/node_modules\/typescript/);
  });

  it('say what was measured for shutdown and size', () => {
    expect(() => expect(report).toShutDownWithin(100)).toThrow('expected ./svc to shut down within 100 ms; it exited 211 ms after SIGTERM with code 0');
    expect(() => expect(report).toFitSizeBudget('200MB')).toThrow(/expected .\/svc to fit 200.0 MB; it is 219.2 MB\n\s+layer 219.2 MB: base/);
  });

  it('read correctly under .not', () => {
    expect(report).not.toBecomeHealthy();
    expect(() => expect(report).not.toRunAsNonRoot()).toThrow(/^expected .\/svc not to run as a non-root user, but non-root-user pass/);
    expect(() => expect(report).not.toFitSizeBudget('250MB')).toThrow(/expected .\/svc not to fit 250.0 MB/);
  });

  it('name a check the report does not have', () => {
    const partial = { ...report, checks: report.checks.slice(0, 1) };
    expect(() => expect(partial).toBecomeHealthy()).toThrow('the report has no healthcheck check (it ran: non-root-user)');
  });
});
