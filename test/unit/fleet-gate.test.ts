// `fleet --gate`, its pure parts: each target's baseline and thresholds, the verdict per target and for
// the fleet, every format of the gated fleet report, and merge of its shards.
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { DEFAULT_GATE } from '../../src/config/gate-thresholds.js';
import type { DockerPort } from '../../src/docker/port.js';
import { DaemonUnreachableError, UsageError } from '../../src/errors.js';
import type { FleetEngine } from '../../src/fleet/engines.js';
import { parseFleetFile } from '../../src/fleet/file.js';
import { gateJobs, gatedFleetReport, gatedTarget, mergeGatedReports, notGatedTarget, type GatedTarget } from '../../src/fleet/gate.js';
import { scheduleFleet } from '../../src/fleet/schedule.js';
import { resolveFleetTargets, type FleetJob } from '../../src/fleet/targets.js';
import { BaselineNotFoundError } from '../../src/gate/gate.js';
import type { GateReport } from '../../src/gate/types.js';
import { gatedProgressLine } from '../../src/report/fleet-gate.js';
import { renderFleet } from '../../src/report/fleet-render.js';
import { FORMATS } from '../../src/report/render.js';
import type { AuditReport, CheckStatus } from '../../src/types.js';
import { validateSarif } from '../support/sarif-schema.js';
import { usageProblem } from '../support/usage-error.js';

const IDS = ['non-root-user', 'healthcheck'] as const;

function audit(target: string, statuses: CheckStatus[], sizeBytes = 200e6): AuditReport {
  const summary = { pass: 0, fail: 0, warn: 0, skip: 0, error: 0, waived: 0 };
  for (const s of statuses) summary[s]++;
  return {
    target,
    image: { id: `sha256:${'c'.repeat(64)}`, tags: [target], sizeBytes },
    checks: statuses.map((status, i) => ({ id: IDS[i], title: `title of ${IDS[i]}`, status, message: `${IDS[i]} ${status} <img src=x onerror=alert(1)>`, evidence: {}, durationMs: 10 })),
    summary,
    durationMs: 3000,
  };
}

function gate(candidate: string, baseline: string, opts: { grew?: boolean; failing?: boolean; errored?: boolean; noise?: boolean } = {}): GateReport {
  const c = audit(candidate, ['pass', opts.failing ? 'fail' : opts.errored ? 'error' : 'pass'], opts.grew ? 280e6 : 200e6);
  const regressions = opts.grew ? [{ kind: 'size' as const, message: 'image grew from 200.0 MB to 280.0 MB (+40.0%, +80.0 MB; allowed 10%)' }] : [];
  const failures = opts.failing ? [{ id: 'healthcheck', message: 'healthcheck fail' }] : [];
  return {
    verdict: regressions.length || failures.length ? 'do-not-ship' : 'ship',
    candidate: c,
    baseline: { ref: baseline, how: 'auto', report: audit(baseline, ['pass', 'pass']) },
    metrics: { candidate: { sizeBytes: c.image.sizeBytes, byKey: {} }, baseline: { sizeBytes: 200e6, byKey: {} } },
    regressions,
    ...(opts.noise && { remeasured: [{ kind: 'healthy' as const, baseline: [1000, 1100, 1000], candidate: [4000, 1200, 1100], confirmed: false, note: "time to healthy grew on the first runs, but not in the medians: the host's noise, not a regression" }] }),
    failures,
    thresholds: DEFAULT_GATE,
    durationMs: 12_300,
  };
}

const job = (name: string, over: Partial<FleetJob> = {}): FleetJob => ({ name, target: name, auditTarget: name, kind: 'image', options: {}, gate: {}, ...over });
const at = (name: string, engine = 'default') => ({ target: name, name, engine });

