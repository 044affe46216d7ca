// One self-contained HTML file a person reads in a browser, or opens as a CI artifact: inline CSS and
// SVG, no script, nothing loaded from the network. Everything that came from the image or the app
// (log lines, file names, labels, instructions) goes through `text()` and is shown as text, never markup.
import { CHECKS } from '../checks/registry.js';
import type { GateReport } from '../gate/types.js';
import type { AuditReport, CheckResult, CheckStatus } from '../types.js';
import { formatBytes, formatMs } from '../units.js';
import { exitCodeFor } from './exit-code.js';
import { sanitizeForTerminal } from './sanitize.js';
import { docLink, evidenceLines } from './tty.js';

/** Longest quote of one piece of app output: a report is read, not scrolled through megabytes. */
const MAX_CHARS = 4000;

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Any value as HTML text (element content or a quoted attribute): escapes and control characters made visible. */
export function text(value: unknown): string {
  return sanitizeForTerminal(String(value ?? ''), MAX_CHARS).replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

const MARK: Record<CheckStatus, string> = { pass: 'PASS', fail: 'FAIL', warn: 'WARN', skip: 'SKIP', error: 'ERROR', waived: 'WAIVED' };
const EXIT_MEANING: Record<number, string> = {
  0: 'exit 0: every check passed (or was waived)',
  1: 'exit 1: at least one check failed',
  3: 'exit 3: at least one check could not run, so the image was not fully audited',
};

export const CSS = `
:root { --pass:#1a7f37; --fail:#cf222e; --warn:#9a6700; --skip:#6e7781; --error:#8250df; --waived:#0969da; --line:#d0d7de; --muted:#57606a; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color:#1f2328; margin: 0; background:#f6f8fa; }
main { max-width: 1180px; margin: 0 auto; padding: 24px; }
header.report { background:#fff; border:1px solid var(--line); border-radius:8px; padding:16px 20px; margin-bottom:16px; }
h1 { font-size: 22px; margin: 0 0 4px; word-break: break-all; }
h2 { font-size: 18px; margin: 24px 0 8px; }
h3 { font-size: 16px; margin: 0; display:flex; gap:10px; align-items:baseline; flex-wrap:wrap; }
.muted { color: var(--muted); }
.verdict { font-size: 17px; font-weight: 600; margin: 10px 0 4px; }
.verdict.ok { color: var(--pass); } .verdict.bad { color: var(--fail); } .verdict.err { color: var(--error); }
.counts span { margin-right: 14px; }
.badge { display:inline-block; min-width:64px; text-align:center; font: 700 12px/20px ui-monospace, "DejaVu Sans Mono", monospace; color:#fff; border-radius: 4px; padding: 0 6px; }
.s-pass { background: var(--pass); } .s-fail { background: var(--fail); } .s-warn { background: var(--warn); }
.s-skip { background: var(--skip); } .s-error { background: var(--error); } .s-waived { background: var(--waived); }
section.check { background:#fff; border:1px solid var(--line); border-left: 6px solid var(--skip); border-radius:8px; padding:12px 16px; margin: 10px 0; }
section.check.c-pass { border-left-color: var(--pass); } section.check.c-fail { border-left-color: var(--fail); }
section.check.c-warn { border-left-color: var(--warn); } section.check.c-error { border-left-color: var(--error); }
section.check.c-waived { border-left-color: var(--waived); }
.id { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-weight: 700; }
.message { margin: 6px 0; word-break: break-word; }
.fix { background:#fff8c5; border:1px solid #d4a72c66; border-radius:6px; padding:6px 10px; margin: 6px 0; word-break: break-word; }
.fix b { margin-right: 6px; }
pre { background:#f6f8fa; border:1px solid var(--line); border-radius:6px; padding:8px 10px; margin:6px 0; overflow-x:auto; font: 12.5px/1.45 ui-monospace, "DejaVu Sans Mono", monospace; white-space: pre-wrap; word-break: break-all; }
.where, .doc { font-size: 13px; color: var(--muted); margin: 4px 0; word-break: break-all; }
figure { background:#fff; border:1px solid var(--line); border-radius:8px; padding:12px; margin: 10px 0; }
figcaption { font-size: 13px; color: var(--muted); margin-top: 6px; }
svg { display:block; max-width:100%; height:auto; }
svg text { font: 12px system-ui, "DejaVu Sans", sans-serif; fill:#1f2328; }
svg .small { font-size: 11px; fill: var(--muted); }
table { border-collapse: collapse; background:#fff; width:100%; }
th, td { border:1px solid var(--line); padding:6px 10px; text-align:left; vertical-align: top; }
tr.regressed td { background:#ffebe9; font-weight:600; }
.columns { display:grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.columns > div { min-width: 0; }
ul.problems li { margin: 4px 0; }
footer { margin: 24px 0; font-size: 12px; color: var(--muted); }
`;

/** The self-contained page around a report's body (the fleet page adds its own CSS). */
export function page(title: string, body: string, toolVersion: string, extraCss = ''): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // No script, no network: the policy says so to the browser too.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${text(title)}</title>`,
    `<style>${CSS}${extraCss}</style>`,
    '</head>',
    '<body><main>',
    body,
    `<footer>image-audit ${text(toolVersion)} · a self-contained report: no script, nothing loaded from the network.</footer>`,
    '</main></body>',
    '</html>',
    '',
  ].join('\n');
}

