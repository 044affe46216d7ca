// The seed Dockerfile from shared/seed-dockerfile.md, reproduced: what does the tool say about it?
import { beforeAll, describe, expect, it } from 'vitest';
import { BuildFailedError } from '../../src/errors.js';
import type { AuditReport } from '../../src/types.js';
import { auditFixture, check } from '../support/fixtures.js';

describe('the seed Dockerfile as written', () => {
  it('fails to build at `npm run build`, quoting the step and its output (first break)', async () => {
    const error = await auditFixture('seed').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(BuildFailedError);
    const failed = error as BuildFailedError;
    expect(failed.exitCode).toBe(3);
    expect(failed.failingStep).toMatch(/RUN npm run build$/);
    expect(failed.message).toMatch(/^Build failed at .*RUN npm run build: .*exit code: 127/);
    expect(failed.output).toContain('sh: 1: fake-tsc: not found');
  });
});

describe('the seed Dockerfile with its build mended', () => {
  let report: AuditReport;
  beforeAll(async () => {
    // The image's own deadline is 165 s (40 s start period, 3 × 30 s retries): 50 s of it shows the break.
    report = await auditFixture('seed-build-fixed', { healthTimeout: '50s' });
  });
  it('fails healthcheck: healthcheck.js was never copied (second break), after the 40 s start period', () => {
    const c = check(report, 'healthcheck');
    expect(c.status).toBe('fail');
    expect(c.message).toContain(`Error: Cannot find module '/app/healthcheck.js'`);
    expect(c.message).toContain('--health-timeout (50.0 s)');
    expect(c.evidence.configured).toMatchObject({ startPeriodMs: 40_000, timeoutMs: 3000 });
  });
  it('passes what the seed gets right: non-root appuser, dumb-init, shutdown, no devDependencies, size', () => {
    expect(check(report, 'non-root-user').message).toContain('uid 1001 ("appuser")');
    for (const id of ['init-pid1', 'sigterm-shutdown', 'no-dev-dependencies', 'size-budget'] as const) {
      expect(check(report, id).status).toBe('pass');
    }
  });
});
