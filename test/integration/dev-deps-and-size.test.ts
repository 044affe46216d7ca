import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditReport } from '../../src/types.js';
import { auditFixture, check } from '../support/fixtures.js';

describe('the dev-deps-leaked fixture (full npm ci; node_modules in a parent of the app folder)', () => {
  let report: AuditReport;
  beforeAll(async () => {
    report = await auditFixture('dev-deps-leaked', { only: ['no-dev-dependencies'] });
  });
  it('fails no-dev-dependencies listing the direct and the transitive dev-only package with sizes', () => {
    const c = check(report, 'no-dev-dependencies');
    expect(c.status).toBe('fail');
    expect(c.message).toMatch(/^2 dev-only packages are installed in \/opt\/node_app\/node_modules \(.+\): fake-tsc, tsc-helper$/);
    const leaked = c.evidence.leaked as Array<{ name: string; path: string; sizeBytes: number }>;
    expect(leaked.map((p) => [p.name, p.path])).toEqual([
      ['fake-tsc', '/opt/node_app/node_modules/fake-tsc'],
      ['tsc-helper', '/opt/node_app/node_modules/tsc-helper'],
    ]);
    for (const p of leaked) expect(p.sizeBytes).toBeGreaterThan(0);
  });
  it('found node_modules by resolving upward from the entry script', () => {
    const e = check(report, 'no-dev-dependencies').evidence;
    expect(e).toMatchObject({ entryScript: '/opt/node_app/app/src/index.js', nodeModules: '/opt/node_app/node_modules' });
  });
});

describe('the over-budget fixture (60 MB more)', () => {
  let report: AuditReport;
  beforeAll(async () => {
    report = await auditFixture('over-budget', { only: ['size-budget'] });
  });
  it('fails size-budget naming the layer that grew', () => {
    const c = check(report, 'size-budget');
    expect(c.status).toBe('fail');
    const layers = c.evidence.largestLayers as Array<{ sizeBytes: number; createdBy: string }>;
    expect(layers.find((l) => l.createdBy.includes('blob.bin'))?.sizeBytes).toBeGreaterThanOrEqual(60_000_000);
  });
});

describe('the over-budget fixture with a 300MB budget', () => {
  let report: AuditReport;
  beforeAll(async () => {
    report = await auditFixture('over-budget', { only: ['size-budget'], sizeBudget: '300MB' });
  });
  it('passes size-budget', () => expect(check(report, 'size-budget').status).toBe('pass'));
});
