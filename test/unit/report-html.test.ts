import { describe, expect, it } from 'vitest';
import { DEFAULT_GATE } from '../../src/config/load.js';
import type { GateReport } from '../../src/gate/gate.js';
import { layerSvg, renderGateHtml, renderHtml, text, timelineSvg } from '../../src/report/html.js';
import { inline, renderGateMarkdown, renderMarkdown } from '../../src/report/markdown.js';
import { FORMATS, render } from '../../src/report/render.js';
import type { AuditReport } from '../../src/types.js';

const INJECTED = "<script>document.title='pwned'</script>";

export const sample: AuditReport = {
  target: 'fixtures/report',
  source: { contextDir: '/ctx', dockerfile: 'Dockerfile' },
  image: { id: 'sha256:0123456789abcdef0123', tags: ['app:<b>1</b>'], sizeBytes: 219e6 },
  checks: [
    { id: 'non-root-user', title: 'Runs as a non-root user', status: 'pass', message: 'uid 1000', evidence: {}, durationMs: 1, doc: 'docs/checks/non-root-user.md' },
    {
      id: 'sigterm-shutdown',
      title: 'Exits on the stop signal',
      status: 'fail',
      message: `still running 2.0 s after SIGTERM; it said "${INJECTED}"`,
      evidence: { signal: 'SIGTERM', budgetMs: 2000, killedAtBudget: true, exitCode: 137, lastLogLines: [INJECTED, '\u001b[31mred\u001b[0m <img src=x onerror=alert(1)>'] },
      durationMs: 1,
      hint: 'Handle SIGTERM & close the server',
      doc: 'docs/checks/sigterm-shutdown.md',
      location: { file: 'Dockerfile', line: 12, instruction: 'CMD ["node", "server.js"]' },
    },
    { id: 'healthcheck', title: 'Healthy', status: 'pass', message: 'healthy 3.6 s after start', evidence: { probes: [{ atMs: 3500, exitCode: 0, output: '' }, { atMs: 1000, exitCode: 1, output: 'refused' }] }, durationMs: 1, doc: 'docs/checks/healthcheck.md' },
  ],
  summary: { pass: 2, fail: 1, warn: 0, skip: 0, error: 0, waived: 0 },
  durationMs: 47_000,
  observed: {
    timeline: [
      { atMs: 0, event: 'started' },
      { atMs: 3600, event: 'health:healthy' },
      { atMs: 7000, event: 'runtime', detail: INJECTED },
      { atMs: 17_700, event: 'signal', detail: 'SIGTERM' },
      { atMs: 19_700, event: 'budget-passed' },
      { atMs: 20_700, event: 'killed', detail: 'code 137' },
    ],
    layers: [
      { createdBy: 'CMD ["node" "server.js"]', sizeBytes: 0 },
      { createdBy: `COPY ${INJECTED} ./ # buildkit`, sizeBytes: 733 },
      { createdBy: '', sizeBytes: 219e6 },
    ],
    limits: { sizeBudgetBytes: 100e6, shutdownBudgetMs: 2000, healthTimeoutMs: 120_000, memoryBytes: 2 ** 30, pidsLimit: 512, network: 'bridge' },
  },
};

