import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { audit } from '../../src/audit.js';
import { DockerodePort } from '../../src/docker/dockerode-port.js';
import type { AuditOptions, AuditReport, CheckResult } from '../../src/types.js';

const PROBES_DIR = path.resolve(__dirname, '../../fixtures/probes');
const built = new Set<string>();
async function auditProbeFixture(dockerfile: string, options: AuditOptions): Promise<AuditReport> {
  const report = await audit({ kind: 'context', dir: PROBES_DIR, dockerfile, buildArgs: { NODE_IMAGE: inject('nodeImage') } }, options);
  built.add(report.image.id);
  return report;
}
const result = (report: AuditReport, id: string): CheckResult => report.checks.find((c) => c.id === id)!;
afterAll(async () => {
  const docker = new DockerodePort();
  for (const id of built) await docker.removeImage(id);
});

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

