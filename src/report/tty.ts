// The terminal report: one line per check, then the evidence a developer acts on.
import type { AuditReport, CheckResult, CheckStatus } from '../types.js';
import { CHECKS } from '../checks/registry.js';
import { formatBytes, formatMs } from '../units.js';

const MARK: Record<CheckStatus, string> = { pass: 'PASS', fail: 'FAIL', warn: 'WARN', skip: 'SKIP', error: 'ERROR', waived: 'WAIVE' };
const COLOR: Record<CheckStatus, number> = { pass: 32, fail: 31, warn: 33, skip: 90, error: 35, waived: 36 };

export interface TtyOptions {
  color: boolean;
}

/** The evidence of one check as short lines, for terminals and test failure messages: the check's own. */
export function evidenceLines(result: CheckResult): string[] {
  const check = CHECKS.find((c) => c.id === result.id);
  const lines = check ? check.lines(result) : genericLines(result.evidence);
  if (result.status === 'error' && !lines.some((l) => l === 'last log lines:')) {
    const logs = (result.evidence as { lastLogLines?: unknown }).lastLogLines;
    if (Array.isArray(logs) && logs.length) lines.push('last log lines:', ...(logs as string[]).slice(-5).map((l) => `  ${l}`));
  }
  return lines;
}

/** Evidence of a check this version does not know (an older or newer report): key: value lines. */
function genericLines(evidence: Record<string, unknown>): string[] {
  return Object.entries(evidence)
    .filter(([, v]) => v !== undefined && v !== null && typeof v !== 'object')
    .map(([k, v]) => `${k}: ${String(v)}`);
}

/** Where a check's doc page is read: the published package's copy on npm's CDN-free page, or the repo path. */
export function docLink(doc: string): string {
  return `node_modules/node-image-audit/${doc}`;
}

export function renderTty(report: AuditReport, options: TtyOptions): string {
  const paint = (status: CheckStatus, text: string) => (options.color ? `\x1b[${COLOR[status]}m${text}\x1b[0m` : text);
  const dim = (text: string) => (options.color ? `\x1b[2m${text}\x1b[0m` : text);
  const out: string[] = [];
  const tags = report.image.tags.length ? ` (${report.image.tags.join(', ')})` : '';
  out.push(`image-audit ${report.target}`);
  out.push(dim(`image ${report.image.id.replace(/^sha256:/, '').slice(0, 12)}${tags}, ${formatBytes(report.image.sizeBytes)}`));
  out.push('');
  for (const result of report.checks) {
    out.push(`${paint(result.status, MARK[result.status].padEnd(5))} ${result.id.padEnd(20)} ${result.message}`);
    for (const line of evidenceLines(result)) out.push(dim(`      ${line}`));
    if (result.location && result.status !== 'pass' && result.status !== 'skip') {
      out.push(dim(`      at ${result.location.file}:${result.location.line}: ${result.location.instruction.slice(0, 100)}`));
    }
    if (result.hint) out.push(`      fix: ${result.hint}`);
    if (result.doc && result.status !== 'pass' && result.status !== 'skip') out.push(dim(`      see: ${docLink(result.doc)}`));
  }
  const s = report.summary;
  out.push('');
  out.push(`${report.checks.length} check${report.checks.length === 1 ? "" : "s"}: ${s.pass} pass, ${s.fail} fail, ${s.warn} warn, ${s.skip} skip, ${s.error} error${s.waived ? `, ${s.waived} waived` : ''} (audit took ${formatMs(report.durationMs)})`);
  return `${out.join('\n')}\n`;
}
