// The release gate on two (three) tagged versions of the service, with reports and waivers.
import { selectChecks } from '../../src/audit.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { audit } from '../../src/audit.js';
import type { GateReport } from '../../src/gate/gate.js';
import { runCli, type CliRun } from '../support/cli.js';
import { fixture } from '../support/fixtures.js';
import { validateSarif } from '../support/sarif-schema.js';
import { CHECKS } from '../../src/checks/registry.js';

const REPO = 'image-audit-gate/service';
const tag = (image: string, ref: string) => execFileSync('docker', ['tag', image, ref]);
const out = mkdtempSync(path.join(tmpdir(), 'gate-'));

beforeAll(async () => {
  // 1.0.0 and 1.0.1: the compliant image; 1.1.0: 60 MB bigger; 2.0.0-rc.1: healthcheck broken.
  const [compliant, bigger, broken, slowDrain] = await Promise.all([
    audit(fixture('compliant'), { only: ['size-budget'] }),
    audit(fixture('over-budget'), { only: ['size-budget'] }),
    audit(fixture('broken-healthcheck'), { only: ['size-budget'] }),
    audit(fixture('slow-drain'), { only: ['size-budget'] }),
  ]);
  tag(compliant.image.id, `${REPO}:1.0.0`);
  tag(compliant.image.id, `${REPO}:1.0.1`);
  tag(bigger.image.id, `${REPO}:1.1.0`);
  tag(broken.image.id, `${REPO}:2.0.0-rc.1`);
  tag(compliant.image.id, 'image-audit-gate/other:0.9.0');
  tag(slowDrain.image.id, 'image-audit-gate/slow-drain:1.0.0');
});

describe('gate 1.1.0 (60 MB bigger) --baseline auto', () => {
  let run: CliRun;
  let report: GateReport;
  beforeAll(async () => {
    run = await runCli([
      'gate', `${REPO}:1.1.0`, '--baseline', 'auto', '--size-budget', '300MB',
      '--format', 'json', '--output', path.join(out, 'gate.json'),
      '--report', `junit=${path.join(out, 'junit.xml')}`, '--report', `sarif=${path.join(out, 'audit.sarif')}`,
    ]);
    report = JSON.parse(readFileSync(path.join(out, 'gate.json'), 'utf8'));
  });

  it('picks the highest lower semver tag of the same repository as the baseline', () => {
    expect(report.baseline).toMatchObject({ ref: `${REPO}:1.0.1`, how: 'auto' });
  });
  it('does not ship: the image grew more than 10%', () => {
    expect(run.code, run.stderr).toBe(1);
    expect(report.verdict).toBe('do-not-ship');
    expect(report.regressions.map((r) => r.kind)).toEqual(['size']);
    expect(report.regressions[0].message).toMatch(/^image grew from 219.\d MB to 279.\d MB \(\+27.\d%, \+60.0 MB; allowed 10%\)$/);
    expect(report.failures).toEqual([]);
  });
  it('shows baseline and candidate side by side on the terminal', () => {
    expect(run.stderr).toMatch(/size\s+219.\d MB\s+279.\d MB/);
    expect(run.stderr).toContain('verdict: DO NOT SHIP (1 problem');
  });
  it('writes JUnit XML with one suite per target and the regression as a failure', () => {
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(readFileSync(path.join(out, 'junit.xml'), 'utf8'));
    const suites = xml.testsuites.testsuite as Array<{ name: string; tests: string; testcase: Array<{ name: string; failure?: { message: string } }> }>;
    expect(suites.map((s) => s.name)).toEqual([`candidate ${REPO}:1.1.0`, `baseline ${REPO}:1.0.1`, `regressions against ${REPO}:1.0.1`]);
    expect(suites[0].testcase).toHaveLength(selectChecks().length);
    const size = suites[2].testcase.find((c) => c.name === 'image size growth');
    expect(size?.failure?.message).toContain('image grew from');
    expect(xml.testsuites.failures).toBe('1');
  });
  it('writes SARIF 2.1.0 that the schema accepts', () => {
    const sarif = JSON.parse(readFileSync(path.join(out, 'audit.sarif'), 'utf8'));
    expect(validateSarif(sarif)).toEqual([]);
    expect(sarif.runs[0].tool.driver.rules.map((r: { id: string }) => r.id)).toEqual(CHECKS.map((c) => c.id));
  });
});

