// GitHub-flavoured Markdown, for a pull-request comment or $GITHUB_STEP_SUMMARY: a table of the checks,
// then what failed with its evidence, fix and doc link. App output goes into fenced blocks or escaped
// inline text, so a log line cannot add markup, links, mentions or HTML to the comment.
import type { GateReport } from '../gate/types.js';
import type { AuditReport, CheckResult, CheckStatus } from '../types.js';
import { formatBytes, formatMs } from '../units.js';
import { exitCodeFor } from './exit-code.js';
import { sanitizeForTerminal } from './sanitize.js';
import { docLink, evidenceLines } from './tty.js';

const ICON: Record<CheckStatus, string> = { pass: '✅ pass', fail: '❌ fail', warn: '⚠️ warn', skip: '⏭️ skip', error: '💥 error', waived: '🔕 waived' };
const MAX_CHARS = 1000;

/** Inline text: one line, Markdown and HTML punctuation escaped, @mentions and #refs defused. */
export function inline(value: unknown): string {
  return sanitizeForTerminal(String(value ?? ''), MAX_CHARS)
    .replace(/[\\`*_[\]|<>~&#]/g, (c) => `\\${c}`)
    .replace(/@/g, '@\u200b');
}

/** A fenced block whose fence is longer than any backtick run inside it. */
function fenced(lines: string[]): string {
  const body = lines.map((l) => sanitizeForTerminal(l, MAX_CHARS)).join('\n');
  const longest = Math.max(2, ...(body.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}text\n${body}\n${fence}`;
}

function details(result: CheckResult): string[] {
  const out = [`### ${ICON[result.status]}: \`${result.id}\``, '', inline(result.message), ''];
  if (result.hint) out.push(`**Fix:** ${inline(result.hint)}`, '');
  if (result.location) out.push(`At \`${inline(result.location.file).replace(/`/g, '')}:${result.location.line}\`: ${inline(result.location.instruction)}`, '');
  const lines = evidenceLines(result);
  if (lines.length) out.push(fenced(lines), '');
  if (result.doc) out.push(`[How to fix ${result.id}](${docLink(result.doc, 'uri')})`, '');
  return out;
}

const EXIT: Record<number, string> = { 0: 'every check passed (exit 0)', 1: 'at least one check failed (exit 1)', 3: 'at least one check could not run (exit 3)' };

export function renderMarkdown(report: AuditReport): string {
  const code = exitCodeFor(report);
  const s = report.summary;
  const out = [
    `## ${code === 0 ? '✅' : code === 1 ? '❌' : '💥'} image-audit: ${inline(report.target)}`,
    '',
    `${EXIT[code]} · image \`${report.image.id.replace(/^sha256:/, '').slice(0, 12)}\` · ${formatBytes(report.image.sizeBytes)} · ${s.pass} pass, ${s.fail} fail, ${s.warn} warn, ${s.skip} skip, ${s.error} error${s.waived ? `, ${s.waived} waived` : ''} · ${formatMs(report.durationMs)}`,
    '',
    '| check | status | observed |',
    '| --- | --- | --- |',
    ...report.checks.map((c) => `| \`${c.id}\` | ${ICON[c.status]} | ${inline(c.message)} |`),
    '',
  ];
  const acted = report.checks.filter((c) => c.status === 'fail' || c.status === 'warn' || c.status === 'error');
  for (const result of acted) out.push(...details(result));
  return `${out.join('\n').trimEnd()}\n`;
}

export function renderGateMarkdown(gate: GateReport): string {
  const c = gate.candidate;
  const b = gate.baseline?.report;
  const regressed = new Set(gate.regressions.map((r) => r.checkId).filter(Boolean));
  const ship = gate.verdict === 'ship';
  const out = [
    `## ${ship ? '✅ ship' : '❌ do not ship'}: ${inline(c.target)}${gate.baseline ? ` vs ${inline(gate.baseline.ref)}` : ''}`,
    '',
    gate.baselineNote ? `${inline(gate.baselineNote)}\n` : '',
    `| check | ${b ? 'baseline | ' : ''}candidate |`,
    `| --- | ${b ? '--- | ' : ''}--- |`,
    ...c.checks.map((x) => {
      const before = b?.checks.find((y) => y.id === x.id);
      const mark = regressed.has(x.id) ? ' **regressed**' : '';
      return `| \`${x.id}\` | ${b ? `${before ? ICON[before.status] : '-'} | ` : ''}${ICON[x.status]}${mark} |`;
    }),
    `| size | ${b ? `${formatBytes(b.image.sizeBytes)} | ` : ''}${formatBytes(c.image.sizeBytes)}${gate.regressions.some((r) => r.kind === 'size') ? ' **regressed**' : ''} |`,
    '',
  ];
  for (const m of (gate.remeasured ?? []).filter((x) => !x.confirmed)) out.push(`- **measured again:** ${inline(m.note)}`);
  for (const r of gate.regressions) out.push(`- **regression:** ${inline(r.message)}`);
  for (const f of gate.failures) out.push(`- **failing:** \`${f.id}\`: ${inline(f.message)}`);
  out.push('');
  for (const result of c.checks.filter((x) => x.status === 'fail' || x.status === 'warn' || x.status === 'error')) out.push(...details(result));
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}
