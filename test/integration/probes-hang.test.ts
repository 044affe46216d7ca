import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditReport } from '../../src/types.js';
import { check, fixtureFolder } from '../support/fixtures.js';

const auditProbeFixture = fixtureFolder(path.resolve(__dirname, '../../fixtures/probes'));
const result = check;

const reports: Record<string, AuditReport> = {};

beforeAll(async () => {
  for (const name of ['Dockerfile', 'node-pid1.Dockerfile', 'health-noop.Dockerfile']) {
    reports[name] = await auditProbeFixture(name, { only: ['health-detects-hang', 'healthcheck'] });
  }
});

describe('health-detects-hang with an HTTP probe against the app', () => {
  it('passes with dumb-init as PID 1 (the app frozen through an exec), unhealthy then healthy again', () => {
    const c = result(reports['Dockerfile'], 'health-detects-hang');
    expect(c.status).toBe('pass');
    expect(c.message).toMatch(/^unhealthy [\d.]+ s after the app was frozen; healthy again [\d.]+ m?s after SIGCONT$/);
    expect(c.evidence.via).toBe('exec');
    expect((c.evidence.probesWhileFrozen as Array<{ exitCode: number }>).some((p) => p.exitCode !== 0)).toBe(true);
  });
  it('passes with node as PID 1 (frozen from the host through the kill API)', () => {
    const c = result(reports['node-pid1.Dockerfile'], 'health-detects-hang');
    expect(c.status).toBe('pass');
    expect(c.evidence.via).toBe('kill-api');
  });
  it('leaves healthcheck judging only the time before the probes', () => {
    expect(result(reports['Dockerfile'], 'healthcheck').status).toBe('pass');
  });
});

describe('health-detects-hang with HEALTHCHECK CMD ["node", "-e", "0"]', () => {
  it('fails: the container stayed healthy while the app was frozen', () => {
    const c = result(reports['health-noop.Dockerfile'], 'health-detects-hang');
    expect(c.status).toBe('fail');
    expect(c.message).toMatch(/^the app was frozen \(SIGSTOP via an exec'd kill\) for [\d.]+ s and the container stayed healthy: the HEALTHCHECK does not notice a hung app$/);
    expect(c.hint).toContain('HTTP');
    expect(c.evidence.unhealthyAtMs).toBeUndefined();
  });
});

