// layer-cache: a rebuild in which nothing re-ran proves nothing (the change never reached the build),
// and the file to change is chosen under the ignore file BuildKit uses: <Dockerfile>.dockerignore first.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CheckInput } from '../../src/checks/check.js';
import { layerCache, sentBy, type LayerCacheObservation } from '../../src/checks/layer-cache.js';

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

describe('the files a build is sent, for the file to change', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'layer-cache-sent-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'docker'));
  writeFileSync(path.join(dir, '.dockerignore'), 'node_modules\n');
  writeFileSync(path.join(dir, 'app.Dockerfile.dockerignore'), 'node_modules\nserver.js\n');
  writeFileSync(path.join(dir, 'docker/web.Dockerfile.dockerignore'), 'src/legacy\n');

  it('BuildKit: <Dockerfile>.dockerignore wins over .dockerignore', () => {
    const { isSent, ignoreFile } = sentBy(dir, 'app.Dockerfile', 'buildkit');
    expect(ignoreFile).toBe('app.Dockerfile.dockerignore');
    expect(isSent('server.js')).toBe(false);
    expect(isSent('src/server.js')).toBe(true);
  });
  it('BuildKit: next to a Dockerfile in a subfolder', () => {
    const { isSent, ignoreFile } = sentBy(dir, 'docker/web.Dockerfile', 'buildkit');
    expect(ignoreFile).toBe('docker/web.Dockerfile.dockerignore');
    expect(isSent('src/legacy/a.js')).toBe(false);
    expect(isSent('node_modules/x/index.js')).toBe(true);
  });
  it('BuildKit without one, and the classic builder always, use .dockerignore', () => {
    expect(sentBy(dir, 'Dockerfile', 'buildkit').ignoreFile).toBe('.dockerignore');
    const classic = sentBy(dir, 'app.Dockerfile', 'classic');
    expect(classic.ignoreFile).toBe('.dockerignore');
    expect(classic.isSent('server.js')).toBe(true);
    expect(classic.isSent('node_modules/x')).toBe(false);
  });
});
