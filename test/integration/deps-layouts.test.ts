// no-dev-dependencies on the layouts of fixtures/deps: npm hoisting, an npm workspace, a bundle.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { audit } from '../../src/audit.js';
import { DockerodePort } from '../../src/docker/dockerode-port.js';
import type { AuditReport } from '../../src/types.js';
import { check } from '../support/fixtures.js';

const DEPS = path.resolve(__dirname, '../../fixtures/deps');
const docker = new DockerodePort();
const built: string[] = [];

async function auditLayout(layout: string, dockerfile: string): Promise<AuditReport> {
  const report = await audit(
    { kind: 'context', dir: path.join(DEPS, layout), dockerfile, buildArgs: { NODE_IMAGE: inject('nodeImage') } },
    { only: ['no-dev-dependencies'] },
  );
  built.push(report.image.id);
  return report;
}

afterAll(async () => {
  for (const id of built) await docker.removeImage(id);
});

const leakedNames = (report: AuditReport) => (check(report, 'no-dev-dependencies').evidence.leaked as Array<{ name: string; path: string }>).map((p) => [p.name, p.path]);

describe('npm with a hoisted transitive devDependency, full `npm ci`', () => {
  let report: AuditReport;
  beforeAll(async () => {
    report = await auditLayout('npm-hoisted', 'leak.Dockerfile');
  });
  it('fails no-dev-dependencies naming the direct and the hoisted transitive dev package', () => {
    const c = check(report, 'no-dev-dependencies');
    expect(c.status).toBe('fail');
    expect(c.message).toMatch(/^2 dev-only packages are installed in \/home\/node\/app\/node_modules \(.+\): color-kit, lint-tool$/);
    expect(leakedNames(report)).toEqual([
      ['color-kit', '/home/node/app/node_modules/color-kit'],
      ['lint-tool', '/home/node/app/node_modules/lint-tool'],
    ]);
    expect(c.evidence).toMatchObject({ from: 'image: /home/node/app/package-lock.json', productionCount: 2, installedCount: 4 });
    expect(c.evidence.crossCheck).toMatchObject({ from: 'image: /home/node/app/node_modules/.package-lock.json', agrees: true });
    for (const p of c.evidence.leaked as Array<{ sizeBytes: number }>) expect(p.sizeBytes).toBeGreaterThan(0);
    expect(c.hint).toContain('npm ci --omit=dev');
  });
});

describe('npm, `npm ci --omit=dev` in /opt/app/dist behind docker-entrypoint.sh (the Nx shape)', () => {
  let report: AuditReport;
  beforeAll(async () => {
    report = await auditLayout('npm-hoisted', 'clean.Dockerfile');
  });
  it('passes no-dev-dependencies, having found the app through the CMD the entrypoint script runs', () => {
    const c = check(report, 'no-dev-dependencies');
    expect(c.status).toBe('pass');
    expect(c.message).toBe("all 2 packages in /opt/app/dist/node_modules are required by the app's production dependencies (image: /opt/app/dist/package-lock.json)");
    expect(c.evidence).toMatchObject({ entryScript: '/opt/app/dist/main.js', nodeModules: '/opt/app/dist/node_modules', packageJson: '/opt/app/dist/package.json' });
  });
});

describe('an npm workspace: the app in packages/api, lockfile and node_modules at the root', () => {
  let leak: AuditReport;
  let clean: AuditReport;
  beforeAll(async () => {
    leak = await auditLayout('npm-workspace', 'leak.Dockerfile');
    clean = await auditLayout('npm-workspace', 'clean.Dockerfile');
  });
  it('fails no-dev-dependencies with a full `npm ci`: the root devDependency and its dependency', () => {
    const c = check(leak, 'no-dev-dependencies');
    expect(c.status).toBe('fail');
    expect(leakedNames(leak)).toEqual([
      ['color-kit', '/home/node/repo/node_modules/color-kit'],
      ['lint-tool', '/home/node/repo/node_modules/lint-tool'],
    ]);
    expect(c.evidence).toMatchObject({ from: 'image: /home/node/repo/package-lock.json', packageJson: '/home/node/repo/packages/api/package.json' });
  });
  it('passes no-dev-dependencies with `npm ci --omit=dev`, following the workspace links', () => {
    const c = check(clean, 'no-dev-dependencies');
    expect(c.status, c.message).toBe('pass');
    expect(c.evidence).toMatchObject({ nodeModules: '/home/node/repo/node_modules', extraneous: [] });
  });
});

describe('a bundled app (esbuild output, no node_modules)', () => {
  let bundled: AuditReport;
  let unbundled: AuditReport;
  beforeAll(async () => {
    bundled = await auditLayout('bundled', 'Dockerfile');
    unbundled = await auditLayout('bundled', 'unbundled.Dockerfile');
  });
  it('passes no-dev-dependencies: no node_modules, and the entry file requires no package', () => {
    expect(check(bundled, 'no-dev-dependencies')).toMatchObject({
      status: 'pass',
      message:
        'no node_modules where the app resolves packages from (looked for /home/node/app/dist/node_modules, /home/node/app/node_modules, /home/node/node_modules, /home/node_modules, /node_modules): nothing the app can require from the image is a devDependency; the entry /home/node/app/dist/main.js requires no package (bundled)',
    });
  });
  it('passes no-dev-dependencies when the entry requires packages and there is no node_modules: none can be loaded, so none is a devDependency', () => {
    const c = check(unbundled, 'no-dev-dependencies');
    expect(c.status).toBe('pass');
    expect(c.message).toBe(
      'no node_modules where the app resolves packages from (looked for /home/node/app/src/node_modules, /home/node/app/node_modules, /home/node/node_modules, /home/node_modules, /node_modules): nothing the app can require from the image is a devDependency',
    );
    expect(c.evidence).toMatchObject({ entryRequires: ['web-lib'] });
    expect(c.evidence.notes).toContainEqual(expect.stringMatching(/^the entry names packages that nothing in the image provides: web-lib /));
  });
});
