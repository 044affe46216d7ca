import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditReport } from '../../src/types.js';
import { auditFixture, check } from '../support/fixtures.js';

describe('the sigterm-ignored fixture', () => {
  let report: AuditReport;
  beforeAll(async () => {
    report = await auditFixture('sigterm-ignored', { only: ['sigterm-shutdown'], shutdownBudget: '3s' });
  });
  it('fails sigterm-shutdown: still running at the budget, then killed (137)', () => {
    const c = check(report, 'sigterm-shutdown');
    expect(c.status).toBe('fail');
    expect(c.message).toBe('still running 3.0 s after SIGTERM; killed (exit 137). Expected an exit within 3.0 s');
    expect(c.evidence).toMatchObject({ signal: 'SIGTERM', killedAtBudget: true, exitCode: 137, budgetMs: 3000 });
    expect(c.evidence.lastLogLines).toContain('SIGTERM: ignored');
  });
});

describe('the slow-drain fixture (exits 8 s after SIGTERM)', () => {
  let report: AuditReport;
  beforeAll(async () => {
    report = await auditFixture('slow-drain', { only: ['sigterm-shutdown'] });
  });
  it('fails sigterm-shutdown with the default 5 s budget', () => {
    const c = check(report, 'sigterm-shutdown');
    expect(c.status).toBe('fail');
    expect(c.evidence).toMatchObject({ killedAtBudget: true, budgetMs: 5000 });
    expect(c.evidence.lastLogLines).toContain('SIGTERM: draining for 8000 ms');
  });
});

describe('the slow-drain fixture with a 10 s budget', () => {
  let report: AuditReport;
  beforeAll(async () => {
    report = await auditFixture('slow-drain', { only: ['sigterm-shutdown'], shutdownBudget: '10s' });
  });
  it('passes sigterm-shutdown, measuring about 8 s', () => {
    const c = check(report, 'sigterm-shutdown');
    expect(c.status).toBe('pass');
    expect(c.evidence.exitedAfterMs as number).toBeGreaterThanOrEqual(7900);
    expect(c.evidence.exitedAfterMs as number).toBeLessThan(10_000);
  });
});
