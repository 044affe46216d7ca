import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditReport } from '../../src/types.js';
import { auditFixture, check } from '../support/fixtures.js';

describe('the compliant fixture (USER node, dumb-init, HEALTHCHECK, production node_modules)', () => {
  let report: AuditReport;
  beforeAll(async () => {
    report = await auditFixture('compliant');
  });

  it('passes every check', () => {
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([
      ['non-root-user', 'pass'],
      ['init-pid1', 'pass'],
      ['sigterm-shutdown', 'pass'],
      ['healthcheck', 'pass'],
      ['no-dev-dependencies', 'pass'],
      ['size-budget', 'pass'],
      ['zombie-reaping', 'pass'],
      ['secrets', 'pass'],
      ['engines-node', 'pass'],
      ['node-env', 'pass'],
    ]);
    expect(report.summary).toEqual({ pass: 10, fail: 0, warn: 0, skip: 0, error: 0, waived: 0 });
  });

  it('passes non-root-user with the observed uid of PID 1 and the app', () => {
    const c = check(report, 'non-root-user');
    expect(c.evidence.observed).toMatchObject({ pid1: { uid: 1000 }, app: { uid: 1000, command: 'node src/index.js' } });
    expect(c.message).toContain('uid 1000 ("node")');
  });

  it('passes init-pid1 with the chain dumb-init → node', () => {
    const c = check(report, 'init-pid1');
    expect(c.evidence.processChain).toEqual(['dumb-init -- node src/index.js', 'node src/index.js']);
  });

  it('passes sigterm-shutdown with a measured exit well within the budget', () => {
    const e = check(report, 'sigterm-shutdown').evidence;
    expect(e.signal).toBe('SIGTERM');
    expect(e.exitCode).toBe(0);
    expect(e.killedAtBudget).toBe(false);
    expect(e.exitedAfterMs as number).toBeLessThan(5000);
  });

  it('passes healthcheck with a healthy transition and says the interval was shortened, not the deadline', () => {
    const e = check(report, 'healthcheck').evidence;
    // The daemon's events carry transitions only: starting is the state before the first one.
    expect((e.timeline as Array<{ status: string }>).map((t) => t.status)).toEqual(['healthy']);
    expect(e.configured).toMatchObject({ test: ['CMD', 'node', 'healthcheck.js'], intervalMs: 10_000, startPeriodMs: 5000 });
    expect(e.note).toMatch(/probed every 500 ms instead of 10.0 s; .* and so is the deadline \(50.0 s\)/);
  });

  it('passes no-dev-dependencies against the build context lockfile', () => {
    const e = check(report, 'no-dev-dependencies').evidence;
    expect(e).toMatchObject({ from: 'build context: package-lock.json', nodeModules: '/home/node/app/node_modules', devOnlyCount: 2 });
  });

  it('passes size-budget and lists the largest layers with their instructions', () => {
    const e = check(report, 'size-budget').evidence;
    expect(e.budgetBytes).toBe(250_000_000);
    expect(e.sizeBytes).toBe(report.image.sizeBytes);
    expect((e.largestLayers as unknown[]).length).toBe(5);
  });

  it('reports the built image with its tag and a duration per check', () => {
    expect(report.image.id).toMatch(/^sha256:/);
    expect(report.image.tags).toContainEqual(expect.stringMatching(/^node-image-audit\/service-[0-9a-f]{8}:latest$/));
    for (const c of report.checks) expect(c.durationMs).toBeGreaterThanOrEqual(0);
  });
});
