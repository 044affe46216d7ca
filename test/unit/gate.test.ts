import { describe, expect, it } from 'vitest';
import { fakeDocker } from '../support/fake-docker.js';
import { DEFAULT_GATE } from '../../src/config/load.js';
import { previousRelease, splitRef } from '../../src/gate/baseline.js';
import { findRegressions } from '../../src/gate/compare.js';
import { confirmTimings, median } from '../../src/gate/confirm.js';
import { gate, gateExitCode, type GateReport } from '../../src/gate/gate.js';
import type { AuditReport, CheckResult } from '../../src/types.js';

describe('previousRelease', () => {
  const tags = ['team/api:1.0.0', 'team/api:v1.2.0', 'team/api:1.2.1-rc.1', 'team/api:1.3.0', 'team/api:latest', 'team/web:1.2.2', 'registry:5000/team/api:1.2.2'];
  it('picks the highest semver tag of the same repository below the candidate', () => {
    expect(previousRelease('team/api:1.3.0', tags)).toEqual({ ref: 'team/api:1.2.1-rc.1', version: '1.2.1-rc.1' });
    expect(previousRelease('team/api:v1.2.1', tags)).toEqual({ ref: 'team/api:1.2.1-rc.1', version: '1.2.1-rc.1' });
    expect(previousRelease('team/api:1.2.1-rc.1', tags)).toEqual({ ref: 'team/api:v1.2.0', version: '1.2.0' });
  });
  it('keeps registries with ports apart', () => {
    expect(previousRelease('registry:5000/team/api:2.0.0', tags)).toEqual({ ref: 'registry:5000/team/api:1.2.2', version: '1.2.2' });
    expect(splitRef('registry:5000/team/api')).toEqual({ repository: 'registry:5000/team/api' });
  });
  it('says why when there is no baseline', () => {
    expect(previousRelease('team/api:1.0.0', tags)).toEqual({ reason: 'no tag of team/api below 1.0.0 in the daemon' });
    expect(previousRelease('team/api:latest', tags)).toEqual({ reason: 'the candidate team/api:latest has no semver tag to compare with' });
  });
});

const check = (id: CheckResult['id'], status: CheckResult['status'], evidence: Record<string, unknown> = {}): CheckResult => ({ id, title: id, status, message: `${id} ${status}`, evidence, durationMs: 0 });
const report = (sizeBytes: number, checks: CheckResult[]): AuditReport => ({
  target: 't',
  image: { id: 'sha256:x', tags: [], sizeBytes },
  checks,
  summary: { pass: 0, fail: 0, warn: 0, skip: 0, error: 0, waived: 0 },
  durationMs: 1,
});
const timed = (shutdownMs: number, healthyMs: number) => [
  check('sigterm-shutdown', 'pass', { exitedAfterMs: shutdownMs }),
  check('healthcheck', 'pass', { timeline: [{ status: 'starting', atMs: 10 }, { status: 'healthy', atMs: healthyMs }] }),
];

describe('confirmTimings', () => {
  const first = { baseline: report(1, timed(200, 1700)), candidate: report(1, timed(200, 4500)) };

  it('dismisses a time-to-healthy growth of one pair that more runs do not show, measuring both sides alternately', async () => {
    const suspected = findRegressions(first.baseline, first.candidate, DEFAULT_GATE);
    expect(suspected.map((r) => r.kind)).toEqual(['healthy']);
    const calls: string[] = [];
    const healthy = { baseline: [1600, 1800], candidate: [1900, 1750] };
    const { regressions, remeasured } = await confirmTimings(suspected, first, async (side, only) => {
      calls.push(`${side} ${only.join(',')}`);
      return report(1, timed(200, healthy[side].shift()!));
    }, DEFAULT_GATE);
    expect(calls).toEqual(['baseline healthcheck', 'candidate healthcheck', 'baseline healthcheck', 'candidate healthcheck']);
    expect(regressions).toEqual([]);
    expect(remeasured).toEqual([
      {
        kind: 'healthy',
        baseline: [1700, 1600, 1800],
        candidate: [4500, 1900, 1750],
        confirmed: false,
        note: "time to healthy grew from 1.7 s to 4.5 s on the first runs, but not in the medians of 3 and 3 runs (1.7 s and 1.9 s): the host's noise, not a regression",
      },
    ]);
  });

  it('confirms a real slowdown with the medians, and keeps the other regressions as they were', async () => {
    const slower = { baseline: report(1, timed(200, 1700)), candidate: report(1e9, timed(4000, 1800)) };
    const suspected = findRegressions(slower.baseline, slower.candidate, DEFAULT_GATE);
    expect(suspected.map((r) => r.kind)).toEqual(['size', 'shutdown']);
    const shutdown = { baseline: [150, 250], candidate: [3900, 4100] };
    const { regressions, remeasured } = await confirmTimings(suspected, slower, async (side, only) => {
      expect(only).toEqual(['sigterm-shutdown']);
      return report(1, timed(shutdown[side].shift()!, 1700));
    }, DEFAULT_GATE);
    expect(regressions.map((r) => r.kind)).toEqual(['size', 'shutdown']);
    expect(regressions[1].message).toBe(
      'shutdown time grew from 200 ms to 4.0 s (+1900.0%, +3.8 s; allowed 50% and 1.0 s; medians of 3 and 3 runs: baseline 200 ms, 150 ms, 250 ms; candidate 4.0 s, 3.9 s, 4.1 s)',
    );
    expect(remeasured[0]).toMatchObject({ kind: 'shutdown', confirmed: true });
  });

  it('measures nothing again when no timing regressed', async () => {
    const suspected = findRegressions(report(1, []), report(2e9, []), DEFAULT_GATE);
    const { regressions, remeasured } = await confirmTimings(suspected, first, async () => {
      throw new Error('not to be called');
    }, DEFAULT_GATE);
    expect(regressions).toEqual(suspected);
    expect(remeasured).toEqual([]);
  });

  it('takes the median of what was measured (a run whose check gave no number is left out)', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1])).toBe(3);
    expect(median([])).toBeUndefined();
  });
});

