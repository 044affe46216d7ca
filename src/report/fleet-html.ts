// The fleet as one self-contained HTML page: a targets × checks matrix, each cell opening that target's
// findings, sortable and filterable by status — with no script, under the single report's policy
// (`default-src 'none'`). Filtering is CSS: radio buttons, and `:has()` hides the rows that do not
// match the one checked. Sorting is CSS too: the rows are flex items, each carrying its rank in every
// order as a custom property set at render time (`--by-status: 12`), and the checked order sets
// `order: var(--by-…)`. A target's findings are hidden until a link targets them (`:target`), so 300
// targets stay one screen of matrix. Browsers without `:has()` (before Chromium 105, Firefox 121,
// Safari 15.4) show every row in name order and the findings all the same. Rows and findings are
// `content-visibility: auto`: the browser lays out only those on screen (300 rows: about half the
// time to a laid-out page, docs/bench.md); a browser without it lays out every row, as before.
import type { FleetReport, FleetTarget } from '../fleet/report.js';
import type { CheckStatus } from '../types.js';
import { formatBytes, formatMs } from '../units.js';
import { fleetCheckIds, targetOutcome } from './fleet-tty.js';
import { checkSection, imageLine, page, text } from './html.js';

const MARK: Record<CheckStatus, string> = { pass: '✓', fail: '✗', warn: '!', skip: '–', error: 'E', waived: 'W' };
const VERDICTS = ['error', 'fail', 'warn', 'pass'] as const;
type Verdict = (typeof VERDICTS)[number];

/** A target's place in the status order: could not audit, failed, warned, passed. */
function verdictOf(t: FleetTarget): Verdict {
  if (!t.report || (t.exitCode !== 0 && t.exitCode !== 1)) return 'error';
  if (t.exitCode === 1) return 'fail';
  return t.report.checks.some((c) => c.status === 'warn') ? 'warn' : 'pass';
}
const VERDICT_LABEL: Record<Verdict, string> = { error: 'could not audit', fail: 'failed', warn: 'passed, warnings', pass: 'passed' };
const VERDICT_BADGE: Record<Verdict, string> = { error: 'ERROR', fail: 'FAIL', warn: 'WARN', pass: 'PASS' };

const FLEET_CSS = `
.controls { display:flex; flex-wrap:wrap; gap:6px 18px; align-items:center; background:#fff; border:1px solid var(--line); border-radius:8px; padding:10px 14px; margin-bottom:12px; }
.controls fieldset { border:0; margin:0; padding:0; display:flex; gap:4px; align-items:center; flex-wrap:wrap; }
.controls legend { float:left; margin-right:6px; font-weight:600; font-size:13px; }
.controls input { position:absolute; opacity:0; width:1px; height:1px; }
.controls label { font-size:13px; border:1px solid var(--line); border-radius:14px; padding:2px 10px; cursor:pointer; background:#f6f8fa; }
.controls input:checked + label { background:#0969da; color:#fff; border-color:#0969da; }
.controls input:focus-visible + label { outline:2px solid #0969da; outline-offset:2px; }
.matrix { display:flex; flex-direction:column; background:#fff; border:1px solid var(--line); border-radius:8px; overflow-x:auto; }
.row { display:grid; grid-template-columns: minmax(220px, 2.5fr) minmax(90px, 1fr) 74px repeat(var(--checks), 30px) minmax(160px, 2fr); align-items:center; border-top:1px solid var(--line); min-width: max-content; }
.row > * { padding:3px 6px; overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
.row.target, .findings { content-visibility: auto; contain-intrinsic-block-size: auto 29px; }
.findings { contain-intrinsic-block-size: auto 240px; }
.row.head { order:-1 !important; border-top:0; background:#f6f8fa; font-size:12px; font-weight:600; position:sticky; top:0; z-index:1; }
.row.head .ck { writing-mode: vertical-rl; transform: rotate(180deg); white-space:nowrap; height:150px; font-size:11px; padding:4px 0; text-align:left; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-weight:500; }
.row .name a { color:#1f2328; font-weight:600; text-decoration:none; }
.row .name a:hover { text-decoration:underline; }
.row .engine, .row .outcome { font-size:12px; color:var(--muted); }
.cell { display:block; text-align:center; font: 700 13px/22px ui-monospace, "DejaVu Sans Mono", monospace; color:#fff; border-radius:3px; margin:1px 2px; text-decoration:none; padding:0 !important; }
.cell.s-none { background:transparent; color:var(--muted); }
.row { order: var(--by-name); }
body:has(#sort-status:checked) .row { order: var(--by-status); }
body:has(#sort-time:checked) .row { order: var(--by-time); }
body:has(#sort-size:checked) .row { order: var(--by-size); }
body:has(#sort-engine:checked) .row { order: var(--by-engine); }
body:has(#show-error:checked) .row.target:not([data-verdict="error"]),
body:has(#show-fail:checked) .row.target:not([data-verdict="fail"]),
body:has(#show-warn:checked) .row.target:not([data-has-warn]),
body:has(#show-pass:checked) .row.target:not([data-verdict="pass"]) { display:none; }
.findings { display:none; background:#fff; border:1px solid var(--line); border-radius:8px; padding:12px 16px; margin:14px 0; }
.findings:target, .findings:has(:target), body:has(#show-findings:checked) .findings { display:block; }
.findings h2 { margin-top:0; word-break:break-all; }
.findings .passed { font-size:13px; color:var(--muted); }
.anchor { scroll-margin-top: 10px; }
`;


