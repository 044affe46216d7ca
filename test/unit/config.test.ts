import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyWaivers } from '../../src/checks/waivers.js';
import { loadConfig, parseConfig } from '../../src/config/load.js';
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

describe('parseConfig: dates, durations and the new options', () => {
  it('refuses a waiver date that is not on the calendar (Date.parse accepts 2027-02-31)', () => {
    expect(problems({ waivers: [{ check: 'healthcheck', reason: 'x', expires: '2027-02-31' }] })[0]).toContain('/waivers/0/expires: "2027-02-31" is not a calendar date (YYYY-MM-DD)');
    expect(problems({ waivers: [{ check: 'healthcheck', reason: 'x', expires: '2027-13-01' }] })[0]).toContain('/waivers/0/expires');
    expect(problems({ waivers: [{ check: 'healthcheck', reason: 'x', expires: '2028-02-29' }] })).toEqual([]);
  });
  it('refuses durations longer than a timer can wait, in every duration key', () => {
    expect(problems({ shutdownBudget: '10000h' })[0]).toContain('/shutdownBudget: "10000h" is too long: the longest is 24.8 days');
    expect(problems({ healthTimeout: '30d' })[0]).toContain('/healthTimeout: "30d" is too long');
    expect(problems({ buildTimeout: '30d' })[0]).toContain('/buildTimeout: "30d" is too long');
    expect(problems({ gate: { maxShutdownGrowthMs: '30d' } })[0]).toContain('/gate/maxShutdownGrowthMs: Duration "30d" is too long');
  });
  it('maps the container options and validates them', () => {
    const config = parseConfig({ healthTimeout: '2m', memory: '512MiB', pidsLimit: 256, network: 'none', port: 3000, drainPath: '/healthz', deep: true }, 'c.json', '/tmp');
    expect(config.options).toEqual({ healthTimeout: '2m', memory: '512MiB', pidsLimit: 256, network: 'none', port: 3000, drainPath: '/healthz', deep: true });
    expect(problems({ port: 70000 })[0]).toContain('/port: must be <= 65535');
    expect(problems({ pidsLimit: -1 })[0]).toContain('/pidsLimit: must be >= 0');
    expect(problems({ memory: '1MB' })[0]).toContain('/memory: "1MB" is below Docker\'s minimum of 6 MiB');
    expect(problems({ network: 'my net' })[0]).toContain('/network: must match pattern');
    expect(problems({ drainPath: 'health' })[0]).toContain('/drainPath: must match pattern');
  });
});

describe('loadConfig', () => {
  it('reads a config file saved with a UTF-8 byte order mark', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bom-'));
    writeFileSync(path.join(dir, 'image-audit.config.json'), `\uFEFF${JSON.stringify({ sizeBudget: '100MB' })}`);
    expect(loadConfig({ searchDirs: [dir] })?.options).toEqual({ sizeBudget: '100MB' });
    writeFileSync(path.join(dir, 'package.json'), `\uFEFF${JSON.stringify({ name: 'x', imageAudit: { shutdownBudget: '2s' } })}`);
    expect(loadConfig({ configPath: path.join(dir, 'package.json'), searchDirs: [] })?.options).toEqual({ shutdownBudget: '2s' });
  });
  it('reads envFile relative to the config file, dotenv style', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'envfile-'));
    writeFileSync(path.join(dir, '.env.audit'), 'export A="a b"\n# c\nB=2\n');
    writeFileSync(path.join(dir, 'image-audit.config.json'), JSON.stringify({ envFile: '.env.audit' }));
    expect(loadConfig({ searchDirs: [dir] })?.options.env).toEqual({ A: 'a b', B: '2' });
  });
});