describe('renderHtml', () => {
  const html = renderHtml(sample, '1.2.3');
  it('is one self-contained page: no script, no external resource, a policy that forbids both', () => {
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).not.toMatch(/<script\b/i);
    expect(html).not.toMatch(/\b(src|href)="(?!https:\/\/unpkg\.com\/node-image-audit@)[^"#]/);
    expect(html).not.toMatch(/<link\b|@import|url\(/);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
  });
  it('escapes everything taken from the image: log lines, tags, instructions, timeline details', () => {
    expect(html).not.toContain(INJECTED);
    expect(html).not.toMatch(/<img\b/);
    expect(html).not.toContain('<b>1</b>');
    expect(html).toContain('&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;');
    expect(html).not.toContain('\u001b');
    expect(text('a\u0007b & "c"')).toBe('a\\u0007b &amp; &quot;c&quot;');
  });
  it('shows the verdict with what the exit code means, and each check with status, hint, evidence and doc link', () => {
    expect(html).toContain('Not production-ready — exit 1: at least one check failed');
    expect(html).toContain('data-check="sigterm-shutdown" data-status="fail"');
    expect(html).toContain('<b>Fix:</b>Handle SIGTERM &amp; close the server');
    expect(html).toContain('stop: SIGTERM, budget 2.0 s, killed at budget, exit code 137');
    expect(html).toMatch(/href="https:\/\/unpkg\.com\/node-image-audit@[^"]+\/docs\/checks\/sigterm-shutdown\.md"/);
  });
});

describe('timelineSvg', () => {
  const svg = timelineSvg(sample, 1000);
  it('draws every event to scale, the end of the axis being the last event or the budget', () => {
    // Plot 20..980 over 20.7 s: the signal at 17.7 s is at 20 + 17700 / 20700 * 960.
    expect(svg).toContain(`cx="${(20 + (17_700 / 20_700) * 960).toFixed(1)}"`);
    for (const e of sample.observed!.timeline) expect(svg).toContain(`data-event="${e.event}"`);
  });
  it('draws the shutdown budget from the signal, and the probes with their outcome', () => {
    const width = ((2000 / 20_700) * 960).toFixed(1);
    expect(svg).toMatch(new RegExp(`<rect class="budget" x="[\\d.]+" y="\\d+" width="${width}"`));
    expect(svg.match(/class="probe"/g)).toHaveLength(2);
    expect(svg).toContain('health probe at 1.0 s: exit 1');
  });
  it('says so when no lifecycle was observed', () => {
    expect(timelineSvg({ ...sample, observed: { ...sample.observed!, timeline: [] } })).toContain('No lifecycle was observed');
  });
});

describe('layerSvg', () => {
  const svg = layerSvg(sample, 1000);
  it('draws the non-empty layers oldest first with their instruction, and the budget line', () => {
    const labels = [...svg.matchAll(/<text x="\d+" y="\d+" text-anchor="end">([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(labels).toEqual(['(base layer: no instruction recorded)', expect.stringMatching(/^COPY &lt;script&gt;/)]);
    expect(svg).toContain('<line class="budget"');
    expect(svg).toContain('budget 100.0 MB');
    expect(svg).toContain('1 more layer of 0 B');
  });
});

const gate: GateReport = {
  verdict: 'do-not-ship',
  candidate: sample,
  baseline: { ref: 'app:1.0.0', how: 'auto', report: { ...sample, image: { ...sample.image, sizeBytes: 150e6 }, checks: sample.checks.map((c) => ({ ...c, status: 'pass' as const })), summary: { pass: 3, fail: 0, warn: 0, skip: 0, error: 0, waived: 0 } } },
  metrics: { candidate: { sizeBytes: 219e6, byKey: { shutdown: undefined, healthy: 3600 } }, baseline: { sizeBytes: 150e6, byKey: { shutdown: 300, healthy: 3000 } } },
  regressions: [
    { kind: 'size', message: 'image grew from 150.0 MB to 219.0 MB' },
    { kind: 'check', checkId: 'sigterm-shutdown', message: `sigterm-shutdown passed on the baseline and now fails: ${INJECTED}` },
  ],
  remeasured: [
    { kind: 'healthy', baseline: [3000, 2900, 3100], candidate: [5600, 3200, 3000], confirmed: false, note: "time to healthy grew from 3.0 s to 5.6 s on the first runs, but not in the medians: the host's noise" },
    { kind: 'shutdown', baseline: [300], candidate: [9000], confirmed: true, note: 'confirmed, and said by its regression' },
  ],
  failures: [],
  thresholds: DEFAULT_GATE,
  durationMs: 90_000,
};

describe('renderGateHtml', () => {
  const html = renderGateHtml(gate, '1.2.3');
  it('puts baseline and candidate side by side and highlights the regressions', () => {
    expect(html).toContain('DO NOT SHIP — exit 1: 2 problems');
    expect(html).toMatch(/<tr class="regressed" data-check="sigterm-shutdown">/);
    expect(html).toMatch(/<tr class="" data-check="healthcheck">/);
    expect(html).toMatch(/<tr class="regressed" data-metric="size"><td>image size<\/td><td>150.0 MB<\/td><td>219.0 MB<\/td>/);
    expect(html.match(/<svg class="timeline"/g)).toHaveLength(2);
    expect(html.match(/<svg class="layers"/g)).toHaveLength(2);
    expect(html).not.toContain(INJECTED);
  });
  it('says which timing was measured again and dismissed (a confirmed one is a regression already)', () => {
    expect(html).toContain("<li><b>measured again:</b> time to healthy grew from 3.0 s to 5.6 s on the first runs, but not in the medians: the host&#39;s noise</li>");
    expect(html).not.toContain('confirmed, and said by its regression');
  });
});

describe('renderMarkdown', () => {
  const md = renderMarkdown(sample);
  it('has a row per check and the failing check with its fix, evidence and doc link', () => {
    expect(md).toMatch(/^## ❌ image-audit: fixtures\/report\n/);
    expect(md).toContain('| `non-root-user` | ✅ pass | uid 1000 |');
    expect(md).toContain('**Fix:** Handle SIGTERM \\& close the server');
    expect(md).toMatch(/\[How to fix sigterm-shutdown\]\(https:\/\/unpkg\.com\/node-image-audit@[^)]+\/docs\/checks\/sigterm-shutdown\.md\)/);
  });
  it('keeps app output inert: escaped inline, fenced in blocks, no raw HTML, no escape codes', () => {
    const outsideFences = md.replace(/```text\n[\s\S]*?\n```/g, '');
    expect(outsideFences).not.toMatch(/(?<!\\)<script/);
    expect(outsideFences).toContain('\\<script\\>');
    expect(md).toMatch(/```text\n[\s\S]*<script>document.title='pwned'<\/script>[\s\S]*\n```/);
    expect(md).not.toContain('\u001b');
    expect(inline('a | b @team')).toBe('a \\| b @\u200bteam');
  });
  it('renders a gate with the regressions marked', () => {
    const g = renderGateMarkdown(gate);
    expect(g).toMatch(/^## ❌ do not ship: fixtures\/report vs app:1\.0\.0/);
    expect(g).toContain('| `sigterm-shutdown` | ✅ pass | ❌ fail **regressed** |');
    expect(g).toContain('- **regression:** image grew from 150.0 MB to 219.0 MB');
    expect(g).toContain('- **measured again:** time to healthy grew from 3.0 s to 5.6 s on the first runs');
    expect(g).not.toContain('confirmed, and said by its regression');
  });
});

describe('render', () => {
  it('knows html and markdown for audits and gates', () => {
    expect(FORMATS).toEqual(expect.arrayContaining(['html', 'markdown']));
    expect(render('html', { kind: 'gate', report: gate }, { color: false, toolVersion: 'x' })).toContain('image-audit gate');
    expect(render('markdown', { kind: 'audit', report: sample }, { color: false, toolVersion: 'x' })).toContain('| check | status | observed |');
  });
});
