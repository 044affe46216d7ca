// The gated fleet (`fleet --gate`) in every format, computed from the gated fleet report alone: a
// verdict per target (SHIP, DO NOT SHIP, COULD NOT GATE, with its regressions and failing checks) and
// one for the fleet. Each target's own gate report renders as the single gate does; this file only
// lays the targets side by side. It reads the gate's data (types only) and decides nothing.
import type { GatedFleetReport, GatedTarget, GateVerdict } from '../fleet/gate.js';
import type { GateReport } from '../gate/types.js';
import { formatMs } from '../units.js';
import { renderFleetSarif } from './fleet-ci.js';
import { page, text } from './html.js';
import { gateJunitSuites, renderJunit, type JunitPlainSuite, type JunitSuite } from './junit.js';
import { inline } from './markdown.js';
import type { Format } from './render.js';
import { sanitizeForTerminal } from './sanitize.js';

const WORDS: Record<GateVerdict, string> = { ship: 'SHIP', 'do-not-ship': 'DO NOT SHIP', 'could-not-gate': 'COULD NOT GATE' };
const COLOR: Record<GateVerdict, number> = { ship: 32, 'do-not-ship': 31, 'could-not-gate': 35 };
const ICON: Record<GateVerdict, string> = { ship: '✅', 'do-not-ship': '❌', 'could-not-gate': '💥' };
const CLASS: Record<GateVerdict, string> = { ship: 'pass', 'do-not-ship': 'fail', 'could-not-gate': 'error' };
const FLEET_MEANING: Record<GateVerdict, string> = {
  ship: 'exit 0: every target may ship',
  'do-not-ship': 'exit 1: at least one target may not ship',
  'could-not-gate': 'exit 3: at least one target could not be gated',
};

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const REGRESSION_NAMES = { size: 'image size growth', shutdown: 'shutdown time growth', healthy: 'time-to-healthy growth' } as const;

/** The baseline a target was gated against, in a few words. */
function baselineOf(t: GatedTarget): string {
  if (!t.gate) return '';
  return t.gate.baseline ? `${t.gate.baseline.ref}${t.gate.baseline.how === 'auto' ? ' (previous release)' : ''}` : (t.gate.baselineNote ?? 'no baseline');
}

/** Why a target may not ship (or could not be gated), in one line: "1 regression: image size growth; 1 failing: healthcheck". */
export function gateOutcome(t: GatedTarget): string {
  if (!t.gate) return `could not gate: ${t.error?.message ?? 'no report'}`;
  const g = t.gate;
  const parts: string[] = [];
  const errored = g.candidate.checks.filter((c) => c.status === 'error').map((c) => c.id);
  if (errored.length) parts.push(`${plural(errored.length, 'check')} of the candidate could not run: ${errored.join(', ')}`);
  if (g.regressions.length) parts.push(`${plural(g.regressions.length, 'regression')}: ${g.regressions.map((r) => (r.kind === 'check' ? `${r.checkId} regressed` : REGRESSION_NAMES[r.kind])).join(', ')}`);
  if (g.failures.length) parts.push(`${g.failures.length} failing: ${g.failures.map((f) => f.id).join(', ')}`);
  return parts.join('; ') || 'no regression, no failing check';
}

/** Everything a reader acts on for one target, as plain lines: regressions, failures, dismissed noise, waivers, or why it was not gated. */
function problemLines(t: GatedTarget): string[] {
  if (!t.gate) return [`could not gate: ${t.error?.message ?? 'no report'}`, ...(t.error?.detail ?? []).map((d) => `  ${d}`), ...(t.attempts ?? []).map((a) => `earlier on ${a.engine}: ${a.error}`)];
  const g: GateReport = t.gate;
  return [
    ...g.regressions.map((r) => `regression: ${r.message}`),
    ...g.failures.map((f) => `failure: ${f.id}: ${f.message}`),
    ...g.candidate.checks.filter((c) => c.status === 'error').map((c) => `could not run: ${c.id}: ${c.message}`),
    ...(g.remeasured ?? []).filter((m) => !m.confirmed).map((m) => `measured again: ${m.note}`),
    ...g.candidate.checks.filter((c) => c.status === 'waived').map((c) => `waived: ${c.id}: ${c.message}`),
  ];
}

// ---- terminal ------------------------------------------------------------------------------------

