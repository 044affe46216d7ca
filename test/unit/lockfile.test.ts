import { describe, expect, it } from 'vitest';
import { devOnlyFromLockfile, devOnlyFromPackageJson, devOnlyFromPnpmLock, devOnlyFromYarnLock, devOnlyKeys } from '../../src/facts/lockfile.js';

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

describe('devOnlyKeys', () => {
  it('keeps a name@version only when no production entry has it', () => {
    const set = devOnlyFromLockfile({
      lockfileVersion: 3,
      packages: {
        'node_modules/debug': { version: '2.6.9' },
        'node_modules/jest/node_modules/debug': { version: '4.3.4', dev: true },
        'node_modules/mocha/node_modules/debug': { version: '2.6.9', dev: true },
      },
    });
    expect([...devOnlyKeys(set)]).toEqual(['debug@4.3.4']);
  });
});

describe('devOnlyFromPnpmLock', () => {
  it('reads pnpm 6 `dev: true` entries, peers stripped', () => {
    const set = devOnlyFromPnpmLock(`lockfileVersion: '6.0'\npackages:\n  /express@4.0.0:\n    dev: false\n  /jest@29.0.0(ts-node@10.0.0):\n    dev: true\n  /fsevents@2.3.3:\n    optional: true\n`);
    expect(set.packages.map((p) => [p.name, p.version])).toEqual([['jest', '29.0.0']]);
    expect([...devOnlyKeys(set)]).toEqual(['jest@29.0.0']);
  });
  it('reads pnpm 5 keys (/name/version_peer)', () => {
    const set = devOnlyFromPnpmLock(`lockfileVersion: 5.4\npackages:\n  /@types/node/20.1.0:\n    dev: true\n`);
    expect(set.packages.map((p) => [p.name, p.version])).toEqual([['@types/node', '20.1.0']]);
  });
  it('walks pnpm 9 importers through snapshots: the dev closure minus the production one', () => {
    const lock = [
      "lockfileVersion: '9.0'",
      'importers:',
      '  .:',
      '    dependencies:',
      '      express:',
      '        specifier: ^4',
      '        version: 4.0.0',
      '    devDependencies:',
      '      jest:',
      '        specifier: ^29',
      '        version: 29.0.0(typescript@5.0.0)',
      'snapshots:',
      '  express@4.0.0:',
      '    dependencies:',
      '      debug: 2.6.9',
      '  debug@2.6.9: {}',
      '  debug@4.3.4: {}',
      '  jest@29.0.0(typescript@5.0.0):',
      '    dependencies:',
      '      debug: 4.3.4',
      '      express: 4.0.0',
      '      string-width-cjs: string-width@4.2.3',
      '  string-width@4.2.3: {}',
    ].join('\n');
    const set = devOnlyFromPnpmLock(lock);
    expect([...devOnlyKeys(set)].sort()).toEqual(['debug@4.3.4', 'jest@29.0.0', 'string-width@4.2.3']);
  });
});

describe('devOnlyFromYarnLock', () => {
  const manifest = { dependencies: { express: '^4.0.0' }, devDependencies: { jest: '^29.0.0' } };
  it('takes the closure of devDependencies minus that of dependencies (yarn v1)', () => {
    const lock = [
      '# yarn lockfile v1',
      '',
      'express@^4.0.0:',
      '  version "4.0.0"',
      '  dependencies:',
      '    debug "2.6.9"',
      '',
      'debug@2.6.9:',
      '  version "2.6.9"',
      '',
      '"debug@^4.3.0", debug@^4.3.4:',
      '  version "4.3.4"',
      '',
      'jest@^29.0.0:',
      '  version "29.0.0"',
      '  dependencies:',
      '    debug "^4.3.0"',
      '    express "^4.0.0"',
    ].join('\n');
    const set = devOnlyFromYarnLock(lock, manifest);
    expect(set).toMatchObject({ kind: 'yarn', lockfileVersion: 1 });
    expect([...devOnlyKeys(set)].sort()).toEqual(['debug@4.3.4', 'jest@29.0.0']);
  });
  it('reads yarn berry lockfiles (npm: descriptors)', () => {
    const lock = [
      '__metadata:',
      '  version: 8',
      '',
      '"express@npm:^4.0.0":',
      '  version: 4.0.0',
      '',
      '"jest@npm:^29.0.0":',
      '  version: 29.0.0',
      '  dependencies:',
      '    express: "npm:^4.0.0"',
    ].join('\n');
    expect([...devOnlyKeys(devOnlyFromYarnLock(lock, manifest))]).toEqual(['jest@29.0.0']);
  });
});
