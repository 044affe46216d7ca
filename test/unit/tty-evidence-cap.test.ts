// A long evidence list on the terminal: a real repo leaked 286 dev packages, and the terminal report
// printed all 286 (350 lines for one audit). The tty reporter caps any run of list lines (the same label,
// or the same indentation) at 10, the largest first when the lines carry sizes, and says how many more
// there are and where to see them; json and html keep them whole.
import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/report/html.js';
import { renderJson } from '../../src/report/json.js';
import { capListRuns, renderTty } from '../../src/report/tty.js';
import type { AuditReport, CheckResult } from '../../src/types.js';
import { formatBytes } from '../../src/units.js';

const leaked = Array.from({ length: 286 }, (_, i) => ({
  name: `dev-pkg-${String(i).padStart(3, '0')}`,
  version: '1.0.0',
  // Not in size order: the cap must pick the largest.
  sizeBytes: ((i * 7919) % 286) * 1000 + 500,
  path: `/app/node_modules/dev-pkg-${String(i).padStart(3, '0')}`,
}));

function report(checks: CheckResult[]): AuditReport {
  return {
    target: 'fixtures/leaky',
    image: { id: `sha256:${'b'.repeat(64)}`, tags: ['leaky:1'], sizeBytes: 412e6 },
    checks,
    summary: { pass: 0, fail: checks.length, warn: 0, skip: 0, error: 0, waived: 0 },
    durationMs: 1234,
  } as unknown as AuditReport;
}

const devDeps: CheckResult = {
  id: 'no-dev-dependencies',
  title: 'No devDependencies in the image',
  status: 'fail',
  message: '286 dev-only packages of package-lock.json are in /app/node_modules',
  evidence: { from: 'package-lock.json', nodeModules: '/app/node_modules', leaked },
  durationMs: 10,
  hint: 'Install with npm ci --omit=dev.',
};

describe('the terminal report of a long evidence list', () => {
  const text = renderTty(report([devDeps]), { color: false });
  const lines = text.split('\n');
  const leakedLines = lines.filter((l) => /^\s+leaked: /.test(l) && !l.includes('… and'));

  it('shows at most 10 lines of the list, the largest first', () => {
    expect(leakedLines).toHaveLength(10);
    const largest = [...leaked].sort((a, b) => b.sizeBytes - a.sizeBytes).slice(0, 10);
    expect(leakedLines.map((l) => l.trim().split(/\s+/)[1])).toEqual(largest.map((p) => `${p.name}@1.0.0`));
    expect(leakedLines[0]).toContain(formatBytes(largest[0].sizeBytes));
  });

  it('says how many more there are, their size, and where to see them all', () => {
    const rest = [...leaked].sort((a, b) => b.sizeBytes - a.sizeBytes).slice(10);
    const more = lines.find((l) => l.includes('… and'));
    expect(more?.trim()).toBe(
      `leaked: … and 276 more (${formatBytes(rest.reduce((sum, p) => sum + p.sizeBytes, 0))}; the 10 largest are shown) — see --format json or html for all`,
    );
  });

  it('keeps the whole report of one audit short', () => {
    expect(lines.length).toBeLessThan(30);
  });

  it('keeps the whole list in json and html', () => {
    const json = JSON.parse(renderJson(report([devDeps]))) as { checks: Array<{ evidence: { leaked: unknown[] } }> };
    expect(json.checks[0].evidence.leaked).toHaveLength(286);
    const html = renderHtml(report([devDeps]), '0.0.0-test');
    for (const p of leaked) expect(html).toContain(p.name);
  });
});

describe('capListRuns', () => {
  it('caps a run of indented lines, keeping their order when they carry no sizes', () => {
    const logs = ['last log lines:', ...Array.from({ length: 40 }, (_, i) => `  line ${i}`), 'after: x'];
    expect(capListRuns(logs)).toEqual([
      'last log lines:',
      ...Array.from({ length: 10 }, (_, i) => `  line ${i}`),
      '  … and 30 more — see --format json or html for all',
      'after: x',
    ]);
  });

  it('leaves short runs (up to 11 lines) and unrelated lines alone', () => {
    const short = Array.from({ length: 11 }, (_, i) => `leaked: p${i}  1.00 kB  /app/node_modules/p${i}`);
    expect(capListRuns(short)).toEqual(short);
    const distinct = ['a: 1', 'b: 2', 'c: 3'];
    expect(capListRuns(distinct)).toEqual(distinct);
  });

  it('puts lines of unknown size after the known ones, and sums only the known', () => {
    const run = [
      ...Array.from({ length: 11 }, (_, i) => `leaked: p${i}@1  size unknown  /p${i}`),
      'leaked: big@1  2.00 MB  /big',
      'leaked: mid@1  5.00 kB  /mid',
    ];
    const capped = capListRuns(run);
    expect(capped.slice(0, 2)).toEqual(['leaked: big@1  2.00 MB  /big', 'leaked: mid@1  5.00 kB  /mid']);
    expect(capped).toHaveLength(11);
    expect(capped[10]).toBe('leaked: … and 3 more (the 10 largest are shown) — see --format json or html for all');
  });

  it('does not reorder a run whose lines do not all carry a size (a timeline that mentions bytes)', () => {
    const run = Array.from({ length: 15 }, (_, i) => `probe: at ${i}s ${i === 3 ? 'wrote 12 MB' : 'ok'}`);
    expect(capListRuns(run).slice(0, 10)).toEqual(run.slice(0, 10));
  });
});
