import { describe, expect, it } from 'vitest';
import { devOnlyFromLockfile, devOnlyFromPackageJson } from '../../src/facts/lockfile.js';

describe('devOnlyFromLockfile (v2/v3 packages)', () => {
  const lock = {
    lockfileVersion: 3,
    packages: {
      '': { name: 'app', devDependencies: { jest: '^29' } },
      'node_modules/express': { version: '4.19.2' },
      'node_modules/jest': { version: '29.7.0', dev: true },
      'node_modules/jest/node_modules/chalk': { version: '4.1.2', dev: true },
      'node_modules/@types/node': { version: '20.1.0', dev: true },
      'node_modules/fsevents': { version: '2.3.3', dev: true, optional: true },
      'node_modules/esbuild': { version: '0.20.0', devOptional: true },
      'node_modules/typescript': { version: '5.4.0', peer: true },
      'packages/workspace-a': { version: '1.0.0', dev: true },
    },
  };
  const set = devOnlyFromLockfile(lock);
  it('lists dev: true entries, transitive and scoped ones included', () => {
    expect(set.packages.map((p) => p.path)).toEqual([
      'node_modules/@types/node',
      'node_modules/fsevents',
      'node_modules/jest',
      'node_modules/jest/node_modules/chalk',
    ]);
    expect(set.packages.find((p) => p.path === 'node_modules/jest/node_modules/chalk')).toMatchObject({ name: 'chalk', version: '4.1.2' });
    expect(set.packages.find((p) => p.path === 'node_modules/@types/node')?.name).toBe('@types/node');
  });
  it('leaves out devOptional, peer, production and workspace entries', () => {
    const paths = set.packages.map((p) => p.path);
    expect(paths).not.toContain('node_modules/esbuild');
    expect(paths).not.toContain('node_modules/typescript');
    expect(paths).not.toContain('node_modules/express');
    expect(paths).not.toContain('packages/workspace-a');
    expect(set).toMatchObject({ source: 'lockfile', lockfileVersion: 3 });
  });
});

describe('devOnlyFromLockfile (v1 dependencies)', () => {
  it('walks nested dependencies into nested node_modules paths', () => {
    const set = devOnlyFromLockfile({
      lockfileVersion: 1,
      dependencies: {
        mocha: { version: '10.0.0', dev: true, dependencies: { debug: { version: '4.3.4', dev: true } } },
        lodash: { version: '4.17.21' },
      },
    });
    expect(set.packages.map((p) => p.path)).toEqual(['node_modules/mocha', 'node_modules/mocha/node_modules/debug']);
  });
});

describe('devOnlyFromPackageJson', () => {
  it('takes direct devDependencies that are not also production ones', () => {
    const set = devOnlyFromPackageJson({ dependencies: { react: '18' }, devDependencies: { vitest: '4', react: '18' } });
    expect(set).toEqual({ source: 'package.json', packages: [{ path: 'node_modules/vitest', name: 'vitest' }] });
  });
});
