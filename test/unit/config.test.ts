import { describe, expect, it } from 'vitest';
import { applyWaivers } from '../../src/checks/waivers.js';
import { parseConfig } from '../../src/config/load.js';
import { UsageError } from '../../src/errors.js';
import type { CheckResult } from '../../src/types.js';

const problems = (raw: unknown): string[] => {
  try {
    parseConfig(raw, 'image-audit.config.json', '/tmp');
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return [(err as UsageError).message, ...(err as UsageError).detail];
  }
};

describe('parseConfig', () => {
  it('accepts a full config and maps it onto audit options and gate thresholds', () => {
    const config = parseConfig(
      {
        sizeBudget: '200MB',
        shutdownBudget: '3s',
        only: ['size-budget'],
        buildArgs: { NODE_IMAGE: 'node:20' },
        waivers: [{ check: 'healthcheck', reason: 'IA-1', expires: '2027-01-31' }],
        gate: { baseline: 'auto', maxSizeGrowthPercent: 5, maxShutdownGrowthMs: '2s' },
      },
      'image-audit.config.json',
      '/tmp',
    );
    expect(config.options).toEqual({ sizeBudget: '200MB', shutdownBudget: '3s', only: ['size-budget'], buildArgs: { NODE_IMAGE: 'node:20' }, waivers: [{ check: 'healthcheck', reason: 'IA-1', expires: '2027-01-31' }] });
    expect(config.gate).toMatchObject({ baseline: 'auto', maxSizeGrowthPercent: 5, maxShutdownGrowthMs: 2000, maxHealthyGrowthMs: 2000 });
  });
  it('names the path of an unknown key and what is allowed', () => {
    expect(problems({ sizeBudjet: '1GB' })[0]).toMatch(/^Invalid config image-audit.config.json: \/: unknown key "sizeBudjet" \(allowed: \$schema, sizeBudget, shutdownBudget/);
    expect(problems({ waivers: [{ check: 'healthcheck', reason: 'x', until: '2027-01-01' }] })[0]).toContain('/waivers/0: unknown key "until" (allowed: check, reason, expires)');
  });
  it('names bad values with their paths', () => {
    expect(problems({ only: ['non-root'] })[0]).toContain('/only/0: must be one of non-root-user, init-pid1');
    expect(problems({ waivers: [{ check: 'healthcheck', reason: ' ' }] })[0]).toContain('/waivers/0/reason');
    expect(problems({ waivers: [{ check: 'healthcheck', reason: 'x', expires: '31/01/2027' }] })[0]).toContain('/waivers/0/expires: must be a date YYYY-MM-DD');
    expect(problems({ sizeBudget: 'huge' })[0]).toContain('/sizeBudget: "huge" is not a size');
    expect(problems({ gate: { maxSizeGrowthPercent: -1 } })[0]).toContain('/gate/maxSizeGrowthPercent: must be >= 0');
  });
});

describe('applyWaivers', () => {
  const failing: CheckResult = { id: 'healthcheck', title: '', status: 'fail', message: 'turned unhealthy', evidence: {}, durationMs: 0 };
  const now = new Date('2026-11-28T12:00:00Z');
  it('waives a failure until its expiry day, inclusive', () => {
    const [r] = applyWaivers([failing], [{ check: 'healthcheck', reason: 'IA-1', expires: '2026-11-28' }], now);
    expect(r).toMatchObject({ status: 'waived', message: 'waived ("IA-1", until 2026-11-28): turned unhealthy', waiver: { expired: false } });
  });
  it('fails again after the expiry day and says so', () => {
    const [r] = applyWaivers([failing], [{ check: 'healthcheck', reason: 'IA-1', expires: '2026-11-27' }], now);
    expect(r).toMatchObject({ status: 'fail', message: 'waiver expired on 2026-11-27 ("IA-1"): turned unhealthy', waiver: { expired: true } });
  });
  it('leaves passing checks and other ids alone', () => {
    const passing = { ...failing, status: 'pass' as const };
    expect(applyWaivers([passing, failing], [{ check: 'size-budget', reason: 'x' }], now)).toEqual([passing, failing]);
  });
});