function counts(report: AuditReport): string {
  const s = report.summary;
  const parts = (['pass', 'fail', 'warn', 'skip', 'error', 'waived'] as const)
    .filter((k) => s[k] > 0 || k === 'pass' || k === 'fail')
    .map((k) => `<span><span class="badge s-${k}">${MARK[k]}</span> ${s[k]}</span>`);
  return `<p class="counts">${parts.join('')}</p>`;
}

export function imageLine(report: AuditReport): string {
  const id = report.image.id.replace(/^sha256:/, '').slice(0, 12);
  const tags = report.image.tags.length ? ` (${report.image.tags.map(text).join(', ')})` : '';
  const source = report.source ? ` · built from ${text(report.source.contextDir)}/${text(report.source.dockerfile)}` : '';
  return `<p class="muted">image <code>${text(id)}</code>${tags} · ${text(formatBytes(report.image.sizeBytes))}${source} · audit took ${text(formatMs(report.durationMs))}</p>`;
}

export function checkSection(result: CheckResult): string {
  const out = [`<section class="check c-${result.status}" id="check-${text(result.id)}" data-check="${text(result.id)}" data-status="${result.status}">`];
  out.push(`<h3><span class="badge s-${result.status}">${MARK[result.status]}</span><span class="id">${text(result.id)}</span><span class="muted">${text(result.title)}</span></h3>`);
  out.push(`<p class="message">${text(result.message)}</p>`);
  if (result.hint) out.push(`<p class="fix"><b>Fix:</b>${text(result.hint)}</p>`);
  if (result.waiver) out.push(`<p class="where">waiver: ${text(result.waiver.reason)}${result.waiver.expires ? ` (until ${text(result.waiver.expires)})` : ''}${result.waiver.expired ? ', expired' : ''}</p>`);
  if (result.location && result.status !== 'pass' && result.status !== 'skip') {
    out.push(`<p class="where">at <code>${text(result.location.file)}:${result.location.line}</code>: <code>${text(result.location.instruction)}</code></p>`);
  }
  const lines = evidenceLines(result);
  if (lines.length) out.push(`<pre class="evidence">${lines.map(text).join('\n')}</pre>`);
  if (result.doc) {
    const uri = docLink(result.doc, 'uri');
    out.push(`<p class="doc">docs: <a href="${text(uri)}">${text(result.doc)}</a> (in the package: <code>${text(docLink(result.doc))}</code>)</p>`);
  }
  out.push('</section>');
  return out.join('\n');
}

// ---- lifecycle timeline -------------------------------------------------------------------------

type TimelineEvent = NonNullable<AuditReport['observed']>['timeline'][number];

/** Health probes any check recorded in its evidence (atMs + exitCode): drawn as ticks, found by shape, not by check id. */
function probesOf(report: AuditReport): Array<{ atMs: number; exitCode: number }> {
  const probes: Array<{ atMs: number; exitCode: number }> = [];
  for (const c of report.checks) {
    const list = (c.evidence as { probes?: unknown }).probes;
    if (!Array.isArray(list)) continue;
    for (const p of list) {
      if (p && typeof p === 'object' && typeof (p as { atMs?: unknown }).atMs === 'number' && typeof (p as { exitCode?: unknown }).exitCode === 'number') {
        probes.push({ atMs: (p as { atMs: number }).atMs, exitCode: (p as { exitCode: number }).exitCode });
      }
    }
  }
  return probes;
}

