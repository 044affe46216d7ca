// SARIF 2.1.0: one rule per check id with its help text; one result per check that did not pass,
// located at the Dockerfile instruction responsible when the image was built from a context.
// A hint goes in the result's message and its properties (`hint`): a SARIF `fix` must carry the
// artifact changes that make it (the 2.1.0 schema requires them), and a hint is advice, not an edit.
// Text from the image or the app goes through the report sanitizer (no escape sequence, control, bidi
// or lone surrogate reaches a viewer raw); URIs are percent-encoded.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { docPath } from '../checks/check.js';
import { CHECKS } from '../checks/registry.js';
import type { AuditReport, CheckResult } from '../types.js';
import { sanitizeMultiline } from './sanitize.js';
import { docLink, evidenceLines } from './tty.js';

const LEVEL: Partial<Record<CheckResult['status'], 'error' | 'warning' | 'note'>> = { fail: 'error', error: 'error', warn: 'warning', waived: 'note' };

/** The doc page of a check in the published package, absolute (the same rule as tty's `see:`). */
export function docUri(id: string): string {
  return docLink(docPath(id), 'uri');
}

/** A relative path (the Dockerfile in the context) as a relative URI reference: each segment percent-encoded. */
export function relativeUri(file: string): string {
  return file.split(/[\\/]/).map(encodeURIComponent).join('/');
}

/** The context folder as the file: URI every location is relative to (ends with "/"). */
export function folderUri(dir: string): string {
  const href = pathToFileURL(path.resolve(dir)).href;
  return href.endsWith('/') ? href : `${href}/`;
}

const text = (value: string) => sanitizeMultiline(value);

export function renderSarif(report: AuditReport, toolVersion: string): string {
  const rules = CHECKS.map((check) => ({
    id: check.id,
    name: check.id.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase()),
    shortDescription: { text: check.title },
    fullDescription: { text: `${check.title}: observed on a running container by image-audit.` },
    help: { text: check.help, markdown: check.help },
    helpUri: docUri(check.id),
    defaultConfiguration: { level: 'error' as const },
  }));
  const contextDir = report.source?.contextDir;
  const results = report.checks
    .filter((c) => LEVEL[c.status])
    .map((c) => ({
      ruleId: c.id,
      ruleIndex: rules.findIndex((r) => r.id === c.id),
      level: LEVEL[c.status]!,
      message: { text: text([c.message, ...evidenceLines(c), ...(c.hint ? [`fix: ${c.hint}`] : [])].join('\n')) },
      ...(c.status === 'waived' && c.waiver
        ? { suppressions: [{ kind: 'external' as const, justification: text(c.waiver.reason) }] }
        : {}),
      locations: c.location
        ? [
            {
              physicalLocation: {
                // A manifest outside the build context is named by its absolute file: URI.
                artifactLocation: path.isAbsolute(c.location.file) ? { uri: pathToFileURL(c.location.file).href } : { uri: relativeUri(c.location.file), uriBaseId: 'CONTEXT' },
                region: { startLine: c.location.line, snippet: { text: text(c.location.instruction) } },
              },
            },
          ]
        : [{ logicalLocations: [{ name: text(report.target), kind: 'module' }] }],
      properties: { status: c.status, imageId: report.image.id, ...(c.hint ? { hint: text(c.hint) } : {}) },
    }));
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'image-audit', semanticVersion: toolVersion, informationUri: 'https://www.npmjs.com/package/node-image-audit', rules } },
        ...(contextDir ? { originalUriBaseIds: { CONTEXT: { uri: folderUri(contextDir) } } } : {}),
        results,
        invocations: [{ executionSuccessful: report.summary.error === 0 }],
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
