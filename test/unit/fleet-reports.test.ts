// The fleet forms of every format, from synthetic reports: each is a function of the fleet report alone.
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { fleetReport, mergeReports, type FleetTarget } from '../../src/fleet/report.js';
import { renderFleet } from '../../src/report/fleet-render.js';
import { fleetProgressLine } from '../../src/report/fleet-tty.js';
import { FORMATS } from '../../src/report/render.js';
import type { AuditReport, CheckStatus } from '../../src/types.js';
import { validateSarif } from '../support/sarif-schema.js';

const IDS = ['non-root-user', 'init-pid1', 'sigterm-shutdown', 'healthcheck'] as const;

function report(target: string, statuses: CheckStatus[]): AuditReport {
  const summary = { pass: 0, fail: 0, warn: 0, skip: 0, error: 0, waived: 0 };
  for (const s of statuses) summary[s]++;
  return {
    target,
    image: { id: `sha256:${'b'.repeat(64)}`, tags: [], sizeBytes: 200_000_000 },
    checks: statuses.map((status, i) => ({
      id: IDS[i],
      title: `title of ${IDS[i]}`,
      status,
      message: `${IDS[i]} ${status}: <img src=x onerror=alert(1)> \u001b[31mred`,
      evidence: {},
      durationMs: 10,
      ...(status === 'fail' && { hint: 'do the fix' }),
    })),
    summary,
    durationMs: 4321,
  };
}

const exitOf = (statuses: CheckStatus[]) => (statuses.includes('error') ? 3 : statuses.includes('fail') ? 1 : 0);
const audited = (name: string, statuses: CheckStatus[], engine = 'default'): FleetTarget => ({ target: name, name, engine, exitCode: exitOf(statuses), report: report(name, statuses) });

const targets: FleetTarget[] = [
  audited('services/api', ['pass', 'pass', 'pass', 'pass']),
  audited('services/web', ['pass', 'fail', 'pass', 'warn'], 'second'),
  audited('services/<b>evil</b>', ['pass', 'pass', 'error', 'pass']),
  { target: 'myorg/gone:1', name: 'myorg/gone:1', engine: 'second', exitCode: 3, report: null, error: { message: 'engine second stopped answering' }, attempts: [{ engine: 'default', error: 'Image not found' }] },
];
const fleet = fleetReport(targets);
const opts = { color: false, toolVersion: '9.9.9' };

describe('the fleet on a terminal', () => {
  it('prints a line per target as it ends', () => {
    expect(fleetProgressLine(fleet.targets[3], 2, 4, { color: false })).toBe('[2/4] FAIL  services/web  on second  4.3 s  1 failed: init-pid1; 1 warning\n');
    expect(fleetProgressLine(fleet.targets[0], 1, 4, { color: false })).toBe('[1/4] ERROR myorg/gone:1  on second  could not audit: engine second stopped answering\n');
  });
  it('ends with a targets × checks table, what failed, and the counts', () => {
    const text = renderFleet('tty', fleet, opts);
    expect(text).toContain('checks: 1 non-root-user  2 init-pid1  3 sigterm-shutdown  4 healthcheck');
    expect(text).toMatch(/PASS  services\/api +default +\.  \.  \.  \.\n/);
    expect(text).toMatch(/FAIL  services\/web +second +\.  F  \.  W\n/);
    expect(text).toContain('services/web: FAIL init-pid1: init-pid1 fail');
    expect(text).toContain('myorg/gone:1 (on second): could not audit: engine second stopped answering');
    expect(text).toContain('4 targets: 1 pass, 1 fail, 2 could not audit · checks: 9 pass, 1 fail, 1 warn, 1 error · engines: default 2, second 2');
    expect(text).not.toContain('\u001b');
  });
});

