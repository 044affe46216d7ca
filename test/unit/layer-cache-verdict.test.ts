// layer-cache: a rebuild in which nothing re-ran proves nothing (the change never reached the build),
// and the file to change is chosen under the ignore file the audit's build applied, handed to the check
// (BuiltContext): the check reaches nothing in src/target/.
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BuiltContext, CheckInput, ObserveContext } from '../../src/checks/check.js';
import { layerCache, type LayerCacheObservation } from '../../src/checks/layer-cache.js';

const run = (o: LayerCacheObservation) => layerCache.run({ observed: o } as unknown as CheckInput);
const instructions = [
  { file: 'Dockerfile', line: 4, instruction: 'COPY package.json package-lock.json ./' },
  { file: 'Dockerfile', line: 5, instruction: 'RUN npm ci --omit=dev' },
  { file: 'Dockerfile', line: 6, instruction: 'COPY . .' },
];

describe('the layer-cache verdict', () => {
  it('is an error when no step re-ran: the change did not reach the build', () => {
    const v = run({
      changedFile: 'server.js',
      ignoreFile: 'app.Dockerfile.dockerignore',
      rebuildMs: 900,
      instructions,
      steps: [
        { name: '[2/4] COPY package.json package-lock.json ./', cached: true },
        { name: '[3/4] RUN npm ci --omit=dev', cached: true },
        { name: '[4/4] COPY . .', cached: true },
      ],
    });
    expect(v).toMatchObject({
      status: 'error',
      message: 'changing server.js re-ran no step at all: the change did not reach the build (is it excluded by app.Dockerfile.dockerignore?), so whether the install stays cached was not observed',
    });
    expect(v.evidence).toMatchObject({ changedFile: 'server.js', cachedSteps: 3, reran: [] });
  });
  it('says to check the COPY when no ignore file was in play', () => {
    const v = run({ changedFile: 'src/a.js', instructions, steps: [{ name: '[3/4] RUN npm ci --omit=dev', cached: true }] });
    expect(v).toMatchObject({ status: 'error', message: expect.stringContaining('(is the file sent by a COPY?)') });
  });
  it('passes when the source COPY re-ran and the install stayed cached', () => {
    const v = run({ changedFile: 'src/server.js', rebuildMs: 1200, instructions, steps: [{ name: '[3/4] RUN npm ci --omit=dev', cached: true }, { name: '[4/4] COPY . .', cached: false }] });
    expect(v).toMatchObject({ status: 'pass', message: 'changing src/server.js kept 1 install step cached; the rebuild took 1.2 s (1 step re-ran)' });
  });
  it('still skips a build without an install step, and fails a re-run install', () => {
    expect(run({ changedFile: 'a.js', steps: [{ name: '[2/2] COPY . .', cached: true }] }).status).toBe('skip');
    expect(run({ changedFile: 'a.js', instructions, steps: [{ name: '[4/4] COPY . .', cached: false }, { name: '[5/5] RUN npm ci --omit=dev', cached: false }] }).status).toBe('fail');
  });
});

describe('the file to change, under the ignore file the audit applied', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'layer-cache-sent-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'src'));
  writeFileSync(path.join(dir, 'app.Dockerfile'), 'FROM node\nCOPY package.json ./\nRUN npm ci\nCOPY . .\nCMD ["node", "server.js"]\n');
  writeFileSync(path.join(dir, 'server.js'), 'a');
  writeFileSync(path.join(dir, 'src/server.js'), 'b');

  async function observe(built: BuiltContext): Promise<LayerCacheObservation> {
    const ctx = {
      target: { kind: 'context', dir },
      contextDir: dir,
      dockerfile: 'app.Dockerfile',
      builtContext: built,
      basics: { command: { entryScript: 'server.js' }, image: { config: { workingDir: '/app' } } },
      stage: async () => ({ all: instructions, copiedSources: ['package.json', '.'] }),
      docker: { removeImage: async () => undefined },
      signal: new AbortController().signal,
      settings: {},
    } as unknown as ObserveContext;
    return (await layerCache.observe!(ctx)) as LayerCacheObservation;
  }

  it('skips the entry script the ignore file excludes, changes a sent source in a copy, and rebuilds that copy', async () => {
    const rebuilt: Array<{ copyDir: string; changed: string }> = [];
    const built: BuiltContext = {
      ignoreFile: 'app.Dockerfile.dockerignore',
      isSent: (p) => p !== 'server.js',
      rebuild: async (copyDir, tag) => {
        rebuilt.push({ copyDir, changed: readFileSync(path.join(copyDir, 'src/server.js'), 'utf8') });
        expect(tag).toMatch(/^node-image-audit\/layer-cache-probe-/);
        return { imageId: 'sha256:x', builder: 'buildkit', steps: [{ name: '[2/3] RUN npm ci', cached: true }] } as never;
      },
    };
    const o = await observe(built);
    expect(o).toMatchObject({ changedFile: 'src/server.js', ignoreFile: 'app.Dockerfile.dockerignore' });
    expect(rebuilt).toHaveLength(1);
    expect(rebuilt[0].copyDir).not.toBe(dir);
    expect(rebuilt[0].changed).toMatch(/^b\n\/\/ image-audit layer-cache probe/);
    // The user's files are never touched, and the copy is gone.
    expect(readFileSync(path.join(dir, 'src/server.js'), 'utf8')).toBe('b');
    expect(existsSync(rebuilt[0].copyDir)).toBe(false);
  });
  it('skips, naming the ignore file, when it sends no source file', async () => {
    const o = await observe({ ignoreFile: '.dockerignore', isSent: () => false, rebuild: async () => expect.fail('no rebuild') });
    expect(o.skipped).toMatch(/no \.js\/\.ts source file is sent by a COPY of the build context \(with \.dockerignore\)/);
  });
});
