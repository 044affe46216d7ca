// The terminal report: one line per check, then the evidence a developer acts on.
import type { AuditReport, CheckResult, CheckStatus } from '../types.js';
import { telling } from '../checks/healthcheck.js';
import { formatBytes, formatMs } from '../units.js';

const MARK: Record<CheckStatus, string> = { pass: 'PASS', fail: 'FAIL', warn: 'WARN', skip: 'SKIP', error: 'ERROR', waived: 'WAIVE' };
const COLOR: Record<CheckStatus, number> = { pass: 32, fail: 31, warn: 33, skip: 90, error: 35, waived: 36 };

export interface TtyOptions {
  color: boolean;
}

/** The evidence of one check as short lines, for terminals and test failure messages. */
export function evidenceLines(result: CheckResult): string[] {
  const e = result.evidence as Record<string, any>;
  const lines: string[] = [];
  const add = (label: string, value: unknown) => {
    if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) return;
    lines.push(`${label}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  };
  switch (result.id) {
    case 'non-root-user':
      add('USER', e.configured?.user);
      add('resolves to', e.configured?.resolvedUid !== undefined ? `uid ${e.configured.resolvedUid} gid ${e.configured.resolvedGid}${e.configured.passwdName ? ` (${e.configured.passwdName})` : ''}` : undefined);
      if (e.observed) add('observed', `PID 1 uid ${e.observed.pid1.uid}${e.observed.app ? `, app uid ${e.observed.app.uid}` : ''}`);
      for (const note of e.configured?.notes ?? []) add('note', note);
      break;
    case 'init-pid1':
      add('PID 1', e.pid1);
      if (e.processChain) add('chain', e.processChain.join('  →  '));
      break;
    case 'sigterm-shutdown':
      if (e.signal) add('stop', `${e.signal}, budget ${formatMs(e.budgetMs)}, ${e.killedAtBudget ? 'killed at budget' : `exited after ${formatMs(e.exitedAfterMs ?? 0)}`}, exit code ${e.exitCode}`);
      break;
    case 'healthcheck':
      add('test', e.configured?.test?.join(' '));
      if (e.timeline) add('timeline', e.timeline.map((t: { status: string; atMs: number }) => `${t.status} @ ${formatMs(t.atMs)}`).join(' → '));
      add('note', e.note);
      for (const probe of (e.probes ?? []).slice(-2)) add(`probe @ ${formatMs(probe.atMs)} exit ${probe.exitCode}`, telling(probe.output) || '(no output)');
      break;
    case 'no-dev-dependencies':
      add('dev-only set from', e.from);
      add('node_modules', e.nodeModules);
      for (const p of e.leaked ?? []) add('leaked', `${p.name}@${p.version ?? '?'}  ${formatBytes(p.sizeBytes)}  ${p.path}`);
      for (const note of e.notes ?? []) add('note', note);
      break;
    case 'size-budget':
      for (const layer of e.largestLayers ?? []) add('layer', `${layer.size.padStart(9)}  ${layer.createdBy.slice(0, 100)}`);
      break;
  }
  if (result.status !== 'pass' && Array.isArray(e.lastLogLines) && e.lastLogLines.length) {
    lines.push('last log lines:', ...e.lastLogLines.slice(-5).map((l: string) => `  ${l}`));
  } else if (result.status === 'error' && Array.isArray(e.logs) && e.logs.length) {
    lines.push('last log lines:', ...e.logs.slice(-5).map((l: string) => `  ${l}`));
  }
  return lines;
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
  }
  const s = report.summary;
  out.push('');
  out.push(`${report.checks.length} check${report.checks.length === 1 ? "" : "s"}: ${s.pass} pass, ${s.fail} fail, ${s.warn} warn, ${s.skip} skip, ${s.error} error${s.waived ? `, ${s.waived} waived` : ''} (audit took ${formatMs(report.durationMs)})`);
  return `${out.join('\n')}\n`;
}