/** Rank of each target (by index) in an order given by `compare`. */
function ranks(targets: FleetTarget[], compare: (a: FleetTarget, b: FleetTarget) => number): number[] {
  const order = targets.map((_, i) => i).sort((a, b) => compare(targets[a], targets[b]) || a - b);
  const rank = new Array<number>(targets.length);
  order.forEach((index, position) => (rank[index] = position));
  return rank;
}

function controls(): string {
  const radio = (name: string, id: string, label: string, checked = false) =>
    `<input type="radio" name="${name}" id="${id}"${checked ? ' checked' : ''}><label for="${id}">${text(label)}</label>`;
  return [
    '<nav class="controls">',
    '<fieldset><legend>Show</legend>',
    radio('show', 'show-all', 'all', true),
    radio('show', 'show-error', 'could not audit'),
    radio('show', 'show-fail', 'failed'),
    radio('show', 'show-warn', 'with warnings'),
    radio('show', 'show-pass', 'passed'),
    '</fieldset>',
    '<fieldset><legend>Sort by</legend>',
    radio('sort', 'sort-name', 'name', true),
    radio('sort', 'sort-status', 'status'),
    radio('sort', 'sort-time', 'audit time'),
    radio('sort', 'sort-size', 'image size'),
    radio('sort', 'sort-engine', 'engine'),
    '</fieldset>',
    '<fieldset><input type="checkbox" id="show-findings"><label for="show-findings">expand every target\'s findings</label></fieldset>',
    '</nav>',
  ].join('\n');
}

function findings(t: FleetTarget, index: number, ids: string[]): string {
  const out = [`<section class="findings" id="t${index}">`, `<h2><span class="badge s-${verdictOf(t) === 'warn' ? 'warn' : verdictOf(t)}">${VERDICT_BADGE[verdictOf(t)]}</span> ${text(t.name)}</h2>`];
  out.push(`<p class="muted">target ${text(t.target)} · engine ${text(t.engine)} · exit ${t.exitCode} · ${text(targetOutcome(t))}</p>`);
  for (const a of t.attempts ?? []) out.push(`<p class="where">earlier on ${text(a.engine)}: ${text(a.error)}</p>`);
  if (!t.report) {
    out.push(`<p class="message">${text(t.error?.message ?? 'could not audit')}</p>`);
    if (t.error?.detail?.length) out.push(`<pre class="evidence">${t.error.detail.map(text).join('\n')}</pre>`);
  } else {
    out.push(imageLine(t.report));
    const passed: string[] = [];
    for (const c of t.report.checks) {
      if (c.status === 'pass') passed.push(c.id);
      // Only what did not pass gets a section (and an anchor): a passing cell links to the target.
      if (c.status !== 'pass') out.push(`<div class="anchor" id="t${index}-${text(c.id)}">${checkSection(c)}</div>`);
    }
    if (passed.length) out.push(`<p class="passed">passed: ${passed.map(text).join(', ')}</p>`);
    const unknown = ids.filter((id) => !t.report!.checks.some((c) => c.id === id));
    if (unknown.length) out.push(`<p class="passed">not run: ${unknown.map(text).join(', ')}</p>`);
  }
  out.push('</section>');
  return out.join('\n');
}