describe("each target's baseline and thresholds", () => {
  it('takes the command line over the files, key by key', () => {
    const files = job('myorg/api:1.1.0', { gate: { baseline: 'myorg/api:1.0.0', maxSizeGrowthPercent: 20, maxHealthyGrowthMs: 5000 } });
    const [api] = gateJobs([files], { baseline: undefined, thresholds: { maxSizeGrowthPercent: 5 } });
    expect({ baseline: api.baseline, thresholds: api.thresholds }).toEqual({ baseline: 'myorg/api:1.0.0', thresholds: { maxSizeGrowthPercent: 5, maxHealthyGrowthMs: 5000 } });
    expect(gateJobs([files], { baseline: 'myorg/api:0.9.0', thresholds: {} })[0].baseline).toBe('myorg/api:0.9.0');
  });
  it('gives every target --baseline auto, per repository', () => {
    const jobs = gateJobs([job('myorg/api:1.1.0'), job('myorg/web:v2.0.0', { gate: { baseline: 'myorg/web:1.9.0' } })], { baseline: 'auto', thresholds: {} });
    expect(jobs.map((j) => j.baseline)).toEqual(['auto', 'auto']);
  });
  it('names, before anything runs, every target that cannot be gated: no baseline, auto without a release tag, a bad reference', () => {
    let problem = '';
    try {
      gateJobs(
        [
          job('services/api', { kind: 'context', gate: { baseline: 'auto' } }),
          job('myorg/web:latest', { gate: { baseline: 'auto' } }),
          job('myorg/db:1.0.0', { gate: { baseline: 'Not A Ref' } }),
          job('myorg/ok:1.0.0', { gate: { baseline: 'auto' } }),
          job('myorg/none:1.0.0'),
        ],
        { thresholds: {} },
      );
    } catch (err) {
      expect(err).toBeInstanceOf(UsageError);
      problem = [(err as UsageError).message, ...(err as UsageError).detail].join('\n');
    }
    expect(problem).toMatch(/^Cannot gate 4 targets: services\/api: --baseline auto finds no previous release: it is a build context/);
    expect(problem).toContain('myorg/web:latest: --baseline auto finds no previous release: the candidate myorg/web:latest has no semver tag');
    expect(problem).toContain('myorg/db:1.0.0: bad baseline "Not A Ref"');
    expect(problem).toContain('myorg/none:1.0.0: no baseline');
    expect(problem).not.toContain('myorg/ok');
  });
  it("reads gate.baseline from the fleet file's defaults and entries, the entry over the defaults", () => {
    const file = parseFleetFile(
      { defaults: { gate: { baseline: 'auto', maxSizeGrowthPercent: 15 } }, targets: ['myorg/api:1.1.0', { target: 'myorg/web:2.0.0', gate: { baseline: 'myorg/web:1.0.0' } }] },
      '/nowhere/image-audit.fleet.json',
    );
    const jobs = resolveFleetTargets({ args: [], file, caller: { values: {}, nameOf: (k) => k }, cwd: '/nowhere' });
    expect(jobs.map((j) => j.gate)).toEqual([
      { baseline: 'auto', maxSizeGrowthPercent: 15 },
      { baseline: 'myorg/web:1.0.0', maxSizeGrowthPercent: 15 },
    ]);
  });
});

const targets: GatedTarget[] = [
  gatedTarget(at('myorg/api:1.1.0'), gate('myorg/api:1.1.0', 'myorg/api:1.0.1', { grew: true })),
  gatedTarget(at('myorg/web:2.0.0', 'second'), gate('myorg/web:2.0.0', 'myorg/web:1.9.0', { noise: true })),
  gatedTarget(at('myorg/<b>evil</b>:1.0.0'), gate('myorg/<b>evil</b>:1.0.0', 'myorg/evil:0.9.0', { errored: true })),
  notGatedTarget({ ...at('myorg/db:3.0.0', 'second'), attempts: [{ engine: 'default', error: 'baseline myorg/db:2.0.0: Image not found in the daemon' }] }, { message: 'no baseline: no tag of myorg/db below 3.0.0 in the daemon' }, 3),
];
const fleet = gatedFleetReport(targets);
const opts = { color: false, toolVersion: '9.9.9' };

