// no-dev-dependencies on real yarn v1 and pnpm installs (fixtures/deps/yarn-v1, fixtures/deps/pnpm).
// There is no registry inside the builds: the fixture is copied to a temp dir and the package
// manager's CLI is packed there on the host (`npm pack`, which reaches the npm registry) as
// yarn.tgz / pnpm.tgz; the lockfiles are committed, generated on the host by that same CLI.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { audit } from '../../src/audit.js';
import { DockerodePort } from '../../src/docker/dockerode-port.js';
import type { AuditReport } from '../../src/types.js';
import { check } from '../support/fixtures.js';

const DEPS = path.resolve(__dirname, '../../fixtures/deps');
const docker = new DockerodePort();
const built: string[] = [];
const temps: string[] = [];

/** Copies fixtures/deps/<layout> to a temp dir and packs `spec` from the npm registry into it as <as>. */
function contextWithCli(layout: string, spec: string, as: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `deps-${layout}-`));
  temps.push(dir);
  cpSync(path.join(DEPS, layout), dir, { recursive: true });
  const out = execFileSync('npm', ['pack', spec, '--silent', '--pack-destination', dir], { encoding: 'utf8', timeout: 120_000 });
  renameSync(path.join(dir, out.trim().split('\n').pop()!), path.join(dir, as));
  return dir;
}

async function auditIn(dir: string, dockerfile: string): Promise<AuditReport> {
  const report = await audit(
    { kind: 'context', dir, dockerfile, buildArgs: { NODE_IMAGE: inject('nodeImage') } },
    { only: ['no-dev-dependencies'] },
  );
  built.push(report.image.id);
  return report;
}

afterAll(async () => {
  for (const id of built) await docker.removeImage(id);
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

type Leaked = { name: string; path: string; sizeBytes: number; devBy: string[] };
const leaked = (report: AuditReport) => check(report, 'no-dev-dependencies').evidence.leaked as Leaked[];

describe('yarn v1: `yarn install --frozen-lockfile` with file: packages', () => {
  let leak: AuditReport;
  let clean: AuditReport;
  beforeAll(async () => {
    const dir = contextWithCli('yarn-v1', 'yarn@1.22.22', 'yarn.tgz');
    leak = await auditIn(dir, 'leak.Dockerfile');
    clean = await auditIn(dir, 'clean.Dockerfile');
  }, 300_000);
  it('fails no-dev-dependencies naming the devDependency and its hoisted dependency, with their sizes', () => {
    const c = check(leak, 'no-dev-dependencies');
    expect(c.status).toBe('fail');
    expect(c.message).toMatch(/^2 dev-only packages are installed in \/home\/node\/app\/node_modules \(.+ kB\): color-kit, lint-tool$/);
    expect(leaked(leak).map((p) => [p.name, p.path, p.devBy])).toEqual([
      ['color-kit', '/home/node/app/node_modules/color-kit', ['package.json', 'lockfile']],
      ['lint-tool', '/home/node/app/node_modules/lint-tool', ['package.json', 'lockfile']],
    ]);
    for (const p of leaked(leak)) expect(p.sizeBytes).toBeGreaterThan(0);
    expect(c.evidence).toMatchObject({ from: 'image: /home/node/app/yarn.lock', productionCount: 2, installedCount: 4, extraneous: [] });
    expect(c.hint).toContain('yarn install --production');
    expect(c.location).toMatchObject({ file: 'leak.Dockerfile', line: 12 });
  });
  it('passes no-dev-dependencies after `yarn install --production`', () => {
    const c = check(clean, 'no-dev-dependencies');
    expect(c.status, c.message).toBe('pass');
    expect(c.message).toBe("all 2 packages in /home/node/app/node_modules are required by the app's production dependencies (image: /home/node/app/yarn.lock)");
    expect(c.evidence).toMatchObject({ installedCount: 2, leaked: [], extraneous: [] });
  });
});

describe('pnpm 9: `pnpm install --offline` with file: packages, isolated node-linker', () => {
  let leak: AuditReport;
  let clean: AuditReport;
  beforeAll(async () => {
    const dir = contextWithCli('pnpm', 'pnpm@9.15.9', 'pnpm.tgz');
    leak = await auditIn(dir, 'leak.Dockerfile');
    clean = await auditIn(dir, 'clean.Dockerfile');
  }, 300_000);
  it('fails no-dev-dependencies naming the dev packages at their real folders in node_modules/.pnpm', () => {
    const c = check(leak, 'no-dev-dependencies');
    expect(c.status).toBe('fail');
    expect(c.message).toMatch(/^2 dev-only packages are installed in \/home\/node\/app\/node_modules \(.+ kB\): color-kit, lint-tool$/);
    expect(leaked(leak).map((p) => [p.name, p.path, p.devBy])).toEqual([
      ['color-kit', '/home/node/app/node_modules/.pnpm/color-kit@file+vendor+color-kit/node_modules/color-kit', ['package.json', 'lockfile']],
      ['lint-tool', '/home/node/app/node_modules/.pnpm/lint-tool@file+vendor+lint-tool/node_modules/lint-tool', ['package.json', 'lockfile']],
    ]);
    for (const p of leaked(leak)) expect(p.sizeBytes).toBeGreaterThan(0);
    expect(c.evidence).toMatchObject({ from: 'image: /home/node/app/pnpm-lock.yaml', productionCount: 2, installedCount: 4, extraneous: [] });
    expect(c.evidence.crossCheck).toEqual({ from: 'image: /home/node/app/node_modules/.pnpm/lock.yaml', devOnlyCount: 2, agrees: true });
    expect(c.evidence.notes).toContain('/home/node/app/node_modules/.modules.yaml says pnpm installed the devDependencies (included.devDependencies: true)');
    expect(c.hint).toContain('pnpm install --prod');
    expect(c.location).toMatchObject({ file: 'leak.Dockerfile', line: 14 });
  });
  it('passes no-dev-dependencies after `pnpm install --prod`', () => {
    const c = check(clean, 'no-dev-dependencies');
    expect(c.status, c.message).toBe('pass');
    expect(c.message).toBe("all 2 packages in /home/node/app/node_modules are required by the app's production dependencies (image: /home/node/app/pnpm-lock.yaml)");
    expect(c.evidence).toMatchObject({ installedCount: 2, leaked: [], extraneous: [], notes: [] });
    expect(c.evidence.crossCheck).toEqual({ from: 'image: /home/node/app/node_modules/.pnpm/lock.yaml', devOnlyCount: 0, agrees: true });
  });
});