export function renderFleetHtml(report: FleetReport, toolVersion: string): string {
  const targets = report.targets;
  const ids = fleetCheckIds(report);
  const s = report.summary;
  const byName = ranks(targets, (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const byStatus = ranks(targets, (a, b) => VERDICTS.indexOf(verdictOf(a)) - VERDICTS.indexOf(verdictOf(b)));
  const byTime = ranks(targets, (a, b) => (b.report?.durationMs ?? -1) - (a.report?.durationMs ?? -1));
  const bySize = ranks(targets, (a, b) => (b.report?.image.sizeBytes ?? -1) - (a.report?.image.sizeBytes ?? -1));
  const byEngine = ranks(targets, (a, b) => (a.engine < b.engine ? -1 : a.engine > b.engine ? 1 : 0));
  const verdictClass = s.exitCode === 0 ? 'ok' : s.exitCode === 1 ? 'bad' : 'err';
  const meaning =
    s.exitCode === 0 ? 'exit 0: no check failed in any target' : s.exitCode === 1 ? 'exit 1: a check failed in at least one target' : 'exit 3: at least one target could not be audited';
  const header = [
    '<header class="report">',
    `<h1>image-audit fleet: ${s.targets} target${s.targets === 1 ? '' : 's'}</h1>`,
    `<p class="verdict ${verdictClass}">${text(meaning)}</p>`,
    `<p class="counts"><span><span class="badge s-pass">PASS</span> ${s.pass}</span><span><span class="badge s-fail">FAIL</span> ${s.fail}</span><span><span class="badge s-error">ERROR</span> ${s.couldNotAudit}</span></p>`,
    `<p class="muted">checks: ${(['pass', 'fail', 'warn', 'skip', 'error', 'waived'] as const).filter((k) => s.checks[k]).map((k) => `${s.checks[k]} ${k}`).join(', ') || 'none'} · engines: ${Object.entries(s.engines).map(([e, n]) => `${text(e)} ${n}`).join(', ')}</p>`,
    '</header>',
  ].join('\n');
  const head = [
    `<div class="row head" style="--checks:${ids.length}">`,
    '<span>target</span><span>engine</span><span>verdict</span>',
    ...ids.map((id) => `<span class="ck" title="${text(id)}">${text(id)}</span>`),
    '<span>outcome</span>',
    '</div>',
  ].join('');
  const rows = targets.map((t, i) => {
    const v = verdictOf(t);
    const style = `--checks:${ids.length};--by-name:${byName[i]};--by-status:${byStatus[i]};--by-time:${byTime[i]};--by-size:${bySize[i]};--by-engine:${byEngine[i]}`;
    const warn = t.report?.checks.some((c) => c.status === 'warn') ? ' data-has-warn' : '';
    const cells = ids.map((id) => {
      const c = t.report?.checks.find((x) => x.id === id);
      if (!c) return `<span class="cell s-none">${t.report ? '' : '·'}</span>`;
      if (c.status === 'pass') return `<a class="cell s-pass" href="#t${i}" title="${text(id)}: pass">${MARK.pass}</a>`;
      return `<a class="cell s-${c.status}" href="#t${i}-${text(id)}" title="${text(`${id}: ${c.status} — ${c.message}`)}">${MARK[c.status]}</a>`;
    });
    const size = t.report ? ` · ${formatBytes(t.report.image.sizeBytes)} · ${formatMs(t.report.durationMs)}` : '';
    return [
      `<div class="row target" data-target="${text(t.name)}" data-verdict="${v === 'warn' ? 'pass' : v}"${warn} style="${style}">`,
      `<span class="name"><a href="#t${i}" title="${text(t.target)}">${text(t.name)}</a></span>`,
      `<span class="engine">${text(t.engine)}</span>`,
      `<span><span class="badge s-${v}">${VERDICT_BADGE[v]}</span></span>`,
      ...cells,
      `<span class="outcome" title="${text(targetOutcome(t) + size)}">${text(VERDICT_LABEL[v] === 'passed' ? `${targetOutcome(t)}${size}` : targetOutcome(t))}</span>`,
      '</div>',
    ].join('');
  });
  const body = [header, controls(), `<div class="matrix">${head}\n${rows.join('\n')}</div>`, ...targets.map((t, i) => findings(t, i, ids))].join('\n');
  return page(`image-audit fleet: ${s.targets} targets`, body, toolVersion, FLEET_CSS);
}
