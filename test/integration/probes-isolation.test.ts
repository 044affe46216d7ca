// A probe never changes another check's verdict: the same image gets the same verdict for every check
// that runs without --deep (the shared checks) whether or not the deep probes ran. The probes that
// perturb the app (graceful-drain holds connections open, among them one that never sends a request;
// health-detects-hang freezes the app) run on containers of their own, so sigterm-shutdown still
// measures a clean stop.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditReport } from '../../src/types.js';
import { auditFixture, check, fixtureFolder } from '../support/fixtures.js';
import type { CheckId } from '../../src/types.js';

const auditProbeFixture = fixtureFolder(path.resolve(__dirname, '../../fixtures/probes'));
// layer-cache is deep but no probe (a rebuild from a copy of the context): left out to save its time.
const DEEP = { deep: true, skip: ['layer-cache'] as CheckId[] };

function sharedStatuses(plain: AuditReport, deep: AuditReport) {
  const shared = plain.checks.map((c) => c.id);
  const line = (r: AuditReport) => shared.map((id) => `${id}: ${check(r, id).status} (${check(r, id).message})`).join('\n');
  return {
    plain: Object.fromEntries(shared.map((id) => [id, check(plain, id).status])),
    deep: Object.fromEntries(shared.map((id) => [id, check(deep, id).status])),
    explain: `without --deep:\n${line(plain)}\nwith --deep:\n${line(deep)}`,
  };
}

describe('the compliant service (SIGTERM: server.close(), as most apps do)', () => {
  const reports: Record<'plain' | 'deep', AuditReport> = {} as never;
  beforeAll(async () => {
    reports.plain = await auditFixture('compliant');
    reports.deep = await auditFixture('compliant', DEEP);
  });

  it('gets the same status for every shared check with and without --deep', () => {
    const s = sharedStatuses(reports.plain, reports.deep);
    expect(s.deep, s.explain).toEqual(s.plain);
    expect(Object.keys(s.plain)).toContain('sigterm-shutdown');
  });

  it('passes sigterm-shutdown under --deep: the drain probe\'s silent connection is held on a container of its own', () => {
    const c = check(reports.deep, 'sigterm-shutdown');
    expect(c.status, c.message).toBe('pass');
    expect(c.evidence.killedAtBudget).toBe(false);
    expect(check(reports.deep, 'healthcheck').status).toBe('pass');
    // The drain probe did run, and saw what it sees on its own container: only the silent socket held the exit.
    const drain = check(reports.deep, 'graceful-drain');
    expect(drain.status, drain.message).toBe('warn');
    expect(drain.evidence.openAtBudget).toEqual(['silent']);
    expect(check(reports.deep, 'health-detects-hang').status).toBe('pass');
  });
});

describe('a server that leaves keep-alive connections open on SIGTERM (keeps-idle)', () => {
  const reports: Record<'plain' | 'deep', AuditReport> = {} as never;
  beforeAll(async () => {
    reports.plain = await auditProbeFixture('keeps-idle.Dockerfile', {});
    reports.deep = await auditProbeFixture('keeps-idle.Dockerfile', DEEP);
  });

  it('gets the same status for every shared check with and without --deep', () => {
    const s = sharedStatuses(reports.plain, reports.deep);
    expect(s.deep, s.explain).toEqual(s.plain);
    expect(s.plain['sigterm-shutdown']).toBe('pass');
  });

  it('fails graceful-drain on its own container while sigterm-shutdown measures a clean stop', () => {
    const drain = check(reports.deep, 'graceful-drain');
    expect(drain.status, drain.message).toBe('fail');
    expect(drain.evidence.killedAtBudget).toBe(true);
    const stop = check(reports.deep, 'sigterm-shutdown');
    expect(stop.status, stop.message).toBe('pass');
    expect(stop.evidence.exitedAfterMs as number).toBeLessThan(5000);
  });
});
