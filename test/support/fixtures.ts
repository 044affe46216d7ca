// The fixture images: one build context (fixtures/service) and a Dockerfile per failure mode.
import path from 'node:path';
import { afterAll, inject } from 'vitest';
import { DockerodePort } from '../../src/docker/dockerode-port.js';
import { audit } from '../../src/audit.js';
import type { AuditOptions, AuditReport, CheckId, CheckResult, TargetSpec } from '../../src/types.js';

export const SERVICE_DIR = path.resolve(__dirname, '../../fixtures/service');

export type FixtureName =
  | 'compliant'
  | 'root-user'
  | 'uid0-alias'
  | 'no-init'
  | 'shell-form'
  | 'sigterm-ignored'
  | 'slow-drain'
  | 'broken-healthcheck'
  | 'no-healthcheck'
  | 'dev-deps-leaked'
  | 'over-budget'
  | 'no-shell'
  | 'crash-on-start'
  | 'seed'
  | 'seed-build-fixed'
  | 'npm-start';

export function dockerfileOf(name: FixtureName): string {
  return name === 'compliant' ? 'Dockerfile' : `${name}.Dockerfile`;
}

export function fixture(name: FixtureName): TargetSpec {
  return { kind: 'context', dir: SERVICE_DIR, dockerfile: dockerfileOf(name), buildArgs: { NODE_IMAGE: inject('nodeImage') } };
}

export function auditFixture(name: FixtureName, options: AuditOptions = {}): Promise<AuditReport> {
  return audit(fixture(name), options);
}

export function check(report: AuditReport, id: CheckId): CheckResult {
  const found = report.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no ${id} in the report (checks: ${report.checks.map((c) => c.id).join(', ')})`);
  return found;
}

/**
 * Audits the Dockerfiles of one fixture folder (built FROM the base image), and removes every image it
 * built after the file's tests: for fixture folders of their own (probes, content, deps…).
 */
export function fixtureFolder(dir: string): (dockerfile: string, options: AuditOptions) => Promise<AuditReport> {
  const built = new Set<string>();
  afterAll(async () => {
    const docker = new DockerodePort();
    for (const id of built) await docker.removeImage(id);
  });
  return async (dockerfile, options) => {
    const report = await audit({ kind: 'context', dir, dockerfile, buildArgs: { NODE_IMAGE: inject('nodeImage') } }, options);
    built.add(report.image.id);
    return report;
  };
}