describe('the verdicts', () => {
  it('gives each target its gate verdict: a candidate check that could not run, or no baseline, is could not gate, never a SHIP', () => {
    expect(Object.fromEntries(fleet.targets.map((t) => [t.name, [t.verdict, t.exitCode]]))).toEqual({
      'myorg/api:1.1.0': ['do-not-ship', 1],
      'myorg/web:2.0.0': ['ship', 0],
      'myorg/<b>evil</b>:1.0.0': ['could-not-gate', 3],
      'myorg/db:3.0.0': ['could-not-gate', 3],
    });
  });
  it('gives the fleet one: 3 if any target could not be gated, else 1 if any may not ship, else 0', () => {
    expect(fleet.summary).toMatchObject({ targets: 4, ship: 1, doNotShip: 1, couldNotGate: 2, verdict: 'could-not-gate', exitCode: 3 });
    expect(gatedFleetReport(targets.slice(0, 2)).summary).toMatchObject({ verdict: 'do-not-ship', exitCode: 1 });
    expect(gatedFleetReport(targets.slice(1, 2)).summary).toMatchObject({ verdict: 'ship', exitCode: 0 });
  });
});

describe('the gated fleet on a terminal', () => {
  it('prints a line per target as its gate ends', () => {
    expect(gatedProgressLine(targets[0], 1, 4, { color: false })).toBe('[1/4] DO NOT SHIP    myorg/api:1.1.0  vs myorg/api:1.0.1  on default  12.3 s  1 regression: image size growth\n');
    expect(gatedProgressLine(targets[3], 4, 4, { color: false })).toBe('[4/4] COULD NOT GATE myorg/db:3.0.0  on second  could not gate: no baseline: no tag of myorg/db below 3.0.0 in the daemon\n');
  });
  it('ends with a row per target, what stops each, and the fleet verdict', () => {
    const text = renderFleet('tty', fleet, opts);
    expect(text).toMatch(/DO NOT SHIP +myorg\/api:1\.1\.0 +myorg\/api:1\.0\.1 \(previous release\) +1 regression: image size growth\n/);
    expect(text).toMatch(/SHIP +myorg\/web:2\.0\.0 +myorg\/web:1\.9\.0 \(previous release\) +no regression, no failing check\n/);
    expect(text).toContain('  regression: image grew from 200.0 MB to 280.0 MB');
    expect(text).toContain("  measured again: time to healthy grew on the first runs, but not in the medians: the host's noise, not a regression");
    expect(text).toContain('  earlier on default: baseline myorg/db:2.0.0: Image not found in the daemon');
    expect(text).toContain('4 targets: 1 ship, 1 do not ship, 2 could not gate · engines: default 2, second 2');
    expect(text.trimEnd().split('\n').at(-1)).toBe('fleet verdict: COULD NOT GATE (exit 3: at least one target could not be gated)');
  });
});

