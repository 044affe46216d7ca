// The fleet on a terminal: a line per target as it ends, then a targets × checks table and what failed.
import { CHECK_IDS } from '../checks/ids.js';
import type { FleetReport, FleetTarget } from '../fleet/report.js';
import type { CheckStatus } from '../types.js';
import { formatMs } from '../units.js';
import { sanitizeForTerminal } from './sanitize.js';

const CELL: Record<CheckStatus, string> = { pass: '.', fail: 'F', warn: 'W', skip: '-', error: 'E', waived: 'V' };
const COLOR: Record<CheckStatus, number> = { pass: 32, fail: 31, warn: 33, skip: 90, error: 35, waived: 36 };
const VERDICT = (t: FleetTarget) => (!t.report ? 'ERROR' : t.exitCode === 0 ? 'PASS' : t.exitCode === 1 ? 'FAIL' : 'ERROR');
const VERDICT_COLOR: Record<string, number> = { PASS: 32, FAIL: 31, ERROR: 35 };

export interface FleetTtyOptions {
  color: boolean;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What went wrong with a target, in a few words: "2 failed: healthcheck, size-budget", "could not audit: …". */
export function targetOutcome(t: FleetTarget): string {
  if (!t.report) return `could not audit: ${t.error?.message ?? 'no report'}`;
  const ids = (status: CheckStatus) => t.report!.checks.filter((c) => c.status === status).map((c) => c.id);
  const parts: string[] = [];
  if (ids('error').length) parts.push(`${ids('error').length} could not run: ${ids('error').join(', ')}`);
  if (ids('fail').length) parts.push(`${ids('fail').length} failed: ${ids('fail').join(', ')}`);
  if (ids('warn').length) parts.push(`${plural(ids('warn').length, 'warning')}`);
  return parts.join('; ') || `${t.report.checks.length} checks passed`;
}

/** The line printed as a target ends: "[ 3/8] FAIL  services/api  on default  12.3 s  1 failed: healthcheck". */
export function fleetProgressLine(t: FleetTarget, done: number, total: number, options: FleetTtyOptions): string {
  const verdict = VERDICT(t);
  const paint = (text: string) => (options.color ? `\x1b[${VERDICT_COLOR[verdict]}m${text}\x1b[0m` : text);
  const width = String(total).length;
  const took = t.report ? `  ${formatMs(t.report.durationMs)}` : '';
  return `[${String(done).padStart(width)}/${total}] ${paint(verdict.padEnd(5))} ${sanitizeForTerminal(t.name, 120)}  on ${sanitizeForTerminal(t.engine, 80)}${took}  ${sanitizeForTerminal(targetOutcome(t), 400)}\n`;
}

/** The check ids of these reports: the registry's order, then any this version does not know. */
export function fleetCheckIds(report: FleetReport): string[] {
  const seen = new Set(report.targets.flatMap((t) => t.report?.checks.map((c) => c.id) ?? []));
  return [...CHECK_IDS.filter((id) => seen.has(id)), ...[...seen].filter((id) => !CHECK_IDS.includes(id)).sort()];
}

export function renderFleetTty(report: FleetReport, options: FleetTtyOptions): string {
  const paint = (code: number, text: string) => (options.color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const ids = fleetCheckIds(report);
  const names = report.targets.map((t) => sanitizeForTerminal(t.name, 60));
  const engines = report.targets.map((t) => sanitizeForTerminal(t.engine, 24));
  const nameWidth = Math.max(6, ...names.map((n) => n.length));
  const engineWidth = Math.max(6, ...engines.map((e) => e.length));
  const out: string[] = [`image-audit fleet: ${plural(report.targets.length, 'target')}`, ''];
  out.push(`checks: ${ids.map((id, i) => `${i + 1} ${id}`).join('  ')}`);
  out.push(`cells:  . pass  F fail  W warn  - skip  E could not run  V waived  (blank: not run)`);
  out.push('');
  const columns = ids.map((_, i) => String(i + 1).padStart(2)).join(' ');
  out.push(`${'      '}${'target'.padEnd(nameWidth)}  ${'engine'.padEnd(engineWidth)} ${columns}`);
  report.targets.forEach((t, i) => {
    const verdict = VERDICT(t);
    const cells = ids
      .map((id) => {
        const status = t.report?.checks.find((c) => c.id === id)?.status;
        return status ? paint(COLOR[status], CELL[status].padStart(2)) : '  ';
      })
      .join(' ');
    const row = t.report ? cells : paint(35, sanitizeForTerminal(`could not audit: ${t.error?.message ?? ''}`, 200));
    out.push(`${paint(VERDICT_COLOR[verdict], verdict.padEnd(5))} ${names[i].padEnd(nameWidth)}  ${engines[i].padEnd(engineWidth)} ${row}`);
  });
  const acted = report.targets.filter((t) => !t.report || t.report.checks.some((c) => c.status === 'fail' || c.status === 'error'));
  if (acted.length) {
    out.push('');
    for (const t of acted) {
      if (!t.report) {
        out.push(`${sanitizeForTerminal(t.name, 120)} (on ${sanitizeForTerminal(t.engine, 80)}): could not audit: ${sanitizeForTerminal(t.error?.message ?? '', 600)}`);
        for (const a of t.attempts ?? []) out.push(`      earlier on ${sanitizeForTerminal(a.engine, 80)}: ${sanitizeForTerminal(a.error, 300)}`);
        continue;
      }
      for (const c of t.report.checks.filter((x) => x.status === 'fail' || x.status === 'error')) {
        out.push(`${sanitizeForTerminal(t.name, 120)}: ${paint(COLOR[c.status], c.status.toUpperCase())} ${c.id}: ${sanitizeForTerminal(c.message, 400)}`);
        if (c.hint) out.push(`      fix: ${sanitizeForTerminal(c.hint, 300)}`);
      }
    }
  }
  const s = report.summary;
  const checkCounts = (['pass', 'fail', 'warn', 'skip', 'error', 'waived'] as const).filter((k) => s.checks[k]).map((k) => `${s.checks[k]} ${k}`).join(', ');
  out.push('');
  out.push(
    `${plural(s.targets, 'target')}: ${s.pass} pass, ${s.fail} fail, ${s.couldNotAudit} could not audit` +
      `${checkCounts ? ` · checks: ${checkCounts}` : ''} · engines: ${Object.entries(s.engines).map(([e, n]) => `${sanitizeForTerminal(e, 80)} ${n}`).join(', ')}`,
  );
  return `${out.join('\n')}\n`;
}
