// SARIF 2.1.0: one rule per check id with its help text; one result per check that did not pass,
// located at the Dockerfile instruction responsible when the image was built from a context.
import path from 'node:path';
import { CHECKS } from '../checks/registry.js';
import type { AuditReport, CheckId, CheckResult } from '../types.js';
import { evidenceLines } from './tty.js';

const HELP: Record<CheckId, string> = {
  'non-root-user': 'Add a non-root user and switch to it with USER (e.g. `USER node`). A user named anything that maps to uid 0 is still root.',
  'init-pid1': 'Run an init as PID 1 in exec form, e.g. `ENTRYPOINT ["dumb-init", "--"]` and `CMD ["node", "server.js"]`, so signals reach node and zombies are reaped.',
  'sigterm-shutdown': 'Handle SIGTERM: stop accepting work, finish in-flight requests and exit 0 within the orchestrator grace period. Use an init so the signal reaches node.',
  healthcheck: 'Declare a HEALTHCHECK whose command exists in the final image (e.g. a copied healthcheck.js, or `node -e` with http.get), with a start period that covers boot.',
  'no-dev-dependencies': 'Install with `npm ci --omit=dev` (or prune) in the stage that produces the final node_modules; set NODE_ENV=production only after installing build tools you need.',
  'size-budget': 'Use a slim base, multi-stage builds and .dockerignore; look at the largest layers in the evidence.',
};

const LEVEL: Partial<Record<CheckResult['status'], 'error' | 'warning' | 'note'>> = { fail: 'error', error: 'error', warn: 'warning', waived: 'note' };

export function renderSarif(report: AuditReport, toolVersion: string): string {
  const rules = CHECKS.map((check) => ({
    id: check.id,
    name: check.id.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase()),
    shortDescription: { text: check.title },
    fullDescription: { text: `${check.title}: observed on a running container by image-audit.` },
    help: { text: HELP[check.id], markdown: HELP[check.id] },
    helpUri: 'https://www.npmjs.com/package/node-image-audit',
    defaultConfiguration: { level: 'error' as const },
  }));
  const contextDir = report.source?.contextDir;
  const results = report.checks
    .filter((c) => LEVEL[c.status])
    .map((c) => ({
      ruleId: c.id,
      ruleIndex: rules.findIndex((r) => r.id === c.id),
      level: LEVEL[c.status]!,
      message: { text: [c.message, ...evidenceLines(c)].join('\n') },
      ...(c.status === 'waived' && c.waiver
        ? { suppressions: [{ kind: 'external' as const, justification: c.waiver.reason }] }
        : {}),
      locations: c.location
        ? [
            {
              physicalLocation: {
                artifactLocation: { uri: c.location.file, uriBaseId: 'CONTEXT' },
                region: { startLine: c.location.line, snippet: { text: c.location.instruction } },
              },
            },
          ]
        : [{ logicalLocations: [{ name: report.target, kind: 'module' }] }],
      properties: { status: c.status, imageId: report.image.id },
    }));
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'image-audit', semanticVersion: toolVersion, informationUri: 'https://www.npmjs.com/package/node-image-audit', rules } },
        ...(contextDir ? { originalUriBaseIds: { CONTEXT: { uri: `file://${path.resolve(contextDir)}/` } } } : {}),
        results,
        invocations: [{ executionSuccessful: report.summary.error === 0 }],
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