describe('the gated fleet in Markdown', () => {
  it('has a row per target with its baseline and verdict, and folds what stops each', () => {
    const md = renderFleet('markdown', fleet, opts);
    expect(md).toMatch(/^## 💥 image-audit fleet --gate: could not gate\n/);
    expect(md).toContain('| myorg/api:1.1.0 | myorg/api:1.0.1 (previous release) | ❌ do not ship | 1 regression: image size growth |');
    expect(md).toContain('| myorg/web:2.0.0 | myorg/web:1.9.0 (previous release) | ✅ ship | no regression, no failing check |');
    expect(md).toContain('<details><summary>💥 myorg/db:3.0.0: could not gate: no baseline: no tag of myorg/db below 3.0.0 in the daemon</summary>');
    expect(md).not.toContain('<b>evil');
    expect(md).not.toMatch(/(^|[^\\])<img/);
  });
});

describe('the gated fleet in JUnit, SARIF, HTML', () => {
  it("JUnit: each target's gate suites named after it, and an <error> for a target that could not be gated", () => {
    const xml = new XMLParser({ ignoreAttributes: false }).parse(renderFleet('junit', fleet, opts));
    const suites = [xml.testsuites.testsuite].flat() as Array<Record<string, unknown>>;
    expect(suites.map((s) => s['@_name'])).toContain('myorg/api:1.1.0: regressions against myorg/api:1.0.1');
    const db = suites.find((s) => s['@_name'] === 'myorg/db:3.0.0')!.testcase as Record<string, Record<string, string>>;
    expect(db.failure).toBeUndefined();
    expect(db.error['@_message']).toBe('no baseline: no tag of myorg/db below 3.0.0 in the daemon');
  });
  it('SARIF: valid 2.1.0, one run per target of its candidate', () => {
    const log = JSON.parse(renderFleet('sarif', fleet, opts));
    expect(validateSarif(log)).toEqual([]);
    expect(log.runs).toHaveLength(4);
    expect(log.runs.find((r: { properties: { name: string } }) => r.properties.name === 'myorg/db:3.0.0').invocations[0].executionSuccessful).toBe(false);
  });
  it('HTML: one page, no script, a row per target with its verdict', () => {
    const html = renderFleet('html', fleet, opts);
    expect(html).not.toMatch(/<script|<img|<b>evil/i);
    expect(html).toContain('<tr data-target="myorg/api:1.1.0" data-verdict="do-not-ship">');
    expect(html).toContain('COULD NOT GATE — exit 3: at least one target could not be gated');
  });
});

describe('merge of gated shards', () => {
  it('renders every format exactly as the whole gated fleet, and accepts a single gate report', () => {
    const shard = (names: string[]) => JSON.parse(renderFleet('json', gatedFleetReport(targets.filter((t) => names.includes(t.name))), opts));
    const merged = mergeGatedReports([
      { file: '1.json', json: shard(['myorg/db:3.0.0', 'myorg/web:2.0.0']) },
      { file: '2.json', json: shard(['myorg/api:1.1.0']) },
      { file: 'single-gate.json', json: JSON.parse(JSON.stringify(targets[2].gate)) },
    ]);
    const whole = gatedFleetReport(targets.map((t) => (t.name === 'myorg/<b>evil</b>:1.0.0' ? { ...t, engine: 'unknown' } : t)));
    for (const format of FORMATS) expect(renderFleet(format, merged, opts)).toBe(renderFleet(format, whole, opts));
  });
  it('refuses a target found in two shards', () => {
    const json = JSON.parse(renderFleet('json', gatedFleetReport(targets.slice(0, 1)), opts));
    expect(usageProblem(() => mergeGatedReports([{ file: 'a.json', json }, { file: 'b.json', json }]))).toContain('is in both a.json and b.json');
  });
});

describe('the work queue, gating', () => {
  const engine = (name: string): FleetEngine => ({ engine: { name, host: `unix:///${name}`, source: '--engine' }, name, jobs: 1, port: {} as DockerPort });
  it('tries a target whose baseline is missing on one engine on the other, and keeps the gate report made there', async () => {
    const results = await scheduleFleet([job('myorg/api:1.1.0')], [engine('one'), engine('two')], {
      signal: new AbortController().signal,
      answers: async () => true,
      run: async (j, e) => {
        if (e.name === 'one') throw new BaselineNotFoundError('baseline myorg/api:1.0.1: Image not found in the daemon: myorg/api:1.0.1');
        return gate(j.name, 'myorg/api:1.0.1');
      },
      incomplete: (g) => g.candidate.summary.error > 0,
      done: gatedTarget,
      failed: notGatedTarget,
    });
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ engine: 'two', verdict: 'ship', attempts: [{ engine: 'one', error: expect.stringContaining('baseline myorg/api:1.0.1') }] });
  });
  it('makes a target whose baseline is found nowhere could not gate, with the reason', async () => {
    const results = await scheduleFleet([job('myorg/api:1.1.0')], [engine('one')], {
      signal: new AbortController().signal,
      answers: async () => true,
      run: async () => {
        throw new BaselineNotFoundError('no baseline: no tag of myorg/api below 1.1.0 in the daemon');
      },
      incomplete: () => false,
      done: gatedTarget,
      failed: notGatedTarget,
    });
    expect(results[0]).toMatchObject({ verdict: 'could-not-gate', exitCode: 3, gate: null, error: { message: 'no baseline: no tag of myorg/api below 1.1.0 in the daemon' } });
  });
  it('never keeps a gate made through an engine that stopped answering', async () => {
    const results = await scheduleFleet([job('myorg/api:1.1.0')], [engine('one')], {
      signal: new AbortController().signal,
      answers: async () => false,
      run: async () => {
        throw new DaemonUnreachableError('Docker daemon stopped answering');
      },
      incomplete: () => false,
      done: gatedTarget,
      failed: notGatedTarget,
    });
    expect(results[0]).toMatchObject({ verdict: 'could-not-gate', gate: null });
  });
});