describe('the fleet in Markdown', () => {
  it('has a row per target with a cell per check, and folds the findings of each failing one', () => {
    const md = renderFleet('markdown', fleet, opts);
    expect(md).toContain('| target | engine | | `non-root-user` | `init-pid1` | `sigterm-shutdown` | `healthcheck` |');
    expect(md).toContain('| services/web | second | ❌ | ✅ | ❌ | ✅ | ⚠️ |');
    expect(md).toContain('services/\\<b\\>evil\\</b\\>');
    expect(md).not.toContain('<b>evil');
    expect(md).toContain('<details><summary>❌ services/web: 1 failed: init-pid1; 1 warning</summary>');
  });
});

describe('the fleet in JUnit', () => {
  it('has one testsuite per target, and an <error> (not a <failure>) with the reason for a target that could not be audited', () => {
    const xml = new XMLParser({ ignoreAttributes: false }).parse(renderFleet('junit', fleet, opts));
    const suites = [xml.testsuites.testsuite].flat() as Array<Record<string, unknown>>;
    expect(suites.map((s) => s['@_name'])).toEqual(['services/<b>evil</b>', 'services/api', 'services/web', 'myorg/gone:1']);
    const gone = suites[3].testcase as Record<string, Record<string, string>>;
    expect(gone.failure).toBeUndefined();
    expect(gone.error['@_message']).toBe('engine second stopped answering');
    expect(gone.error['#text']).toBe('earlier on default: Image not found');
    expect(suites[3]).toMatchObject({ '@_failures': '0', '@_errors': '1' });
    // The totals: web's failing check only; evil's check that could not run and the target that could not be audited.
    expect(xml.testsuites).toMatchObject({ '@_failures': '1', '@_errors': '2' });
  });
});

describe('the fleet in SARIF', () => {
  it('is valid SARIF 2.1.0 with one run per target, each with its own automation id', () => {
    const log = JSON.parse(renderFleet('sarif', fleet, opts));
    expect(validateSarif(log)).toEqual([]);
    expect(log.runs.map((r: { automationDetails: { id: string } }) => r.automationDetails.id)).toEqual([
      'image-audit/myorg/gone:1/',
      'image-audit/services/<b>evil</b>/',
      'image-audit/services/api/',
      'image-audit/services/web/',
    ]);
    expect(log.runs[0].invocations[0]).toMatchObject({ executionSuccessful: false });
    expect(log.runs[3].results.map((r: { ruleId: string }) => r.ruleId)).toEqual(['init-pid1', 'healthcheck']);
  });
});

describe('the fleet in HTML', () => {
  const html = renderFleet('html', fleet, opts);
  it('is one page with no script, under the single report\'s policy', () => {
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>evil');
  });
  it('has a row per target, whose cells link to that target\'s findings', () => {
    for (const t of fleet.targets) expect(html).toContain(`data-target="${t.name.replace(/</g, '&lt;').replace(/>/g, '&gt;')}"`);
    const links = [...html.matchAll(/href="#(t\d+(?:-[a-z0-9-]+)?)"/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(fleet.targets.length);
    for (const id of links) expect(html).toContain(`id="${id}"`);
  });
  it('carries each row\'s rank in every order, and the verdict the filters read', () => {
    expect(html).toMatch(/data-target="services\/web" data-verdict="fail" data-has-warn style="--checks:4;--by-name:3;--by-status:\d;/);
    expect(html).toMatch(/data-target="myorg\/gone:1" data-verdict="error" style="--checks:4;--by-name:0;--by-status:0;/);
  });
});

describe('merge', () => {
  it('renders every format of merged shards exactly as the whole fleet', () => {
    const shard = (names: string[]) => JSON.parse(renderFleet('json', fleetReport(targets.filter((t) => names.includes(t.name))), opts));
    const merged = mergeReports([
      { file: '1.json', json: shard(['services/web', 'myorg/gone:1']) },
      { file: '2.json', json: shard(['services/api', 'services/<b>evil</b>']) },
    ]);
    for (const format of FORMATS) expect(renderFleet(format, merged, opts)).toBe(renderFleet(format, fleet, opts));
  });
});