const EVENT_COLOR = (event: string): string => {
  if (event === 'health:healthy') return 'var(--pass)';
  if (event === 'health:unhealthy' || event === 'killed' || event === 'budget-passed' || event === 'start-failed' || event === 'health:deadline') return 'var(--fail)';
  if (event === 'signal' || event === 'signal-refused') return '#0969da';
  if (event === 'exited') return '#1f2328';
  return '#6e7781';
};

/** The container's life to scale: events on an axis, health phases as bands, the shutdown budget drawn after the signal. */
export function timelineSvg(report: AuditReport, width = 1100): string {
  const timeline: TimelineEvent[] = report.observed?.timeline ?? [];
  if (!timeline.length) return '<p class="muted timeline-none">No lifecycle was observed (no check ran the container).</p>';
  const budgetMs = report.observed?.limits.shutdownBudgetMs;
  const signal = timeline.find((e) => e.event === 'signal');
  const probes = probesOf(report);
  const endMs = Math.max(
    1000,
    ...timeline.map((e) => e.atMs),
    ...probes.map((p) => p.atMs),
    signal && budgetMs ? signal.atMs + budgetMs : 0,
  );
  const left = 20;
  const right = 20;
  const plot = width - left - right;
  const x = (ms: number) => left + (Math.max(0, ms) / endMs) * plot;
  const axisY = 70;
  const rows = 6;
  const rowHeight = 18;
  const out: string[] = [];

  // Health phases: starting (amber) until the first healthy / unhealthy transition, then that state.
  const health = timeline.filter((e) => e.event.startsWith('health:') && e.event !== 'health:deadline');
  const stopAt = signal?.atMs ?? timeline[timeline.length - 1].atMs;
  const phaseColor: Record<string, string> = { 'health:starting': '#d4a72c', 'health:healthy': '#1a7f37', 'health:unhealthy': '#cf222e' };
  // The daemon reports no transition into "starting": it is the time from the start to the first one.
  const started = timeline.find((e) => e.event === 'started');
  if (started && health.length && health[0].event !== 'health:starting') health.unshift({ atMs: started.atMs, event: 'health:starting' });
  health.forEach((e, i) => {
    const until = Math.min(health[i + 1]?.atMs ?? stopAt, stopAt);
    if (until <= e.atMs) return;
    out.push(`<rect class="phase" x="${x(e.atMs).toFixed(1)}" y="${axisY - 14}" width="${(x(until) - x(e.atMs)).toFixed(1)}" height="10" fill="${phaseColor[e.event] ?? '#8c959f'}" opacity="0.55"><title>${text(e.event)} from ${text(formatMs(e.atMs))}</title></rect>`);
  });

  // The shutdown budget: from the signal, as long as the budget; the exit should land inside it.
  if (signal && budgetMs) {
    out.push(`<rect class="budget" x="${x(signal.atMs).toFixed(1)}" y="${axisY - 30}" width="${(x(signal.atMs + budgetMs) - x(signal.atMs)).toFixed(1)}" height="36" fill="#0969da" fill-opacity="0.08" stroke="#0969da" stroke-dasharray="5 3"><title>shutdown budget ${text(formatMs(budgetMs))}</title></rect>`);
    out.push(`<text class="small" x="${(x(signal.atMs) + 4).toFixed(1)}" y="${axisY - 34}">shutdown budget ${text(formatMs(budgetMs))}</text>`);
  }

  out.push(`<line x1="${left}" y1="${axisY}" x2="${width - right}" y2="${axisY}" stroke="#1f2328"/>`);
  const step = niceStep(endMs / 8);
  for (let t = 0; t <= endMs; t += step) {
    out.push(`<line x1="${x(t).toFixed(1)}" y1="${axisY}" x2="${x(t).toFixed(1)}" y2="${axisY + 5}" stroke="#1f2328"/>`);
    out.push(`<text class="small" x="${x(t).toFixed(1)}" y="${axisY + 17}" text-anchor="middle">${text(formatMs(t))}</text>`);
  }

  for (const p of probes) {
    out.push(`<line class="probe" x1="${x(p.atMs).toFixed(1)}" y1="${axisY - 22}" x2="${x(p.atMs).toFixed(1)}" y2="${axisY - 16}" stroke="${p.exitCode === 0 ? '#1a7f37' : '#cf222e'}" stroke-width="2"><title>health probe at ${text(formatMs(p.atMs))}: exit ${p.exitCode}</title></line>`);
  }

  // Labels in rows under the axis, each event on the first row where it does not overlap the previous label.
  const rowEnds: number[] = new Array(rows).fill(-Infinity);
  let usedRows = 1;
  for (const e of timeline) {
    const cx = x(e.atMs);
    const label = `${e.event} ${formatMs(e.atMs)}`;
    const labelWidth = label.length * 6.6 + 10;
    const anchorEnd = cx + labelWidth > width - right;
    const start = anchorEnd ? cx - labelWidth : cx;
    let row = rowEnds.findIndex((end) => end < start);
    if (row < 0) row = rowEnds.indexOf(Math.min(...rowEnds));
    rowEnds[row] = anchorEnd ? cx + 4 : cx + labelWidth;
    usedRows = Math.max(usedRows, row + 1);
    const y = axisY + 36 + row * rowHeight;
    const color = EVENT_COLOR(e.event);
    out.push(
      `<g class="event" data-event="${text(e.event)}"><title>${text(e.event)} at ${text(formatMs(e.atMs))}${e.detail ? `: ${text(e.detail)}` : ''}</title>` +
        `<line x1="${cx.toFixed(1)}" y1="${axisY - 6}" x2="${cx.toFixed(1)}" y2="${y - 10}" stroke="${color}" stroke-opacity="0.5"/>` +
        `<circle cx="${cx.toFixed(1)}" cy="${axisY}" r="4.5" fill="${color}"/>` +
        `<text x="${cx.toFixed(1)}" y="${y}" text-anchor="${anchorEnd ? 'end' : 'start'}" fill="${color}">${text(label)}</text></g>`,
    );
  }
  const height = axisY + 36 + (usedRows - 1) * rowHeight + 12;
  out.unshift(`<svg class="timeline" role="img" aria-label="lifecycle timeline" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`);
  out.push('</svg>');
  return out.join('\n');
}

