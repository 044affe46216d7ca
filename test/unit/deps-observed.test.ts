// no-dev-dependencies over file facts that can fail to be read: a package.json or lockfile that is
// absent (an observation), unreadable or unparsable (not observed, named with why), and an observed
// absence of node_modules (a pass, saying where it looked).
import { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { describe, expect, it } from 'vitest';
import type { CheckInput } from '../../src/checks/check.js';
import { noDevDependencies } from '../../src/checks/no-dev-dependencies.js';
import type { DockerPort, PathStat } from '../../src/docker/port.js';
import { analyseCommand } from '../../src/facts/command.js';
import { gatherDevDependencies } from '../../src/facts/deps-gather.js';
import type { ImageBasics } from '../../src/facts/image-facts.js';
import { lentChunks } from '../support/lent-chunks.js';

const BOM = '\ufeff';
const DAEMON = 'Error response from daemon: an unexpected failure';

/**
 * A never-started container's files: path → content, 'dir' for a folder, { link } for a symlink (the
 * daemon's stat is an lstat and reports the resolved target). Paths in `failing` fail every read.
 */
function fakeImage(files: Record<string, string | { link: string }>, failing: string[] = []) {
  const fails = (p: string) => failing.some((f) => p === f || p.startsWith(`${f}/`));
  const kind = (p: string) => files[p];
  const port: Pick<DockerPort, 'statPath' | 'readFile' | 'archive'> = {
    async statPath(_id, p): Promise<PathStat | undefined> {
      if (fails(p)) throw new Error(DAEMON);
      const k = kind(p);
      if (k === undefined) return undefined;
      if (typeof k === 'object') return { name: p, sizeBytes: 0, isDirectory: false, linkTarget: k.link };
      return { name: p, sizeBytes: 0, isDirectory: k === 'dir', linkTarget: '' };
    },
    async readFile(_id, p) {
      if (fails(p)) throw new Error(DAEMON);
      const k = kind(p);
      return typeof k === 'string' && k !== 'dir' ? Buffer.from(k) : undefined;
    },
    async archive(_id, p) {
      if (fails(p)) throw new Error(DAEMON);
      if (kind(p) === undefined) return undefined;
      const pack = tarStream.pack();
      const base = p.slice(0, p.lastIndexOf('/') + 1);
      for (const [file, content] of Object.entries(files)) {
        if (!file.startsWith(`${p}/`) || content === 'dir') continue;
        if (typeof content === 'string') pack.entry({ name: file.slice(base.length) }, content);
        else pack.entry({ name: file.slice(base.length), type: 'symlink', linkname: content.link });
      }
      pack.finalize();
      return lentChunks(Readable.from(pack));
    },
  };
  return port as DockerPort;
}

const basicsOf = (cmd: string[], workingDir = '/app', env: string[] = []) =>
  ({ image: { config: { workingDir, env } }, command: analyseCommand([], cmd) }) as unknown as ImageBasics;
const NODE_INDEX = basicsOf(['node', 'index.js']);

async function judge(files: Record<string, string | { link: string }>, options: { failing?: string[]; basics?: ImageBasics } = {}) {
  const dev = await gatherDevDependencies(fakeImage(files, options.failing), 'c', options.basics ?? NODE_INDEX, undefined);
  return noDevDependencies.run({ basics: options.basics ?? NODE_INDEX, files: { user: { configured: '', notes: [] }, hasPasswd: true, devDependencies: dev } } as unknown as CheckInput);
}

const manifest = JSON.stringify({ name: 'app', version: '1.0.0', dependencies: { express: '4' }, devDependencies: { jest: '29' } });
const tree = {
  '/app': 'dir',
  '/app/index.js': 'require("express")',
  '/app/node_modules': 'dir',
  '/app/node_modules/express/package.json': JSON.stringify({ name: 'express', version: '4.0.0' }),
};
const jest = {
  '/app/node_modules/jest/package.json': JSON.stringify({ name: 'jest', version: '29.0.0' }),
  '/app/node_modules/jest/index.js': 'x'.repeat(5000),
};
const stray = { '/app/node_modules/stray/package.json': JSON.stringify({ name: 'stray', version: '1.0.0' }) };
const npmLock = (devNames: string[], prodNames: string[]) =>
  JSON.stringify({
    lockfileVersion: 3,
    packages: {
      '': { name: 'app' },
      ...Object.fromEntries(prodNames.map((n) => [`node_modules/${n}`, { version: n === 'express' ? '4.0.0' : '1.0.0' }])),
      ...Object.fromEntries(devNames.map((n) => [`node_modules/${n}`, { version: n === 'jest' ? '29.0.0' : '1.0.0', dev: true }])),
    },
  });

describe("the app's package.json", () => {
  it('is read through a UTF-8 byte-order mark, as Node and npm read it: a leaked devDependency fails', async () => {
    const v = await judge({ ...tree, ...jest, '/app/package.json': BOM + manifest });
    expect(v.status).toBe('fail');
    expect(v.message).toMatch(/^1 dev-only package is installed in \/app\/node_modules \(.+\): jest$/);
    expect(v.evidence.manifestFrom).toBe('image: /app/package.json');
  });
  it('is an error naming the file and the parse error when it is not JSON, never a skip', async () => {
    const v = await judge({ ...tree, ...jest, '/app/package.json': '{ "name": "app", }' });
    expect(v.status).toBe('error');
    expect(v.message).toMatch(/^could not read the app's package\.json: \/app\/package\.json is not valid JSON: /);
    expect(v.evidence.notObserved).toMatch(/^\/app\/package\.json is not valid JSON: .*(Unexpected|Expected)/);
  });
  it('is an error, not an absence, when reading it fails twice', async () => {
    const port = fakeImage({ ...tree, ...jest, '/app/package.json': manifest });
    const read = port.readFile.bind(port);
    port.readFile = async (id, p, o) => (p === '/app/package.json' ? Promise.reject(new Error(DAEMON)) : read(id, p, o));
    const dev = await gatherDevDependencies(port, 'c', NODE_INDEX, undefined);
    const v = noDevDependencies.run({ basics: NODE_INDEX, files: { user: { configured: '', notes: [] }, hasPasswd: true, devDependencies: dev } } as unknown as CheckInput);
    expect(v.status).toBe('error');
    expect(v.message).toBe(`could not read the app's package.json: reading /app/package.json: ${DAEMON}`);
  });
  it('is not taken from a parent folder when the stat of the nearer one failed', async () => {
    const files = { ...tree, ...jest, '/package.json': manifest };
    const dev = await gatherDevDependencies(fakeImage(files, ['/app/package.json']), 'c', NODE_INDEX, undefined);
    expect(dev.manifest).toEqual({ ok: false, why: `the app's package.json is not known: stat /app/package.json: ${DAEMON}` });
  });
  it('is an observed absence when there is none: judged by the lockfile alone', async () => {
    const v = await judge({ ...tree, ...jest, '/app/package-lock.json': npmLock(['jest'], ['express']) });
    expect(v.status).toBe('fail');
    expect(v.evidence.from).toBe('image: /app/package-lock.json');
    expect(v.evidence.packageJsonNotRead).toBeUndefined();
  });
});

describe('a package.json inside node_modules', () => {
  it('is read through a byte-order mark: its dependencies are reached, not extraneous', async () => {
    const files = {
      ...tree,
      '/app/package.json': manifest,
      '/app/node_modules/express/package.json': BOM + JSON.stringify({ name: 'express', version: '4.0.0', dependencies: { qs: '6' } }),
      '/app/node_modules/qs/package.json': JSON.stringify({ name: 'qs', version: '6.0.0' }),
    };
    const v = await judge(files);
    expect(v.status, v.message).toBe('pass');
    expect(v.message).toBe("all 2 packages in /app/node_modules are required by the app's production dependencies (no lockfile: the devDependencies closure in the image)");
  });
  it('that does not parse is named in the evidence', async () => {
    const files = { ...tree, '/app/package.json': manifest, '/app/node_modules/express/package.json': '{ nope' };
    const v = await judge(files);
    expect((v.evidence.notes as string[]).some((n) => n.startsWith('/app/node_modules/express/package.json is not valid JSON: '))).toBe(true);
  });
});

describe('the lockfile', () => {
  it('is read through a byte-order mark', async () => {
    const v = await judge({ ...tree, ...jest, '/app/package.json': manifest, '/app/package-lock.json': BOM + npmLock(['jest'], ['express']) });
    expect(v.status).toBe('fail');
    expect(v.evidence).toMatchObject({ from: 'image: /app/package-lock.json', devOnlyCount: 1 });
  });
  it('that does not parse is an error when the verdict depends on it (packages nothing requires may be dev-only)', async () => {
    const v = await judge({ ...tree, ...stray, '/app/package.json': manifest, '/app/package-lock.json': '{"lockfileVersion": 3,' });
    expect(v.status).toBe('error');
    expect(v.message).toMatch(/^1 package in \/app\/node_modules that the app never requires may be dev-only, and the lockfile could not be read: image: \/app\/package-lock\.json is not valid JSON: /);
  });
  it('that does not parse is an error when there is no package.json to judge by', async () => {
    const v = await judge({ ...tree, ...jest, '/app/package-lock.json': 'lockfileVersion: nonsense {' });
    expect(v.status).toBe('error');
    expect(v.message).toMatch(/^could not read the lockfile: image: \/app\/package-lock\.json is not valid JSON: /);
  });
  it('that does not parse still lets a leak found through package.json fail, and is named in the evidence', async () => {
    const v = await judge({ ...tree, ...jest, '/app/package.json': manifest, '/app/package-lock.json': '<<<<<<< HEAD' });
    expect(v.status).toBe('fail');
    expect(v.evidence.lockfileNotRead).toMatch(/^image: \/app\/package-lock\.json is not valid JSON: /);
  });
  it('that does not parse is not silently replaced by the next candidate', async () => {
    const files = { ...tree, ...stray, '/app/package.json': manifest, '/app/yarn.lock': '%%% not a lockfile %%%', '/package-lock.json': npmLock([], ['express', 'stray']) };
    const dev = await gatherDevDependencies(fakeImage(files), 'c', NODE_INDEX, undefined);
    expect(dev.lockfile).toEqual({ ok: false, why: 'image: /app/yarn.lock could not be read as a yarn lockfile: no entry could be read' });
  });
  it('pnpm-lock.yaml without a lockfileVersion is not a lockfile', async () => {
    const files = { ...tree, ...stray, '/app/package.json': manifest, '/app/pnpm-lock.yaml': 'hello: world\n' };
    const v = await judge(files);
    expect(v.status).toBe('error');
    expect(v.evidence.notObserved).toBe('image: /app/pnpm-lock.yaml could not be read as a pnpm lockfile: no lockfileVersion');
  });
  it('whose read fails twice is not observed, naming it', async () => {
    const files = { ...tree, ...stray, '/app/package.json': manifest, '/app/package-lock.json': npmLock([], ['express']) };
    const v = await judge(files, { failing: ['/app/package-lock.json'] });
    expect(v.status).toBe('error');
    expect(v.evidence.notObserved).toMatch(/^(image: \/app\/package-lock\.json: reading \/app\/package-lock\.json|the lockfile is not known: stat \/app\/package-lock\.json): Error response from daemon/);
  });
});

describe('no node_modules where the app resolves packages from', () => {
  const esbuildBundle = [
    '"use strict";',
    'var __require = require;',
    '// vendor/web-lib/index.js',
    'var fast; try { fast = require("fast-native"); } catch {}',
    'console.log("bundled", fast);',
  ].join('\n');
  it('passes an esbuild bundle at /app/server.js with an optional external require, saying where it looked', async () => {
    const v = await judge({ '/app': 'dir', '/app/server.js': esbuildBundle, '/app/package.json': manifest }, { basics: basicsOf(['node', 'server.js']) });
    expect(v.status, v.message).toBe('pass');
    expect(v.message).toBe('no node_modules where the app resolves packages from (looked for /app/node_modules, /node_modules): nothing the app can require from the image is a devDependency');
    expect(v.evidence.lookedFor).toEqual(['/app/node_modules', '/node_modules']);
    expect(v.evidence.entryRequires).toEqual(['fast-native']);
    expect((v.evidence.notes as string[]).some((n) => n.startsWith('the entry names packages that nothing in the image provides: fast-native'))).toBe(true);
  });
  it('passes a bundle with no package.json or lockfile anywhere, naming it bundled', async () => {
    const v = await judge({ '/srv': 'dir', '/srv/dist': 'dir', '/srv/dist/main.js': '(()=>{var __webpack_require__={};})();' }, { basics: basicsOf(['node', 'dist/main.js'], '/srv') });
    expect(v).toMatchObject({
      status: 'pass',
      message: 'no node_modules where the app resolves packages from (looked for /srv/dist/node_modules, /srv/node_modules, /node_modules): nothing the app can require from the image is a devDependency; the entry /srv/dist/main.js requires no package (bundled)',
    });
  });
  it('passes `node .` (the entry is a folder)', async () => {
    const v = await judge({ '/app': 'dir', '/app/package.json': JSON.stringify({ main: 'dist/main.js', devDependencies: { webpack: '5' } }), '/app/dist': 'dir', '/app/dist/main.js': '' }, { basics: basicsOf(['node', '.']) });
    expect(v.status, v.message).toBe('pass');
  });
  it('is an error when a node_modules folder could not be looked at', async () => {
    const v = await judge({ '/app': 'dir', '/app/server.js': '' }, { basics: basicsOf(['node', 'server.js']), failing: ['/node_modules'] });
    expect(v).toMatchObject({ status: 'error', message: `could not tell where the app loads packages from: could not look at /node_modules: ${DAEMON}` });
  });
  it('is an error when the entry could not be read', async () => {
    const files = { '/app': 'dir', '/app/server.js': '' };
    const port = fakeImage(files);
    const read = port.readFile.bind(port);
    port.readFile = async (id, p, o) => (p === '/app/server.js' ? Promise.reject(new Error(DAEMON)) : read(id, p, o));
    const basics = basicsOf(['node', 'server.js']);
    const dev = await gatherDevDependencies(port, 'c', basics, undefined);
    const v = noDevDependencies.run({ basics, files: { user: { configured: '', notes: [] }, hasPasswd: true, devDependencies: dev } } as unknown as CheckInput);
    expect(v).toMatchObject({ status: 'error', message: `could not read the entry /app/server.js: reading /app/server.js: ${DAEMON}` });
  });
  it('skips when the entry is not in the image, or the command names none', async () => {
    expect(await judge({ '/app': 'dir' }, { basics: basicsOf(['node', 'server.js']) })).toMatchObject({ status: 'skip', message: expect.stringMatching(/^the entry \/app\/server\.js is not in the image/) });
    expect(await judge({ '/app': 'dir' }, { basics: basicsOf(['npm', 'start']) })).toMatchObject({ status: 'skip', message: expect.stringMatching(/^the image's command names no entry script/) });
  });
  it('skips when NODE_PATH names a folder that exists (Node loads packages from it too)', async () => {
    const basics = basicsOf(['node', 'server.js'], '/app', ['NODE_PATH=/deps/node_modules']);
    const v = await judge({ '/app': 'dir', '/app/server.js': '', '/deps/node_modules': 'dir' }, { basics });
    expect(v).toMatchObject({ status: 'skip', message: expect.stringContaining("the image's NODE_PATH names /deps/node_modules") });
  });
  it('follows a symlinked node_modules to its target and judges it', async () => {
    const files = {
      '/app': 'dir',
      '/app/index.js': '',
      '/app/package.json': manifest,
      '/app/node_modules': { link: '/deps/node_modules' },
      '/deps/node_modules': 'dir',
      '/deps/node_modules/express/package.json': JSON.stringify({ name: 'express', version: '4.0.0' }),
      '/deps/node_modules/jest/package.json': JSON.stringify({ name: 'jest', version: '29.0.0' }),
    };
    const v = await judge(files);
    expect(v.status, v.message).toBe('fail');
    expect((v.evidence.leaked as Array<{ path: string }>).map((p) => p.path)).toEqual(['/deps/node_modules/jest']);
  });
});

describe('the verdict over gathered facts', () => {
  it('skips an observed absence when the running app showed another entry than the command', async () => {
    const basics = basicsOf(['node', 'server.js']);
    const dev = await gatherDevDependencies(fakeImage({ '/app': 'dir', '/app/server.js': '' }), 'c', basics, undefined);
    const runtime = { pid: 7, ppid: 1, cwd: '/srv', argv: ['node', 'other/index.js'] };
    const v = noDevDependencies.run({ basics, lifecycle: { runtime }, files: { user: { configured: '', notes: [] }, hasPasswd: true, devDependencies: dev } } as unknown as CheckInput);
    expect(v).toMatchObject({ status: 'skip', message: expect.stringMatching(/^the running app's entry is \/srv\/other\/index\.js, not \/app\/server\.js/) });
  });
  it("is an error when a workspace package's own node_modules could not be read", async () => {
    const files = {
      '/repo': 'dir',
      '/repo/index.js': '',
      '/repo/package.json': JSON.stringify({ name: 'root', dependencies: { lib: '*' } }),
      '/repo/node_modules': 'dir',
      '/repo/node_modules/lib': { link: '/repo/packages/lib' },
      '/repo/packages/lib/package.json': JSON.stringify({ name: 'lib', version: '1.0.0', dependencies: { x: '1' } }),
      '/repo/packages/lib/node_modules': 'dir',
    };
    const port = fakeImage(files);
    const archive = port.archive.bind(port);
    port.archive = async (id, p, o) => (p === '/repo/packages/lib/node_modules' ? Promise.reject(new Error(DAEMON)) : archive(id, p, o));
    const basics = basicsOf(['node', 'index.js'], '/repo');
    const dev = await gatherDevDependencies(port, 'c', basics, undefined);
    const v = noDevDependencies.run({ basics, files: { user: { configured: '', notes: [] }, hasPasswd: true, devDependencies: dev } } as unknown as CheckInput);
    expect(v).toMatchObject({ status: 'error', message: `could not read the app's node_modules (tried twice): reading /repo/packages/lib/node_modules: ${DAEMON}` });
  });
});