describe('findRegressions', () => {
  it('flags size growth above the percentage', () => {
    const found = findRegressions(report(200e6, []), report(221e6, []), DEFAULT_GATE);
    expect(found).toEqual([{ kind: 'size', message: 'image grew from 200.0 MB to 221.0 MB (+10.5%, +21.0 MB; allowed 10%)' }]);
    expect(findRegressions(report(200e6, []), report(219e6, []), DEFAULT_GATE)).toEqual([]);
  });
  it('flags size growth above an absolute bound when one is set', () => {
    expect(findRegressions(report(200e6, []), report(206e6, []), { ...DEFAULT_GATE, maxSizeGrowthBytes: 5e6 })).toHaveLength(1);
  });
  it('flags a check that passed on the baseline and fails now, not one that was already failing', () => {
    const before = report(1, [check('healthcheck', 'pass'), check('init-pid1', 'fail')]);
    const after = report(1, [check('healthcheck', 'fail'), check('init-pid1', 'fail')]);
    expect(findRegressions(before, after, DEFAULT_GATE).map((r) => r.checkId)).toEqual(['healthcheck']);
  });
  it('flags timings only past both the percentage and the absolute bound', () => {
    expect(findRegressions(report(1, timed(200, 1000)), report(1, timed(900, 1500)), DEFAULT_GATE)).toEqual([]);
    const slow = findRegressions(report(1, timed(200, 1000)), report(1, timed(4000, 5000)), DEFAULT_GATE);
    expect(slow.map((r) => r.kind)).toEqual(['shutdown', 'healthy']);
    expect(slow[0].message).toBe('shutdown time grew from 200 ms to 4.0 s (+1900.0%, +3.8 s; allowed 50% and 1.0 s)');
  });
});

describe('gate() with a fake port', () => {
  // size-budget needs only the image: no container runs, so these gate on sizes alone.
  const images = { 'team/api:1.3.0': { sizeBytes: 221e6 }, 'team/api:1.2.0': { sizeBytes: 200e6 }, 'team/api:1.1.0': { sizeBytes: 150e6 } };

  it('finds the previous release itself and refuses a candidate that grew past the threshold', async () => {
    const docker = fakeDocker({ images });
    const result = await gate('team/api:1.3.0', { baseline: 'auto', only: ['size-budget'] }, { docker });
    expect(result.baseline).toMatchObject({ ref: 'team/api:1.2.0', how: 'auto' });
    expect(result.regressions).toEqual([{ kind: 'size', message: 'image grew from 200.0 MB to 221.0 MB (+10.5%, +21.0 MB; allowed 10%)' }]);
    expect(result.verdict).toBe('do-not-ship');
    expect(gateExitCode(result)).toBe(1);
  });

  it('ships a candidate that stayed within the thresholds of a given baseline', async () => {
    const docker = fakeDocker({ images });
    const result = await gate('team/api:1.2.0', { baseline: 'team/api:1.1.0', only: ['size-budget'], thresholds: { maxSizeGrowthPercent: 50 } }, { docker });
    expect(result.baseline).toMatchObject({ ref: 'team/api:1.1.0', how: 'given' });
    expect(result).toMatchObject({ verdict: 'ship', regressions: [], failures: [] });
    expect(gateExitCode(result)).toBe(0);
  });

  it("gates on the candidate's own checks when there is no baseline, saying so", async () => {
    const docker = fakeDocker({ images });
    const result = await gate('team/api:1.3.0', { only: ['size-budget'], sizeBudget: '210MB' }, { docker });
    expect(result.baselineNote).toBe("no baseline given: gating on the candidate's own checks only");
    expect(result.failures).toEqual([{ id: 'size-budget', message: expect.stringMatching(/^221.0 MB against a budget of 210.0 MB/) }]);
    expect(gateExitCode(result)).toBe(1);
  });

  it('exits 3 when the candidate could not be fully audited (an image with nothing to run)', async () => {
    const docker = fakeDocker({ images: { 'team/api:2.0.0': { config: { entrypoint: [], cmd: [] } } } });
    const result = await gate('team/api:2.0.0', { only: ['sigterm-shutdown'] }, { docker });
    expect(result.candidate.summary.error).toBe(1);
    expect(gateExitCode(result)).toBe(3);
  });
});

describe('gateExitCode', () => {
  const gated = (verdict: GateReport['verdict'], errors: number): GateReport => ({
    verdict,
    candidate: { ...report(1, []), summary: { pass: 0, fail: 0, warn: 0, skip: 0, error: errors, waived: 0 } },
    metrics: { candidate: { sizeBytes: 1, byKey: {} } },
    regressions: [],
    failures: [],
    thresholds: DEFAULT_GATE,
    durationMs: 1,
  });
  it('is 0 to ship, 1 not to ship, and 3 whenever a check of the candidate could not run', () => {
    expect(gateExitCode(gated('ship', 0))).toBe(0);
    expect(gateExitCode(gated('do-not-ship', 0))).toBe(1);
    expect(gateExitCode(gated('ship', 1))).toBe(3);
    expect(gateExitCode(gated('do-not-ship', 2))).toBe(3);
  });
});