/** A round axis step (1, 2 or 5 × 10ⁿ ms) near `rough`. */
function niceStep(rough: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(rough, 1)));
  const unit = [1, 2, 5, 10].find((m) => m * power >= rough) ?? 10;
  return unit * power;
}

// ---- layer chart ---------------------------------------------------------------------------------

/** The layers oldest first as a waterfall (each bar starts where the previous ones end), the size budget as a line. */
export function layerSvg(report: AuditReport, width = 1100): string {
  const layers = [...(report.observed?.layers ?? [])].reverse();
  if (!layers.length) return '<p class="muted layers-none">No layer history was read.</p>';
  const budget = report.observed?.limits.sizeBudgetBytes ?? 0;
  const shown = layers.filter((l) => l.sizeBytes > 0);
  const empty = layers.length - shown.length;
  const total = layers.reduce((sum, l) => sum + l.sizeBytes, 0);
  const scaleMax = Math.max(total, budget, 1) * 1.04;
  const labelWidth = Math.round(width * 0.39);
  const maxChars = Math.floor(labelWidth / 6.6);
  const left = labelWidth + 10;
  const plot = width - left - 70;
  const x = (bytes: number) => left + (bytes / scaleMax) * plot;
  const rowHeight = 22;
  const top = 32;
  const height = top + shown.length * rowHeight + 30;
  const out: string[] = [`<svg class="layers" role="img" aria-label="layer sizes" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`];
  let before = 0;
  let cumulative = 0;
  for (const l of layers) {
    if (l.sizeBytes === 0) continue;
    const y = top + before * rowHeight;
    const instruction = l.createdBy.replace(/\s+/g, ' ').replace(/^(RUN )?\/bin\/sh -c (#\(nop\) )?/, '$1').replace(/ # buildkit$/, '').trim() || '(base layer: no instruction recorded)';
    // The part of a bar past the budget is red, the rest blue.
    const end = cumulative + l.sizeBytes;
    const split = budget > 0 ? Math.min(Math.max(budget, cumulative), end) : end;
    const bar = (from: number, to: number, fill: string) =>
      to > from ? `<rect x="${x(from).toFixed(1)}" y="${y + 3}" width="${Math.max(1.5, x(to) - x(from)).toFixed(1)}" height="${rowHeight - 6}" fill="${fill}" fill-opacity="0.75"/>` : '';
    const short = instruction.length > maxChars ? `${instruction.slice(0, maxChars - 1)}…` : instruction;
    out.push(
      `<g class="layer"><title>${text(formatBytes(l.sizeBytes))}: ${text(instruction)}</title>` +
        `<text x="${labelWidth}" y="${y + 15}" text-anchor="end">${text(short)}</text>` +
        bar(cumulative, split, '#0969da') +
        bar(split, end, '#cf222e') +
        `<text class="small" x="${(x(cumulative + l.sizeBytes) + 4).toFixed(1)}" y="${y + 15}">${text(formatBytes(l.sizeBytes))}</text></g>`,
    );
    cumulative += l.sizeBytes;
    before++;
  }
  const bottom = top + shown.length * rowHeight;
  out.push(`<line x1="${left}" y1="${bottom + 2}" x2="${x(scaleMax).toFixed(1)}" y2="${bottom + 2}" stroke="#1f2328"/>`);
  out.push(`<text class="small" x="${left}" y="${bottom + 18}">0</text>`);
  out.push(`<text class="small" x="${x(total).toFixed(1)}" y="${bottom + 18}" text-anchor="middle">${text(formatBytes(total))}</text>`);
  if (budget > 0) {
    out.push(`<line class="budget" x1="${x(budget).toFixed(1)}" y1="${top - 12}" x2="${x(budget).toFixed(1)}" y2="${bottom + 4}" stroke="#cf222e" stroke-width="2" stroke-dasharray="6 3"/>`);
    out.push(`<text x="${x(budget).toFixed(1)}" y="${top - 18}" text-anchor="${x(budget) > width - 120 ? 'end' : 'middle'}" fill="#cf222e">budget ${text(formatBytes(budget))}</text>`);
  }
  out.push('</svg>');
  if (empty) out.push(`<p class="muted where">${empty} more layer${empty === 1 ? '' : 's'} of 0 B (metadata: ENV, CMD, USER, …) not drawn.</p>`);
  return out.join('\n');
}

// ---- pages ---------------------------------------------------------------------------------------

function figures(report: AuditReport, width = 1100): string {
  const limits = report.observed?.limits;
  const limitsNote = limits
    ? `memory ${limits.memoryBytes ? formatBytes(limits.memoryBytes) : 'unlimited'}, pids ${limits.pidsLimit || 'unlimited'}, network ${limits.network}, health timeout ${formatMs(limits.healthTimeoutMs)}`
    : '';
  return [
    '<figure class="timeline-figure">',
    timelineSvg(report, width),
    `<figcaption>Lifecycle of the audited container, to scale from its start: health phases (amber starting, green healthy, red unhealthy), probe ticks, the stop signal and the shutdown budget (dashed).${limitsNote ? ` Limits: ${text(limitsNote)}.` : ''}</figcaption>`,
    '</figure>',
    '<figure class="layers-figure">',
    layerSvg(report, width),
    '<figcaption>Image layers, oldest first, each bar starting where the previous ones end; red past the size budget (dashed line).</figcaption>',
    '</figure>',
  ].join('\n');
}

export function renderHtml(report: AuditReport, toolVersion: string): string {
  const code = exitCodeFor(report);
  const body = [
    '<header class="report">',
    `<h1>image-audit ${text(report.target)}</h1>`,
    imageLine(report),
    `<p class="verdict ${code === 0 ? 'ok' : code === 1 ? 'bad' : 'err'}">${code === 0 ? 'Production-ready by every check run' : code === 1 ? 'Not production-ready' : 'Not fully audited'} — ${text(EXIT_MEANING[code])}</p>`,
    counts(report),
    '</header>',
    '<h2>Lifecycle and layers</h2>',
    figures(report),
    '<h2>Checks</h2>',
    ...report.checks.map(checkSection),
  ].join('\n');
  return page(`image-audit ${report.target}`, body, toolVersion);
}

// ---- gate ------------------------------------------------------------------------------------------

export function renderGateHtml(gate: GateReport, toolVersion: string): string {
  const c = gate.candidate;
  const b = gate.baseline?.report;
  const regressedChecks = new Set(gate.regressions.map((r) => r.checkId).filter(Boolean));
  const regressedKinds = new Set(gate.regressions.map((r) => r.kind));
  const ship = gate.verdict === 'ship';
  const rows: string[] = [];
  const ids = [...new Set([...c.checks.map((x) => x.id), ...(b?.checks.map((x) => x.id) ?? [])])];
  const cell = (r: CheckResult | undefined) => (r ? `<span class="badge s-${r.status}">${MARK[r.status]}</span> ${text(r.message)}` : '<span class="muted">not run</span>');
  for (const id of ids) {
    const before = b?.checks.find((x) => x.id === id);
    const after = c.checks.find((x) => x.id === id);
    rows.push(`<tr class="${regressedChecks.has(id) ? 'regressed' : ''}" data-check="${text(id)}"><td class="id">${text(id)}</td><td>${b ? cell(before) : ''}</td><td>${cell(after)}</td></tr>`);
  }
  // Size, then every metric the checks declare: the gate's numbers, regressions highlighted.
  const metricRows: Array<{ key: string; label: string; before?: string; after?: string }> = [
    { key: 'size', label: 'image size', before: gate.metrics.baseline && formatBytes(gate.metrics.baseline.sizeBytes), after: formatBytes(gate.metrics.candidate.sizeBytes) },
  ];
  for (const metric of CHECKS.flatMap((check) => check.metrics ?? [])) {
    const fmt = (v: number | undefined) => (v === undefined ? '-' : metric.unit === 'ms' ? formatMs(v) : formatBytes(v));
    metricRows.push({ key: metric.key, label: metric.label, before: gate.metrics.baseline && fmt(gate.metrics.baseline.byKey[metric.key]), after: fmt(gate.metrics.candidate.byKey[metric.key]) });
  }
  for (const m of metricRows) {
    rows.push(`<tr class="${regressedKinds.has(m.key as never) ? 'regressed' : ''}" data-metric="${text(m.key)}"><td>${text(m.label)}</td><td>${text(m.before ?? '')}</td><td>${text(m.after ?? '')}</td></tr>`);
  }
  const problems = [
    ...gate.regressions.map((r) => `<li class="regression"><b>regression:</b> ${text(r.message)}</li>`),
    ...gate.failures.map((f) => `<li class="failure"><b>failing:</b> <span class="id">${text(f.id)}</span> ${text(f.message)}</li>`),
  ];
  // A confirmed timing is said by its regression already; the dismissed ones are said here.
  const noise = (gate.remeasured ?? []).filter((m) => !m.confirmed);
  const body = [
    '<header class="report">',
    `<h1>image-audit gate ${text(c.target)}</h1>`,
    gate.baseline
      ? `<p class="muted">against ${text(gate.baseline.ref)} (${gate.baseline.how === 'auto' ? 'the previous release' : 'the given baseline'}) · gate took ${text(formatMs(gate.durationMs))}</p>`
      : `<p class="muted">${text(gate.baselineNote ?? 'no baseline')}</p>`,
    `<p class="verdict ${ship ? 'ok' : 'bad'}">${ship ? 'SHIP — exit 0: no regression, no failing check' : `DO NOT SHIP — exit 1: ${problems.length} problem${problems.length === 1 ? '' : 's'}`}${c.summary.error ? ' (exit 3: the candidate could not be fully audited)' : ''}</p>`,
    problems.length ? `<ul class="problems">${problems.join('')}</ul>` : '',
    noise.length ? `<ul class="remeasured">${noise.map((m) => `<li><b>measured again:</b> ${text(m.note)}</li>`).join('')}</ul>` : '',
    '</header>',
    '<h2>Baseline and candidate</h2>',
    `<table class="gate"><thead><tr><th></th><th>baseline${gate.baseline ? ` ${text(gate.baseline.ref)}` : ''}</th><th>candidate ${text(c.target)}</th></tr></thead><tbody>`,
    ...rows,
    '</tbody></table>',
    '<div class="columns">',
    `<div><h2>Baseline</h2>${b ? figures(b, 540) : '<p class="muted">no baseline</p>'}</div>`,
    `<div><h2>Candidate</h2>${figures(c, 540)}</div>`,
    '</div>',
    '<h2>Candidate checks</h2>',
    ...c.checks.map(checkSection),
  ].join('\n');
  return page(`image-audit gate ${c.target}`, body, toolVersion);
}
