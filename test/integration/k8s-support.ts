// Shared by the k8s-* integration tests: the one fixture app (fixtures/k8s/app, three Dockerfiles), each
// case's manifest beside its GROUND-TRUTH.md, audited through the packed bin.
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import { inject } from 'vitest';
import type { AuditReport, CheckResult } from '../../src/types.js';
import { runCli, type CliRun } from '../support/cli.js';

export const K8S = path.resolve(__dirname, '../../fixtures/k8s');
export const APP = path.join(K8S, 'app');
export const manifestOf = (name: string) => path.join(K8S, name, 'deployment.yaml');

export interface K8sAudit {
  run: CliRun;
  report: AuditReport;
  out: string;
}

/** Audits the app built from `dockerfile` under the case's manifest, `--format json` into a file. */
export async function auditK8s(dockerfile: string, manifest: string | undefined, args: string[]): Promise<K8sAudit> {
  const out = mkdtempSync(path.join(tmpdir(), 'k8s-audit-'));
  const json = path.join(out, 'report.json');
  const run = await runCli([
    APP,
    '-f',
    dockerfile,
    '--build-arg',
    `NODE_IMAGE=${inject('nodeImage')}`,
    ...(manifest ? ['--manifest', manifestOf(manifest)] : []),
    '--format',
    'json',
    '--output',
    json,
    ...args,
  ]);
  let report: AuditReport;
  try {
    report = JSON.parse(readFileSync(json, 'utf8')) as AuditReport;
  } catch {
    throw new Error(`no report (exit ${run.code}): ${run.stderr}`);
  }
  return { run, report, out };
}

export function checkOf(audit: K8sAudit, id: string): CheckResult {
  const c = audit.report.checks.find((r) => r.id === id);
  if (!c) throw new Error(`${id} is not in the report (exit ${audit.run.code}): ${audit.run.stderr}`);
  return c;
}
