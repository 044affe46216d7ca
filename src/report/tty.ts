// The terminal report: one line per check, then the evidence a developer acts on.
import { readFileSync } from 'node:fs';
import type { AuditReport, CheckResult, CheckStatus } from '../types.js';
import { CHECKS } from '../checks/registry.js';
import { sanitizeForTerminal } from './sanitize.js';
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

/** Longest list the terminal shows of one run of evidence lines (json and html keep them all). */
const MAX_LIST_LINES = 10;

/** What makes lines one list: the same label ("leaked: …") or the same indentation ("  …"). */
function listKey(line: string): string | undefined {
  const indent = /^(\s+)\S/.exec(line);
  if (indent) return `indent ${indent[1]}`;
  const label = /^([A-Za-z][\w .-]{0,30}): /.exec(line);
  return label ? `label ${label[1]}` : undefined;
}

const SIZE = /(?:^|\s)(\d+(?:\.\d+)?) (B|kB|MB|GB|TB)(?=\s|$|[,;)])/;
const UNIT: Record<string, number> = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 };

/** The size a line shows (formatBytes' form), null for "size unknown", undefined when it shows none. */
function sizeIn(line: string): number | null | undefined {
  const match = SIZE.exec(line);
  if (match) return Number(match[1]) * UNIT[match[2]];
  return /\bsize unknown\b/.test(line) ? null : undefined;
}

/**
 * Evidence for a terminal: a run of more than MAX_LIST_LINES + 1 list lines (see listKey) shows its first
 * MAX_LIST_LINES — the largest first when every line carries a size (or says it is unknown) — then one
 * line with how many more there are and where to see them all. Any check's lists, no check named here.
 */
export function capListRuns(lines: string[], max = MAX_LIST_LINES): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length; ) {
    const key = listKey(lines[i]);
    let end = i + 1;
    while (key && end < lines.length && listKey(lines[end]) === key) end++;
    const run = lines.slice(i, end);
    i = end;
    if (!key || run.length <= max + 1) {
      out.push(...run);
      continue;
    }
    const sizes = run.map(sizeIn);
    const bySize = sizes.every((size) => size !== undefined) && sizes.some((size) => size !== null);
    const order = run.map((_, at) => at);
    // Known sizes, largest first; unknown ones after, in their order (sort is stable).
    if (bySize) order.sort((a, b) => (sizes[b] ?? -1) - (sizes[a] ?? -1));
    const rest = order.slice(max);
    const restSizes = rest.map((at) => sizes[at]);
    const notes: string[] = [];
    if (bySize && restSizes.every((size) => typeof size === 'number')) notes.push(formatBytes(restSizes.reduce((sum: number, size) => sum + (size ?? 0), 0)));
    if (bySize) notes.push(`the ${max} largest are shown`);
    const lead = key.startsWith('indent ') ? key.slice('indent '.length) : `${key.slice('label '.length)}: `;
    out.push(...order.slice(0, max).map((at) => run[at]));
    out.push(`${lead}… and ${rest.length} more${notes.length ? ` (${notes.join('; ')})` : ''} — see --format json or html for all`);
  }
  return out;
}

let packageVersion: string | undefined;

/**
 * Where a check's doc page (`doc`, relative to the package root) is read; one rule for every report.
 * 'path': the copy installed with the package (tty, JUnit); 'uri': the same file of this very version
 * of the published package, absolute (SARIF helpUri, HTML and Markdown links).
 */
export function docLink(doc: string, form: 'path' | 'uri' = 'path'): string {
  if (form === 'path') return `node_modules/node-image-audit/${doc}`;
  // src/report and dist/report are both two levels below the package root.
  packageVersion ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return `https://unpkg.com/node-image-audit@${packageVersion}/${doc}`;
}

/** Everything printed may quote the app: escapes neutralised, one cut for all. */
const safe = (text: string, maxChars: number) => sanitizeForTerminal(text, maxChars);

export function renderTty(report: AuditReport, options: TtyOptions): string {
  const paint = (status: CheckStatus, text: string) => (options.color ? `\x1b[${COLOR[status]}m${text}\x1b[0m` : text);
  const dim = (text: string) => (options.color ? `\x1b[2m${text}\x1b[0m` : text);
  const out: string[] = [];
  const tags = report.image.tags.length ? ` (${report.image.tags.join(', ')})` : '';
  out.push(`image-audit ${report.target}`);
  out.push(dim(`image ${report.image.id.replace(/^sha256:/, '').slice(0, 12)}${tags}, ${formatBytes(report.image.sizeBytes)}`));
  out.push('');
  for (const result of report.checks) {
    out.push(`${paint(result.status, MARK[result.status].padEnd(5))} ${result.id.padEnd(20)} ${safe(result.message, 1000)}`);
    for (const line of capListRuns(evidenceLines(result))) out.push(dim(`      ${safe(line, 400)}`));
    if (result.location && result.status !== 'pass' && result.status !== 'skip') {
      out.push(dim(`      at ${result.location.file}:${result.location.line}: ${safe(result.location.instruction, 100)}`));
    }
    if (result.hint) out.push(`      fix: ${safe(result.hint, 400)}`);
    if (result.doc && result.status !== 'pass' && result.status !== 'skip') out.push(dim(`      see: ${docLink(result.doc)}`));
  }
  const s = report.summary;
  out.push('');
  out.push(`${report.checks.length} check${report.checks.length === 1 ? "" : "s"}: ${s.pass} pass, ${s.fail} fail, ${s.warn} warn, ${s.skip} skip, ${s.error} error${s.waived ? `, ${s.waived} waived` : ''} (audit took ${formatMs(report.durationMs)})`);
  return `${out.join('\n')}\n`;
}