/** The line printed as a target's gate ends: "[2/3] DO NOT SHIP    myorg/api:1.1.0  vs myorg/api:1.0.1  on default  40.2 s  1 regression: image size growth". */
export function gatedProgressLine(t: GatedTarget, done: number, total: number, options: { color: boolean }): string {
  const paint = (s: string) => (options.color ? `\x1b[${COLOR[t.verdict]}m${s}\x1b[0m` : s);
  const width = String(total).length;
  const against = t.gate?.baseline ? `  vs ${sanitizeForTerminal(t.gate.baseline.ref, 120)}` : '';
  const took = t.gate ? `  ${formatMs(t.gate.durationMs)}` : '';
  return `[${String(done).padStart(width)}/${total}] ${paint(WORDS[t.verdict].padEnd(14))} ${sanitizeForTerminal(t.name, 120)}${against}  on ${sanitizeForTerminal(t.engine, 80)}${took}  ${sanitizeForTerminal(gateOutcome(t), 400)}\n`;
}

function renderTty(report: GatedFleetReport, options: { color: boolean }): string {
  const paint = (code: number, s: string) => (options.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const names = report.targets.map((t) => sanitizeForTerminal(t.name, 60));
  const baselines = report.targets.map((t) => sanitizeForTerminal(baselineOf(t), 60));
  const nameWidth = Math.max(6, ...names.map((n) => n.length));
  const baselineWidth = Math.max(8, ...baselines.map((b) => b.length));
  const out = [`image-audit fleet --gate: ${plural(report.targets.length, 'target')}`, ''];
  out.push(`${'verdict'.padEnd(14)} ${'target'.padEnd(nameWidth)}  ${'baseline'.padEnd(baselineWidth)}  outcome`);
  report.targets.forEach((t, i) => {
    out.push(`${paint(COLOR[t.verdict], WORDS[t.verdict].padEnd(14))} ${names[i].padEnd(nameWidth)}  ${baselines[i].padEnd(baselineWidth)}  ${sanitizeForTerminal(gateOutcome(t), 300)}`);
  });
  const acted = report.targets.filter((t) => problemLines(t).length);
  if (acted.length) out.push('');
  for (const t of acted) {
    out.push(`${sanitizeForTerminal(t.name, 120)} (on ${sanitizeForTerminal(t.engine, 80)}):`);
    for (const line of problemLines(t)) out.push(`  ${sanitizeForTerminal(line, 1000)}`);
  }
  const s = report.summary;
  out.push('');
  out.push(`${plural(s.targets, 'target')}: ${s.ship} ship, ${s.doNotShip} do not ship, ${s.couldNotGate} could not gate · engines: ${Object.entries(s.engines).map(([e, n]) => `${sanitizeForTerminal(e, 80)} ${n}`).join(', ')}`);
  out.push(paint(COLOR[s.verdict], `fleet verdict: ${WORDS[s.verdict]} (${FLEET_MEANING[s.verdict]})`));
  return `${out.join('\n')}\n`;
}

// ---- Markdown ------------------------------------------------------------------------------------

/** GitHub's step summary holds 1 MiB: past this many targets that may not ship, details are left to the other reports. */
const MAX_DETAILED_TARGETS = 100;

function renderMarkdown(report: GatedFleetReport): string {
  const s = report.summary;
  const out = [
    `## ${ICON[s.verdict]} image-audit fleet --gate: ${WORDS[s.verdict].toLowerCase()}`,
    '',
    `${FLEET_MEANING[s.verdict]} · ${plural(s.targets, 'target')}: ${s.ship} ship, ${s.doNotShip} do not ship, ${s.couldNotGate} could not gate · engines: ${Object.entries(s.engines).map(([e, n]) => `${inline(e)} ${n}`).join(', ')}`,
    '',
    '| target | baseline | verdict | outcome |',
    '| --- | --- | --- | --- |',
    ...report.targets.map((t) => `| ${inline(t.name)} | ${inline(baselineOf(t))} | ${ICON[t.verdict]} ${WORDS[t.verdict].toLowerCase()} | ${inline(gateOutcome(t))} |`),
    '',
  ];
  const acted = report.targets.filter((t) => t.verdict !== 'ship' && problemLines(t).length);
  for (const t of acted.slice(0, MAX_DETAILED_TARGETS)) {
    out.push(`<details><summary>${ICON[t.verdict]} ${inline(t.name)}: ${inline(gateOutcome(t))}</summary>`, '');
    for (const line of problemLines(t)) out.push(`- ${inline(line)}`);
    out.push('', '</details>', '');
  }
  if (acted.length > MAX_DETAILED_TARGETS) out.push(`… and ${acted.length - MAX_DETAILED_TARGETS} more targets that may not ship: see the JSON or HTML report.`, '');
  return `${out.join('\n').trimEnd()}\n`;
}

// ---- JUnit and SARIF -----------------------------------------------------------------------------

/** Per target its gate's suites (candidate, baseline, regressions), named after the target; a target not gated is one <error> case. */
function renderGatedJunit(report: GatedFleetReport): string {
  const suites: JunitSuite[] = [];
  const plain: JunitPlainSuite[] = [];
  for (const t of report.targets) {
    if (t.gate) {
      const own = gateJunitSuites(t.gate, `${t.name}: `);
      suites.push(...own.suites);
      plain.push(...own.plain);
    } else {
      const detail = [...(t.error?.detail ?? []), ...(t.attempts ?? []).map((a) => `earlier on ${a.engine}: ${a.error}`)];
      plain.push({ name: t.name, cases: [{ name: `could not gate (engine ${t.engine})`, error: t.error?.message ?? 'could not gate', detail }] });
    }
  }
  return renderJunit(suites, plain);
}

/** One run per target, of its candidate (as the single gate's SARIF is the candidate's); a target not gated is a run whose invocation failed. */
function renderGatedSarif(report: GatedFleetReport, toolVersion: string): string {
  const targets = report.targets.map((t) => ({ target: t.target, name: t.name, engine: t.engine, exitCode: t.exitCode, report: t.gate?.candidate ?? null, ...(t.error && { error: t.error }) }));
  return renderFleetSarif({ targets }, toolVersion);
}

// ---- HTML ----------------------------------------------------------------------------------------

const GATE_CSS = `
.gated td.verdict { white-space:nowrap; }
.gated ul { margin:0; padding-left:18px; }
.gated li { word-break: break-word; }
.badge.s-pass, .badge.s-fail, .badge.s-error { min-width: 120px; }
`;

function renderHtml(report: GatedFleetReport, toolVersion: string): string {
  const s = report.summary;
  const rows = report.targets.map((t) => {
    const lines = problemLines(t);
    return [
      `<tr data-target="${text(t.name)}" data-verdict="${t.verdict}">`,
      `<td class="verdict"><span class="badge s-${CLASS[t.verdict]}">${WORDS[t.verdict]}</span></td>`,
      `<td class="id">${text(t.name)}<div class="muted">${text(t.target)}</div></td>`,
      `<td>${text(baselineOf(t))}</td>`,
      `<td>${text(t.engine)}${t.gate ? `<div class="muted">${text(formatMs(t.gate.durationMs))}</div>` : ''}</td>`,
      `<td>${lines.length ? `<ul>${lines.map((l) => `<li>${text(l)}</li>`).join('')}</ul>` : text(gateOutcome(t))}</td>`,
      '</tr>',
    ].join('');
  });
  const body = [
    '<header class="report">',
    `<h1>image-audit fleet --gate: ${plural(s.targets, 'target')}</h1>`,
    `<p class="verdict ${s.verdict === 'ship' ? 'ok' : s.verdict === 'do-not-ship' ? 'bad' : 'err'}">${WORDS[s.verdict]} — ${text(FLEET_MEANING[s.verdict])}</p>`,
    `<p class="counts"><span><span class="badge s-pass">SHIP</span> ${s.ship}</span><span><span class="badge s-fail">DO NOT SHIP</span> ${s.doNotShip}</span><span><span class="badge s-error">COULD NOT GATE</span> ${s.couldNotGate}</span></p>`,
    `<p class="muted">engines: ${Object.entries(s.engines).map(([e, n]) => `${text(e)} ${n}`).join(', ')} · each target's own gate report: <code>image-audit gate TARGET --baseline …</code>, or this fleet's JSON</p>`,
    '</header>',
    '<table class="gated"><thead><tr><th>verdict</th><th>target</th><th>baseline</th><th>engine</th><th>regressions, failures</th></tr></thead><tbody>',
    ...rows,
    '</tbody></table>',
  ].join('\n');
  return page(`image-audit fleet --gate: ${s.targets} targets`, body, toolVersion, GATE_CSS);
}

export function renderGatedFleet(format: Format, report: GatedFleetReport, opts: { color: boolean; toolVersion: string }): string {
  switch (format) {
    case 'tty':
      return renderTty(report, opts);
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'junit':
      return renderGatedJunit(report);
    case 'sarif':
      return renderGatedSarif(report, opts.toolVersion);
    case 'html':
      return renderHtml(report, opts.toolVersion);
    case 'markdown':
      return renderMarkdown(report);
  }
}
