// The ready-made suite (suites/vitest.config.ts) run as a CI would run it, read from vitest's JSON reporter.
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { SERVICE_DIR } from '../support/fixtures.js';
import { runVitest, type VitestRun } from '../support/vitest-run.js';

const ROOT = path.resolve(__dirname, '../..');
const suite = (extra: NodeJS.ProcessEnv) =>
  runVitest(ROOT, ['--config', 'suites/vitest.config.ts'], {
    IMAGE_AUDIT_TARGET: path.relative(ROOT, SERVICE_DIR),
    IMAGE_AUDIT_BUILD_ARGS: `NODE_IMAGE=${inject('nodeImage')}`,
    ...extra,
  });

const TITLES = [
  'non-root-user: Runs as a non-root user',
  'init-pid1: An init (dumb-init) is PID 1, with the app below it',
  'sigterm-shutdown: Exits promptly and cleanly on the stop signal',
  'healthcheck: Declares a HEALTHCHECK that turns healthy',
  'no-dev-dependencies: No devDependencies in the image',
  'size-budget: Fits the image size budget',
  'zombie-reaping: PID 1 reaps orphaned processes',
  'secrets: Has no secrets in any layer or in the config',
  "engines-node: Runs on a Node version the app's engines.node accepts",
  'node-env: Runs with NODE_ENV=production',
];

describe('the suite on the compliant fixture', () => {
  let run: VitestRun;
  beforeAll(async () => {
    run = await suite({});
  });
  it('passes six tests, one per check, named by id and title', () => {
    expect(run.code, run.output).toBe(0);
    expect(run.statuses).toEqual(Object.fromEntries(TITLES.map((t) => [t, 'passed'])));
  });
});

describe('the suite on the dev-deps-leaked fixture with a 200MB budget', () => {
  let run: VitestRun;
  beforeAll(async () => {
    run = await suite({ IMAGE_AUDIT_DOCKERFILE: 'dev-deps-leaked.Dockerfile', IMAGE_AUDIT_SIZE_BUDGET: '200MB' });
  });
  it('fails exactly the no-dev-dependencies and size-budget tests', () => {
    expect(run.code).toBe(1);
    const failed = Object.entries(run.statuses).filter(([, s]) => s === 'failed').map(([t]) => t);
    expect(failed, JSON.stringify(run.failures, null, 2)).toEqual([TITLES[4], TITLES[5]]);
    expect(run.json.numPassedTests).toBe(TITLES.length - 2);
  });
  it('fails with the observed evidence, not a bare boolean', () => {
    expect(run.failures[TITLES[4]]).toContain('2 dev-only packages are installed in /opt/node_app/node_modules');
    expect(run.failures[TITLES[4]]).toMatch(/leaked: tsc-helper@0.3.1/);
    expect(run.failures[TITLES[5]]).toMatch(/against a budget of 200.0 MB/);
    expect(run.failures[TITLES[5]]).not.toContain('expected false to be true');
  });
});

describe('the suite with IMAGE_AUDIT_ONLY and a build that fails', () => {
  let run: VitestRun;
  beforeAll(async () => {
    run = await suite({ IMAGE_AUDIT_DOCKERFILE: 'seed.Dockerfile', IMAGE_AUDIT_ONLY: 'healthcheck' });
  });
  it('declares only the chosen check and fails it with the build error', () => {
    expect(Object.keys(run.statuses)).toEqual([TITLES[3]]);
    expect(run.failures[TITLES[3]]).toMatch(/could not audit .*: Build failed at .*RUN npm run build/);
    expect(run.failures[TITLES[3]]).toContain('sh: 1: fake-tsc: not found');
  });
});
