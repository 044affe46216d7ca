// no-dev-dependencies on bundled apps with no node_modules where they resolve packages from: an esbuild
// bundle (made on the host at test time with the esbuild devDependency) and a webpack bundle pass, an
// observed absence being an observation; the same bundle with a full `npm ci` beside it fails.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { audit } from '../../src/audit.js';
import { DockerodePort } from '../../src/docker/dockerode-port.js';
import type { AuditReport } from '../../src/types.js';
import { check } from '../support/fixtures.js';

const DEPS = path.resolve(__dirname, '../../fixtures/deps');
const docker = new DockerodePort();
const built: string[] = [];
const temps: string[] = [];

async function auditDir(dir: string, dockerfile: string): Promise<AuditReport> {
  const report = await audit({ kind: 'context', dir, dockerfile, buildArgs: { NODE_IMAGE: inject('nodeImage') } }, { only: ['no-dev-dependencies'] });
  built.push(report.image.id);
  return report;
}

/** fixtures/deps/esbuild-bundle copied to a temporary folder, its src/server.js bundled into out/server.js. */
function esbuildContext(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deps-esbuild-bundle-'));
  temps.push(dir);
  cpSync(path.join(DEPS, 'esbuild-bundle'), dir, { recursive: true });
  buildSync({
    absWorkingDir: dir,
    entryPoints: ['src/server.js'],
    bundle: true,
    platform: 'node',
    external: ['fast-native'],
    // The vendored packages stand for node_modules (nothing is installed on the host).
    nodePaths: [path.join(dir, 'vendor')],
    outfile: path.join(dir, 'out/server.js'),
    logLevel: 'error',
  });
  return dir;
}

afterAll(async () => {
  for (const id of built) await docker.removeImage(id).catch(() => undefined);
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

describe('an esbuild bundle at /app/server.js, no node_modules', () => {
  let clean: AuditReport;
  let leak: AuditReport;
  beforeAll(async () => {
    const dir = esbuildContext();
    [clean, leak] = await Promise.all([auditDir(dir, 'Dockerfile'), auditDir(dir, 'leak.Dockerfile')]);
  });
  it('passes no-dev-dependencies, saying where it looked, although the bundle names an optional package', () => {
    const c = check(clean, 'no-dev-dependencies');
    expect(c.status, c.message).toBe('pass');
    expect(c.message).toBe('no node_modules where the app resolves packages from (looked for /app/node_modules, /node_modules): nothing the app can require from the image is a devDependency');
    expect(c.evidence).toMatchObject({ entryScript: '/app/server.js', lookedFor: ['/app/node_modules', '/node_modules'], entryRequires: ['fast-native'], packageJson: '/app/package.json' });
  });
  it('fails no-dev-dependencies when a full `npm ci` left node_modules beside the bundle', () => {
    const c = check(leak, 'no-dev-dependencies');
    expect(c.status, c.message).toBe('fail');
    expect((c.evidence.leaked as Array<{ name: string; path: string }>).map((p) => [p.name, p.path])).toEqual([
      ['color-kit', '/app/node_modules/color-kit'],
      ['lint-tool', '/app/node_modules/lint-tool'],
    ]);
    expect(c.evidence).toMatchObject({ from: 'image: /app/package-lock.json', manifestFrom: 'image: /app/package.json' });
  });
});

describe('a webpack bundle started as `node .`, no node_modules', () => {
  let report: AuditReport;
  beforeAll(async () => {
    report = await auditDir(path.join(DEPS, 'webpack-bundle'), 'Dockerfile');
  });
  it('passes no-dev-dependencies, saying where it looked', () => {
    const c = check(report, 'no-dev-dependencies');
    expect(c.status, c.message).toBe('pass');
    expect(c.message).toBe(
      'no node_modules where the app resolves packages from (looked for /home/node/app/node_modules, /home/node/node_modules, /home/node_modules, /node_modules): nothing the app can require from the image is a devDependency',
    );
    expect(c.evidence).toMatchObject({ entryScript: '/home/node/app', manifestFrom: 'image: /home/node/app/package.json' });
    expect(c.evidence.notes).toContain('the entry /home/node/app is a folder: Node runs its package.json "main" or index.js');
  });
});
