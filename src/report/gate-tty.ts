// The gate on a terminal: baseline and candidate side by side, then the regressions and the verdict.
import { sanitizeForTerminal } from './sanitize.js';
import type { GateReport } from '../gate/types.js';
import { formatBytes, formatMs } from '../units.js';

export function renderGateTty(report: GateReport, options: { color: boolean }): string {
  const paint = (code: number, text: string) => (options.color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const c = report.candidate;
  const b = report.baseline?.report;
  const out: string[] = [];
  out.push(`image-audit gate ${c.target}${report.baseline ? `  vs  ${report.baseline.ref} (${report.baseline.how === 'auto' ? 'previous release' : 'baseline'})` : ''}`);
  if (report.baselineNote) out.push(report.baselineNote);
  out.push('');
  const row = (label: string, before: string, after: string) => `  ${label.padEnd(22)} ${before.padEnd(14)} ${after}`;
  out.push(row('', b ? 'baseline' : '', 'candidate'));
  for (const check of c.checks) {
    const before = b?.checks.find((x) => x.id === check.id)?.status ?? (b ? '-' : '');
    out.push(row(check.id, before, check.status));
  }
  const mb = report.metrics.baseline;
  const mc = report.metrics.candidate;
  const opt = (v: number | undefined, f: (n: number) => string) => (v === undefined ? '-' : f(v));
  out.push(row('size', mb ? formatBytes(mb.sizeBytes) : '', formatBytes(mc.sizeBytes)));
  out.push(row('shutdown', mb ? opt(mb.shutdownMs, formatMs) : '', opt(mc.shutdownMs, formatMs)));
  out.push(row('time to healthy', mb ? opt(mb.timeToHealthyMs, formatMs) : '', opt(mc.timeToHealthyMs, formatMs)));
  out.push('');
  for (const m of (report.remeasured ?? []).filter((x) => !x.confirmed)) out.push(`measured again: ${sanitizeForTerminal(m.note, 1000)}`);
  for (const r of report.regressions) out.push(`regression: ${sanitizeForTerminal(r.message, 1000)}`);
  for (const f of report.failures) out.push(`failure: ${f.id}: ${sanitizeForTerminal(f.message, 1000)}`);
  for (const w of c.checks.filter((x) => x.status === 'waived')) out.push(`waived: ${w.id}: ${sanitizeForTerminal(w.message, 1000)}`);
  const problems = report.regressions.length + report.failures.length;
  out.push(
    report.verdict === 'ship'
      ? paint(32, `verdict: SHIP (no regression, no failing check; gate took ${formatMs(report.durationMs)})`)
      : paint(31, `verdict: DO NOT SHIP (${problems} problem${problems === 1 ? '' : 's'}; gate took ${formatMs(report.durationMs)})`),
  );
  return `${out.join('\n')}\n`;
}
