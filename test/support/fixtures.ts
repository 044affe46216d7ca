// The fixture images: one build context (fixtures/service) and a Dockerfile per failure mode.
import path from 'node:path';
import { inject } from 'vitest';
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
