import { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { noDevDependencies } from '../../src/checks/no-dev-dependencies.js';
import type { DockerPort, PathStat } from '../../src/docker/port.js';
import { analyseCommand } from '../../src/facts/command.js';
import { gatherDevDependencies } from '../../src/facts/deps-gather.js';
import type { ImageBasics } from '../../src/facts/image-facts.js';
import type { CheckInput } from '../../src/checks/check.js';
import { lentChunks } from '../support/lent-chunks.js';

/** A never-started container's files: paths → content ('dir' for folders). */
function fakeImage(files: Record<string, string>, archiveFailures: { count: number; message: string }) {
  const isDir = (p: string) => files[p] === 'dir';
  const port: Pick<DockerPort, 'statPath' | 'readFile' | 'archive'> = {
    async statPath(_id, p): Promise<PathStat | undefined> {
      return p in files ? { name: p, sizeBytes: 0, isDirectory: isDir(p), linkTarget: '' } : undefined;
    },
    async readFile(_id, p) {
      return p in files && !isDir(p) ? Buffer.from(files[p]) : undefined;
    },
    async archive(_id, p) {
      if (archiveFailures.count > 0) {
        archiveFailures.count--;
        throw new Error(archiveFailures.message);
      }
      const pack = tarStream.pack();
      const base = p.slice(0, p.lastIndexOf('/') + 1);
      for (const [file, content] of Object.entries(files)) {
        if (!file.startsWith(`${p}/`) || content === 'dir') continue;
        pack.entry({ name: file.slice(base.length) }, content);
      }
      pack.finalize();
      return lentChunks(Readable.from(pack));
    },
  };
  return port as DockerPort;
}

const basics = { image: { config: { workingDir: '/app' } }, command: analyseCommand(['docker-entrypoint.sh'], ['node', 'index.js']) } as unknown as ImageBasics;
const files = {
  '/app': 'dir',
  '/app/index.js': 'require("express")',
  '/app/package.json': JSON.stringify({ name: 'app', dependencies: { express: '4' }, devDependencies: { jest: '29' } }),
  '/app/node_modules': 'dir',
  '/app/node_modules/express/package.json': JSON.stringify({ name: 'express', version: '4.0.0' }),
  '/app/node_modules/jest/package.json': JSON.stringify({ name: 'jest', version: '29.0.0' }),
  '/app/node_modules/jest/index.js': 'x'.repeat(5000),
  '/app/node_modules/stray/package.json': JSON.stringify({ name: 'stray', version: '1.0.0' }),
};
const CHROOT = 'error processing tar file: Error after fallback to chroot: no such file or directory';
const run = (devDependencies: Awaited<ReturnType<typeof gatherDevDependencies>>) =>
  noDevDependencies.run({ basics, files: { user: { configured: '', notes: [] }, hasPasswd: true, devDependencies } } as unknown as CheckInput);

describe('no-dev-dependencies on a gathered tree', () => {
  it('retries a transient daemon error once and still judges: fail for jest, stray named as extraneous', async () => {
    const facts = await gatherDevDependencies(fakeImage(files, { count: 1, message: CHROOT }), 'c', basics, undefined);
    expect(facts.readErrors).toEqual([]);
    const v = run(facts);
    expect(v.status).toBe('fail');
    expect(v.message).toMatch(/^1 dev-only package is installed in \/app\/node_modules \(5\.\d+ kB\): jest; and 1 other package nothing requires \(.+\)$/);
    expect(v.evidence.extraneous).toEqual([{ name: 'stray', version: '1.0.0', path: '/app/node_modules/stray', sizeBytes: expect.any(Number) }]);
    expect(v.hint).toContain('--omit=dev');
  });
  it('is an error of this check only (not a thrown audit error) when the read fails twice', async () => {
    const facts = await gatherDevDependencies(fakeImage(files, { count: 2, message: CHROOT }), 'c', basics, undefined);
    const v = run(facts);
    expect(v.status).toBe('error');
    expect(v.message).toBe(`could not read the app's node_modules (tried twice): reading /app/node_modules: ${CHROOT}`);
  });
  it('warns with the size when only packages nothing requires are there', async () => {
    const { '/app/node_modules/jest/package.json': _j, '/app/node_modules/jest/index.js': _i, ...rest } = files;
    const v = run(await gatherDevDependencies(fakeImage(rest, { count: 0, message: '' }), 'c', basics, undefined));
    expect(v.status).toBe('warn');
    expect(v.message).toMatch(/^1 package in \/app\/node_modules that the app never requires \(.+\): stray; none is dev-only \(no lockfile: the devDependencies closure in the image\)$/);
    expect(v.hint).toBeDefined();
  });
  it('skips Yarn Plug\'n\'Play, saying it is not supported', async () => {
    const pnp = { '/app': 'dir', '/app/index.js': '', '/app/package.json': '{}', '/app/.pnp.cjs': '' };
    const v = run(await gatherDevDependencies(fakeImage(pnp, { count: 0, message: '' }), 'c', basics, undefined));
    expect(v).toMatchObject({ status: 'skip', message: "the app uses Yarn Plug'n'Play (/app/.pnp.cjs), which this check does not read yet: nothing to judge" });
  });
});
