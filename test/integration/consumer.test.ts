// A real consumer: `npm pack` this project, install the tarball into a fresh project outside the repo
// (dependencies from the npm registry), write a three-line test with describeImage, run that
// project's vitest, and typecheck a test that uses the matchers. Proves exports, types and the bins.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { SERVICE_DIR } from '../support/fixtures.js';
import { runVitest, type VitestRun } from '../support/vitest-run.js';
import { selectChecks } from '../../src/audit.js';

/** The checks that run without --deep: one test each. */
const DEFAULT_CHECKS = selectChecks().length;

const ROOT = path.resolve(__dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; devDependencies: Record<string, string> };
const sh = (cwd: string, cmd: string, args: string[]) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });

describe('node-image-audit installed from its npm pack tarball into a fresh project', () => {
  let project: string;
  let run: VitestRun;
  beforeAll(async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'image-audit-consumer-'));
    const packed = JSON.parse(sh(ROOT, 'npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work])) as Array<{ filename: string }>;
    project = path.join(work, 'consumer');
    mkdirSync(project);
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
    sh(project, 'npm', [
      'install',
      '--no-audit',
      '--no-fund',
      path.join(work, packed[0].filename),
      `vitest@${pkg.devDependencies.vitest.replace(/^\^/, '')}`,
      `typescript@${pkg.devDependencies.typescript}`,
      '@types/node@20',
    ]);
    writeFileSync(
      path.join(project, 'image.test.ts'),
      `import { describeImage } from 'node-image-audit/vitest';\n\ndescribeImage(process.env.SERVICE_DIR!, { buildArgs: { NODE_IMAGE: process.env.NODE_IMAGE! } });\n`,
    );
    writeFileSync(
      path.join(project, 'matchers.test.ts'),
      [
        `import { audit, type AuditReport } from 'node-image-audit';`,
        `import 'node-image-audit/vitest';`,
        `import { expect, it } from 'vitest';`,
        ``,
        `it('fits the size budget, by the typed matcher', async () => {`,
        `  const report: AuditReport = await audit(process.env.SERVICE_DIR!, { only: ['size-budget'], buildArgs: { NODE_IMAGE: process.env.NODE_IMAGE! } });`,
        `  expect(report).toFitSizeBudget('250MB');`,
        `  expect(report).not.toFitSizeBudget(1000);`,
        `}, 300_000);`,
        ``,
      ].join('\n'),
    );
    writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, types: ['node'], skipLibCheck: false } }),
    );
    run = await runVitest(project, [], { SERVICE_DIR, NODE_IMAGE: inject('nodeImage') });
  });

  it("runs describeImage's tests, one per default check, in the consumer's own vitest", () => {
    expect(run.code, run.output).toBe(0);
    const names = Object.keys(run.statuses);
    expect(names.filter((n) => /^[a-z0-9-]+: /.test(n))).toHaveLength(DEFAULT_CHECKS);
    expect(Object.values(run.statuses).every((s) => s === 'passed')).toBe(true);
    expect(run.json.numPassedTests).toBe(DEFAULT_CHECKS + 1);
  });

  it('typechecks a test that uses the matchers (exports and types resolve)', () => {
    let output = '';
    try {
      sh(project, 'npx', ['tsc', '-p', '.']);
    } catch (err) {
      output = `${(err as { stdout?: string }).stdout ?? ''}${(err as { stderr?: string }).stderr ?? ''}` || String(err);
    }
    expect(output).toBe('');
  });

  it('rejects a matcher that does not exist, so the types are real', () => {
    writeFileSync(path.join(project, 'wrong.test.ts'), `import 'node-image-audit/vitest';\nimport { expect } from 'vitest';\nexpect({}).toBeAGoodImage();\n`);
    let output = '';
    try {
      sh(project, 'npx', ['tsc', '-p', '.']);
    } catch (err) {
      output = String((err as { stdout?: string }).stdout);
    }
    expect(output).toContain(`Property 'toBeAGoodImage' does not exist`);
  });

  it('installs both bins', () => {
    expect(sh(project, 'npx', ['node-image-audit', '--version']).trim()).toBe(pkg.version);
    expect(sh(project, 'npx', ['image-audit', '--version']).trim()).toBe(pkg.version);
  });
});
