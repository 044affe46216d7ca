import { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { bareRequires } from '../../src/facts/deps-gather.js';
import { classify, computeReach } from '../../src/facts/deps-graph.js';
import { addArchive, emptyTree, packageDirOf, realpath, type InstalledTree, type Manifest } from '../../src/facts/deps-tree.js';
import { parseYaml } from '../../src/facts/deps-yaml.js';
import { behindEntrypointScript } from '../../src/facts/app-location.js';
import { analyseCommand } from '../../src/facts/command.js';
import { tarOf } from '../support/tar.js';

/** A tree as an archive read would leave it: package folders, symlinks, sizes. */
function tree(roots: string[], packages: Record<string, Manifest>, symlinks: Record<string, string> = {}): InstalledTree {
  const t = emptyTree();
  t.roots.push(...roots);
  for (const [dir, m] of Object.entries(packages)) {
    t.packages.set(dir, m);
    t.sizes.set(dir, 100);
  }
  for (const [link, target] of Object.entries(symlinks)) t.symlinks.set(link, target);
  return t;
}

describe('packageDirOf', () => {
  it('finds the package folder of a file, scoped, nested and in a pnpm store', () => {
    expect(packageDirOf('/app/node_modules/a/lib/x.js')).toBe('/app/node_modules/a');
    expect(packageDirOf('/app/node_modules/@s/b/package.json')).toBe('/app/node_modules/@s/b');
    expect(packageDirOf('/app/node_modules/a/node_modules/c/index.js')).toBe('/app/node_modules/a/node_modules/c');
    expect(packageDirOf('/app/node_modules/.pnpm/a@1.0.0/node_modules/a/index.js')).toBe('/app/node_modules/.pnpm/a@1.0.0/node_modules/a');
    expect(packageDirOf('/app/node_modules/.bin/tsc')).toBeUndefined();
  });
});

describe('computeReach and classify (npm, hoisted and nested)', () => {
  const t = tree(['/app/node_modules'], {
    '/app/node_modules/express': { name: 'express', version: '4.0.0', dependencies: { debug: '2' } },
    '/app/node_modules/debug': { name: 'debug', version: '2.6.9' },
    '/app/node_modules/jest': { name: 'jest', version: '29.0.0', dependencies: { debug: '4', chalk: '4' } },
    '/app/node_modules/jest/node_modules/debug': { name: 'debug', version: '4.3.4' },
    '/app/node_modules/chalk': { name: 'chalk', version: '4.1.2' },
    '/app/node_modules/left-over': { name: 'left-over', version: '1.0.0' },
  });
  const app = { name: 'app', dependencies: { express: '4' }, devDependencies: { jest: '29' } };
  const reach = computeReach(t, new Map(), '/app', app);
  it('reaches production packages the way Node resolves them', () => {
    expect([...reach.production].sort()).toEqual(['/app/node_modules/debug', '/app/node_modules/express']);
  });
  it('calls the devDependencies closure dev-only and the rest extraneous', () => {
    const c = classify(t, reach, undefined);
    expect(c.dev.map((p) => [p.path, p.devBy])).toEqual([
      ['/app/node_modules/chalk', ['package.json']],
      ['/app/node_modules/jest', ['package.json']],
      ['/app/node_modules/jest/node_modules/debug', ['package.json']],
    ]);
    expect(c.extraneous.map((p) => p.name)).toEqual(['left-over']);
    expect(c.installedCount).toBe(6);
  });
  it('matches the lockfile by name and version, never by path alone', () => {
    // The lockfile says debug@4.3.4 is dev-only: the production debug@2.6.9 at a hoisted path stays production.
    const c = classify(t, reach, new Set(['debug@4.3.4', 'left-over@1.0.0', 'debug@9.9.9']));
    expect(c.dev.find((p) => p.path === '/app/node_modules/jest/node_modules/debug')?.devBy).toEqual(['package.json', 'lockfile']);
    expect(c.dev.find((p) => p.name === 'left-over')?.devBy).toEqual(['lockfile']);
    expect(c.extraneous).toEqual([]);
    expect(c.dev.map((p) => p.path)).not.toContain('/app/node_modules/debug');
  });
});

describe('computeReach (pnpm: symlinks into .pnpm, siblings in the store)', () => {
  const store = '/app/node_modules/.pnpm';
  const t = tree(
    ['/app/node_modules'],
    {
      [`${store}/express@4.0.0/node_modules/express`]: { name: 'express', version: '4.0.0', dependencies: { debug: '2' } },
      [`${store}/debug@2.6.9/node_modules/debug`]: { name: 'debug', version: '2.6.9' },
      [`${store}/jest@29.0.0/node_modules/jest`]: { name: 'jest', version: '29.0.0' },
    },
    {
      '/app/node_modules/express': `${store}/express@4.0.0/node_modules/express`,
      '/app/node_modules/jest': `${store}/jest@29.0.0/node_modules/jest`,
      [`${store}/express@4.0.0/node_modules/debug`]: `${store}/debug@2.6.9/node_modules/debug`,
    },
  );
  it('resolves through the links and finds the dev package', () => {
    const reach = computeReach(t, new Map(), '/app', { dependencies: { express: '4' }, devDependencies: { jest: '29' } });
    expect([...reach.production].sort()).toEqual([`${store}/debug@2.6.9/node_modules/debug`, `${store}/express@4.0.0/node_modules/express`]);
    expect(classify(t, reach, undefined).dev.map((p) => p.name)).toEqual(['jest']);
  });
  it('realpath follows a link in the middle of a path', () => {
    expect(realpath(t, '/app/node_modules/express/package.json')).toBe(`${store}/express@4.0.0/node_modules/express/package.json`);
  });
});

describe('computeReach (workspace packages outside node_modules)', () => {
  const t = tree(['/repo/node_modules'], { '/repo/node_modules/web-lib': { name: 'web-lib', version: '1.0.0' } }, { '/repo/node_modules/@ws/lib': '/repo/packages/lib' });
  it('asks for the linked package.json, then walks its dependencies', () => {
    const externals = new Map<string, Manifest | null>();
    const first = computeReach(t, externals, '/repo/packages/api', { dependencies: { '@ws/lib': '1' } });
    expect(first.external).toEqual(['/repo/packages/lib']);
    externals.set('/repo/packages/lib', { name: '@ws/lib', dependencies: { 'web-lib': '1' } });
    const second = computeReach(t, externals, '/repo/packages/api', { dependencies: { '@ws/lib': '1' } });
    expect([...second.production].sort()).toEqual(['/repo/node_modules/web-lib', '/repo/packages/lib']);
    expect(second.unresolved).toEqual([]);
  });
});

describe('addArchive', () => {
  it('keeps package.json fields, symlinks, per-package sizes and hidden lockfiles from one tar', async () => {
    const pack = tarStream.pack();
    pack.entry({ name: 'node_modules/', type: 'directory' });
    pack.entry({ name: 'node_modules/a/package.json' }, JSON.stringify({ name: 'a', version: '1.0.0', dependencies: { b: '1' }, scripts: { x: 'y' } }));
    pack.entry({ name: 'node_modules/a/index.js' }, 'x'.repeat(1000));
    pack.entry({ name: 'node_modules/a/lib/package.json' }, '{"type":"module"}');
    pack.entry({ name: 'node_modules/.package-lock.json' }, '{"packages":{}}');
    pack.entry({ name: 'node_modules/b', type: 'symlink', linkname: '../vendor/b' });
    pack.finalize();
    const t = emptyTree();
    await addArchive(t, '/app/node_modules', Readable.from(pack));
    expect([...t.packages.entries()]).toEqual([['/app/node_modules/a', { name: 'a', version: '1.0.0', dependencies: { b: '1' } }]]);
    expect(t.sizes.get('/app/node_modules/a')).toBeGreaterThan(1000);
    expect(t.symlinks.get('/app/node_modules/b')).toBe('/app/vendor/b');
    expect(t.hidden.get('/app/node_modules/.package-lock.json')).toBe('{"packages":{}}');
    expect(t.roots).toEqual(['/app/node_modules']);
  });
  it('reads a symlink target longer than the header field (pnpm stores: pax linkpath) and refuses a cut-short tar', async () => {
    const deep = `.pnpm/${'very-long-package-name-'.repeat(6)}@1.0.0/node_modules/x`;
    const pack = tarStream.pack();
    pack.entry({ name: 'node_modules/x', type: 'symlink', linkname: deep });
    pack.finalize();
    const t = emptyTree();
    await addArchive(t, '/app/node_modules', Readable.from(pack));
    expect(t.symlinks.get('/app/node_modules/x')).toBe(`/app/node_modules/${deep}`);
    const bytes = await tarOf([{ name: 'node_modules/a/package.json', content: JSON.stringify({ name: 'a' }) }]);
    const cut = emptyTree();
    await expect(addArchive(cut, '/app/node_modules', Readable.from([bytes.subarray(0, 600)]))).rejects.toThrow('Unexpected end of data');
    expect(cut.roots).toEqual([]);
  });
});

describe('behindEntrypointScript', () => {
  it('reads the script behind the official docker-entrypoint.sh', () => {
    expect(behindEntrypointScript(analyseCommand(['docker-entrypoint.sh'], ['node', './dist/main.js'])).entryScript).toBe('./dist/main.js');
    expect(behindEntrypointScript(analyseCommand(['docker-entrypoint.sh'], ['dist/main.js'])).entryScript).toBe('dist/main.js');
    expect(behindEntrypointScript(analyseCommand(['dumb-init', '--', 'docker-entrypoint.sh'], ['node', 'a.js'])).entryScript).toBe('a.js');
    expect(behindEntrypointScript(analyseCommand([], ['npm', 'start'])).entryScript).toBeUndefined();
  });
});

describe('bareRequires', () => {
  it('lists package names, leaving out relative paths and built-ins', () => {
    const src = `const a = require('express'); const b = require("./local"); import x from '@scope/pkg/sub'; require('node:fs'); require('path'); var require_ms = __commonJS(); import('lazy')`;
    expect(bareRequires(src)).toEqual(['@scope/pkg', 'express', 'lazy']);
  });
});

describe('parseYaml', () => {
  it('reads block maps, quoted keys and lists', () => {
    const y = parseYaml(`lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n      express:\n        specifier: ^4\n        version: 4.0.0\npublicHoistPattern:\n  - '*eslint*'\nskipped: []\n'/a@1.0.0':\n  dev: true\n`);
    expect(y).toEqual({
      lockfileVersion: '9.0',
      importers: { '.': { dependencies: { express: { specifier: '^4', version: '4.0.0' } } } },
      publicHoistPattern: ['*eslint*'],
      skipped: [],
      '/a@1.0.0': { dev: 'true' },
    });
  });
});
