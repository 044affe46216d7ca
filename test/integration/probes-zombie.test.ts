import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditReport } from '../../src/types.js';
import { check, fixtureFolder } from '../support/fixtures.js';

const auditProbeFixture = fixtureFolder(path.resolve(__dirname, '../../fixtures/probes'));
const result = check;

const reports: Record<string, AuditReport> = {};
beforeAll(async () => {
  for (const name of ['Dockerfile', 'tini.Dockerfile', 'node-pid1.Dockerfile', 'npm-start.Dockerfile']) {
    reports[name] = await auditProbeFixture(name, { only: ['zombie-reaping'] });
  }
});

describe('zombie-reaping with an init as PID 1', () => {
  it('passes when dumb-init is PID 1, every orphan reaped', () => {
    const c = result(reports['Dockerfile'], 'zombie-reaping');
    expect(c.status).toBe('pass');
    expect(c.message).toMatch(/^PID 1 "dumb-init -- node src\/server.js" reaped all 3 orphaned processes$/);
    expect((c.evidence.orphans as Array<{ state: string }>).map((o) => o.state)).toEqual(['gone', 'gone', 'gone']);
  });
  it('passes when tini is PID 1', () => {
    const c = result(reports['tini.Dockerfile'], 'zombie-reaping');
    expect(c.status).toBe('pass');
    expect(c.evidence.pid1).toBe('tini -- node src/server.js');
  });
});

describe('zombie-reaping without an init', () => {
  it('fails when node is PID 1, naming the zombies, their ppid 1 and PID 1', () => {
    const c = result(reports['node-pid1.Dockerfile'], 'zombie-reaping');
    expect(c.status).toBe('fail');
    expect(c.message).toMatch(/^3 of 3 orphaned processes stayed zombies \(still after [\d.]+ m?s\): pids \d+ \(ppid 1\), \d+ \(ppid 1\), \d+ \(ppid 1\) in the container, not reaped by PID 1 "node src\/server.js"$/);
    expect(c.hint).toContain('dumb-init');
    expect(c.location?.line).toBeGreaterThan(0);
  });
  it('fails when npm start is PID 1', () => {
    const c = result(reports['npm-start.Dockerfile'], 'zombie-reaping');
    expect(c.status).toBe('fail');
    expect(c.evidence.pid1).toBe('npm start');
    expect((c.evidence.orphans as Array<{ state: string; ppid: number }>).every((o) => o.state === 'Z' && o.ppid === 1)).toBe(true);
  });
});
