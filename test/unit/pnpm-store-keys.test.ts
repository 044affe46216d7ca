import { describe, expect, it } from 'vitest';
import { devOnlyFromPnpmLock, pnpmStoreFolder, pnpmStoreKeys, splitPnpmKey } from '../../src/facts/lockfile.js';

describe('splitPnpmKey', () => {
  it('splits v9 keys of local folders at the first @ after the name', () => {
    expect(splitPnpmKey('color-kit@file:vendor/color-kit')).toEqual({ name: 'color-kit', version: 'file:vendor/color-kit' });
    expect(splitPnpmKey('@scope/kit@file:../kit')).toEqual({ name: '@scope/kit', version: 'file:../kit' });
  });
  it('still splits registry keys of every lockfile version', () => {
    expect(splitPnpmKey('jest@29.0.0(typescript@5.0.0)')).toEqual({ name: 'jest', version: '29.0.0' });
    expect(splitPnpmKey('/@babel/core@7.1.0')).toEqual({ name: '@babel/core', version: '7.1.0' });
    expect(splitPnpmKey('/debug/4.3.4_supports-color@8.0.0')).toEqual({ name: 'debug', version: '4.3.4' });
    expect(splitPnpmKey('/@types/node/20.1.0')).toEqual({ name: '@types/node', version: '20.1.0' });
  });
});

describe('pnpmStoreFolder', () => {
  it('names the .pnpm folder the way pnpm 9 does (seen in a real pnpm 9.15 install)', () => {
    expect(pnpmStoreFolder('color-kit@file:vendor/color-kit')).toBe('color-kit@file+vendor+color-kit');
    expect(pnpmStoreFolder('@scope/kit@1.0.0')).toBe('@scope+kit@1.0.0');
    expect(pnpmStoreFolder('jest@29.0.0(typescript@5.0.0)')).toBe('jest@29.0.0_typescript@5.0.0');
  });
  it('gives up where pnpm would hash the name', () => {
    expect(pnpmStoreFolder(`x@file:${'a'.repeat(130)}`)).toBeUndefined();
  });
});

describe('pnpmStoreKeys', () => {
  it('keys the dev-only local-folder packages of a pnpm 9 lockfile by their store folder', () => {
    const lock = [
      "lockfileVersion: '9.0'",
      'importers:',
      '  .:',
      '    dependencies:',
      '      web-lib:',
      '        specifier: file:vendor/web-lib',
      '        version: file:vendor/web-lib',
      '    devDependencies:',
      '      lint-tool:',
      '        specifier: file:vendor/lint-tool',
      '        version: file:vendor/lint-tool',
      'snapshots:',
      '  color-kit@file:vendor/color-kit: {}',
      '  lint-tool@file:vendor/lint-tool:',
      '    dependencies:',
      '      color-kit: file:vendor/color-kit',
      '  web-lib@file:vendor/web-lib: {}',
    ].join('\n');
    const set = devOnlyFromPnpmLock(lock);
    expect(set.packages.map((p) => p.name)).toEqual(['color-kit', 'lint-tool']);
    expect([...pnpmStoreKeys(set)].sort()).toEqual(['.pnpm/color-kit@file+vendor+color-kit', '.pnpm/lint-tool@file+vendor+lint-tool']);
  });
});
