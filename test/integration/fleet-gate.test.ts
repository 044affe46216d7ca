// `fleet --gate` on the packed bin: three released services, each gated against its own baseline, with
// a verdict per target and one for the fleet. Lean on purpose: the images are tags of two fixtures
// (the compliant one and the one 60 MB bigger), and the gate runs `size-budget` only (no container:
// the regression is the size), so the file costs a few image inspections, not lifecycles.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { audit } from '../../src/audit.js';
import type { GatedFleetReport } from '../../src/fleet/gate.js';
import { runCli, type CliRun } from '../support/cli.js';
import { fixture } from '../support/fixtures.js';

const REPO = 'image-audit-fleet-gate';
const tag = (image: string, ref: string) => execFileSync('docker', ['tag', image, ref]);
const out = mkdtempSync(path.join(tmpdir(), 'fleet-gate-'));

let run: CliRun;
let report: GatedFleetReport;

beforeAll(async () => {
  const [compliant, bigger] = await Promise.all([audit(fixture('compliant'), { only: ['size-budget'] }), audit(fixture('over-budget'), { only: ['size-budget'] })]);
  // api grew by 60 MB from 1.0.0 to 1.1.0; web 2.0.0 is the image of its 1.0.0; db 1.0.0 is its first release.
  tag(compliant.image.id, `${REPO}/api:1.0.0`);
  tag(bigger.image.id, `${REPO}/api:1.1.0`);
  tag(compliant.image.id, `${REPO}/web:1.0.0`);
  tag(compliant.image.id, `${REPO}/web:2.0.0`);
  tag(compliant.image.id, `${REPO}/db:1.0.0`);
  // The baseline of each target from the fleet file: `auto` for all (the previous release of its own
  // repository), and web's entry names its own.
  const fleetFile = path.join(out, 'image-audit.fleet.json');
  writeFileSync(
    fleetFile,
    JSON.stringify({
      defaults: { sizeBudget: '300MB', only: ['size-budget'], gate: { baseline: 'auto' } },
      targets: [`${REPO}/api:1.1.0`, { target: `${REPO}/web:2.0.0`, gate: { baseline: `${REPO}/web:1.0.0` } }, `${REPO}/db:1.0.0`],
    }),
  );
  run = await runCli([
    'fleet', '--gate', '--fleet-file', fleetFile, '--format', 'json', '-o', path.join(out, 'fleet.json'),
    '--report', `markdown=${path.join(out, 'fleet.md')}`, '--report', `junit=${path.join(out, 'fleet.xml')}`,
  ]);
  report = JSON.parse(readFileSync(path.join(out, 'fleet.json'), 'utf8'));
}, 240_000);

describe('fleet --gate of three services, each against its own baseline', () => {
  it('gives each target its gate verdict, against the baseline its repository or its entry names', () => {
    const byName = Object.fromEntries(report.targets.map((t) => [t.name, t]));
    expect(byName[`${REPO}/api:1.1.0`]).toMatchObject({ verdict: 'do-not-ship', exitCode: 1, gate: { baseline: { ref: `${REPO}/api:1.0.0`, how: 'auto' } } });
    expect(byName[`${REPO}/api:1.1.0`].gate!.regressions.map((r) => r.kind)).toEqual(['size']);
    expect(byName[`${REPO}/web:2.0.0`]).toMatchObject({ verdict: 'ship', exitCode: 0, gate: { baseline: { ref: `${REPO}/web:1.0.0`, how: 'given' }, regressions: [] } });
  });
  it('makes a target whose baseline cannot be found could not gate, with the reason, never a SHIP', () => {
    const db = report.targets.find((t) => t.name === `${REPO}/db:1.0.0`)!;
    expect(db).toMatchObject({ verdict: 'could-not-gate', exitCode: 3, gate: null });
    expect(db.error?.message).toBe(`no baseline: no tag of ${REPO}/db below 1.0.0 in the daemon`);
  });
  it('gives the fleet one verdict and its exit code: 3, since a target could not be gated', () => {
    expect(run.code, run.stderr).toBe(3);
    expect(report.summary).toMatchObject({ targets: 3, ship: 1, doNotShip: 1, couldNotGate: 1, verdict: 'could-not-gate', exitCode: 3 });
    // Every report in a file: the terminal table still reaches stderr, ending with the fleet's verdict.
    expect(run.stderr).toMatch(/DO NOT SHIP +image-audit-fleet-gate\/api:1\.1\.0 +image-audit-fleet-gate\/api:1\.0\.0 \(previous release\) +1 regression: image size growth/);
    expect(run.stderr).toContain('fleet verdict: COULD NOT GATE (exit 3: at least one target could not be gated)');
  });
  it('writes the Markdown and the JUnit of the gated fleet', () => {
    const md = readFileSync(path.join(out, 'fleet.md'), 'utf8');
    expect(md).toContain(`| ${REPO}/web:2.0.0 | ${REPO}/web:1.0.0 | ✅ ship | no regression, no failing check |`);
    const xml = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(path.join(out, 'fleet.xml'), 'utf8'));
    const suites = [xml.testsuites.testsuite].flat() as Array<Record<string, any>>;
    const size = [suites.find((s) => s['@_name'] === `${REPO}/api:1.1.0: regressions against ${REPO}/api:1.0.0`)!.testcase].flat().find((c: any) => c['@_name'] === 'image size growth');
    expect(size.failure['@_message']).toMatch(/^image grew from/);
    expect(suites.find((s) => s['@_name'] === `${REPO}/db:1.0.0`)!.testcase.error['@_message']).toContain('no baseline');
  });
  it('merges its JSON (a shard) into the same gated fleet', async () => {
    const merged = await runCli(['merge', path.join(out, 'fleet.json'), '--format', 'json']);
    expect(merged.code).toBe(3);
    expect(JSON.parse(merged.stdout)).toEqual(report);
  });
});

describe('fleet --gate, usage', () => {
  it('names a build context target with --baseline auto before anything runs (exit 2)', async () => {
    const usage = await runCli(['fleet', '--gate', '--baseline', 'auto', path.resolve(__dirname, '../../fixtures/service'), `${REPO}/api:1.1.0`]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--baseline auto finds no previous release: it is a build context');
  });
  it('refuses a baseline without --gate (exit 2)', async () => {
    const usage = await runCli(['fleet', '--baseline', 'auto', `${REPO}/api:1.1.0`]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--baseline and the --max-…-growth thresholds gate the fleet: add --gate');
  });
});