describe('gate 1.0.1 --baseline 1.0.0 (the same image)', () => {
  it('ships', async () => {
    const run = await runCli(['gate', `${REPO}:1.0.1`, '--baseline', `${REPO}:1.0.0`]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('verdict: SHIP');
  });
});

describe('gate of an image that drains 3 s on SIGTERM against the compliant one', () => {
  it('measures the shutdown again, alternating the two images, and the medians confirm the regression', async () => {
    const file = path.join(out, 'slow-drain-gate.json');
    // A budget far above the 3 s drain: the subject is the timing regression, and a loaded CI host once
    // stretched the drain to 4.9 s, near the default 5 s budget, which made the shutdown untimed (an error).
    const run = await runCli(['gate', 'image-audit-gate/slow-drain:1.0.0', '--baseline', `${REPO}:1.0.0`, '--env', 'FIXTURE_DRAIN_MS=3000', '--shutdown-budget', '15s', '--format', 'json', '--output', file]);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    // Another metric may grow on a loaded host's first runs too ("shutdown time and time to healthy grew"):
    // the medians then dismiss it, which the report's remeasured list shows.
    expect(run.stderr).toMatch(/shutdown time( and [a-z ]+)? grew on the first runs: measuring again \(2 more runs of each image\) before concluding/);
    const report = JSON.parse(readFileSync(file, 'utf8')) as GateReport;
    expect(report.regressions.map((r) => r.kind)).toEqual(['shutdown']);
    expect(report.regressions[0].message).toMatch(/^shutdown time grew from [\d.]+ m?s to \d+\.\d s \(.*; medians of 3 and 3 runs: baseline .*; candidate \d+\.\d s, \d+\.\d s, \d+\.\d s\)$/);
    const remeasured = report.remeasured!.find((m) => m.kind === 'shutdown')!;
    expect(remeasured.confirmed).toBe(true);
    for (const ms of remeasured.candidate) expect(ms).toBeGreaterThanOrEqual(2900);
    for (const ms of remeasured.baseline) expect(ms).toBeLessThan(2000);
  });
});

describe('gate 1.0.0 --baseline auto (nothing older)', () => {
  it('says there is no baseline and gates on the absolute checks', async () => {
    const run = await runCli(['gate', `${REPO}:1.0.0`, '--baseline', 'auto']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(`no tag of ${REPO} below 1.0.0 in the daemon: gating on the candidate's own checks only`);
  });
});

describe('waivers', () => {
  const configWith = (expires: string) => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'waiver-')), 'image-audit.config.json');
    writeFileSync(file, JSON.stringify({ waivers: [{ check: 'healthcheck', reason: 'probe fixed in IA-42', expires }] }));
    return file;
  };

  it('a waived failure is reported as waived and does not fail the gate', async () => {
    const run = await runCli(['gate', `${REPO}:2.0.0-rc.1`, '--baseline', 'auto', '--config', configWith('2999-12-31'), '--format', 'json']);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as GateReport;
    expect(report.baseline?.ref).toBe(`${REPO}:1.1.0`);
    const health = report.candidate.checks.find((c) => c.id === 'healthcheck')!;
    expect(health.status).toBe('waived');
    expect(health.message).toMatch(/^waived \("probe fixed in IA-42", until 2999-12-31\): unhealthy from/);
    expect(report.verdict).toBe('ship');
  });

  it('an expired waiver fails again and says so', async () => {
    const run = await runCli(['gate', `${REPO}:2.0.0-rc.1`, '--config', configWith('2020-01-31'), '--only', 'healthcheck']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('waiver expired on 2020-01-31 ("probe fixed in IA-42")');
    expect(run.stdout).toContain('verdict: DO NOT SHIP');
  });
});

describe('config validation', () => {
  const configFile = (content: unknown) => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'config-')), 'image-audit.config.json');
    writeFileSync(file, JSON.stringify(content));
    return file;
  };
  it('exits 2 on an unknown key, naming its path and the allowed keys', async () => {
    const run = await runCli([`${REPO}:1.0.0`, '--config', configFile({ gate: { maxSizeGrowth: 5 } })]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('/gate: unknown key "maxSizeGrowth" (allowed: baseline, maxSizeGrowthPercent, maxSizeGrowthBytes');
  });
  it('exits 2 on a waiver without a reason and a bad budget', async () => {
    const run = await runCli([`${REPO}:1.0.0`, '--config', configFile({ sizeBudget: 'huge', waivers: [{ check: 'healthcheck' }] })]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('/waivers/0: missing "reason"');
  });
  it('reads the imageAudit key of package.json in the context, and the command line overrides it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pkg-config-'));
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'x', imageAudit: { sizeBudget: '100MB', only: ['size-budget'] } }));
    const fromConfig = await runCli([`${REPO}:1.0.0`, '--config', path.join(dir, 'package.json')]);
    expect(fromConfig.code).toBe(1);
    expect(fromConfig.stdout).toContain('against a budget of 100.0 MB');
    const overridden = await runCli([`${REPO}:1.0.0`, '--config', path.join(dir, 'package.json'), '--size-budget', '300MB']);
    expect(overridden.code).toBe(0);
  });
});
