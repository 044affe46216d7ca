import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ObserveContext } from '../../src/checks/check.js';
import { secrets, type SecretsObservation } from '../../src/checks/secrets.js';
import type { DockerPort } from '../../src/docker/port.js';
import type { ImageBasics } from '../../src/facts/image-facts.js';
import { cacheDir } from '../../src/cache-dir.js';
import { historyKey, LayerScanCache, scannerKey } from '../../src/facts/layer-scan-cache.js';
import { tarOf } from '../support/tar.js';

const digest = (c: string) => `sha256:${c.repeat(64)}`;

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'layer-scan-cache-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('the layer scan cache', () => {
  it('is off with IMAGE_AUDIT_CACHE=off, moved by IMAGE_AUDIT_CACHE_DIR, else under XDG_CACHE_HOME or ~/.cache', () => {
    expect(cacheDir({ IMAGE_AUDIT_CACHE: 'off' })).toBeUndefined();
    expect(cacheDir({ IMAGE_AUDIT_CACHE: '0', IMAGE_AUDIT_CACHE_DIR: '/x' })).toBeUndefined();
    expect(cacheDir({ IMAGE_AUDIT_CACHE_DIR: '/x/y' })).toBe('/x/y');
    expect(cacheDir({ XDG_CACHE_HOME: '/xdg' })).toBe('/xdg/image-audit');
    expect(cacheDir({ XDG_CACHE_HOME: 'relative' })).toBe(path.join(os.homedir(), '.cache', 'image-audit'));
  });

  it('answers a clean layer it was told, and misses one that is absent, corrupt, of another scanner or another layer', async () => {
    const cache = new LayerScanCache(root);
    expect(await cache.cleanLayer(digest('a'))).toBeUndefined();
    await cache.rememberCleanLayer(digest('a'), { layerBytes: 1024, filesRead: 2 });
    expect(await cache.cleanLayer(digest('a'))).toEqual({ layerBytes: 1024, filesRead: 2 });
    const dir = path.join(root, 'secrets-scan');
    const file = path.join(dir, `layer-${scannerKey}-${'a'.repeat(64)}.json`);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ diffId: digest('a'), scanner: scannerKey, clean: true });

    writeFileSync(file, '{"diffId":');
    expect(await cache.cleanLayer(digest('a'))).toBeUndefined();
    writeFileSync(file, JSON.stringify({ diffId: digest('a'), scanner: 'older', clean: true, layerBytes: 1, filesRead: 0 }));
    expect(await cache.cleanLayer(digest('a'))).toBeUndefined();
    writeFileSync(file, JSON.stringify({ diffId: digest('b'), scanner: scannerKey, clean: true, layerBytes: 1, filesRead: 0 }));
    expect(await cache.cleanLayer(digest('a'))).toBeUndefined();
    writeFileSync(file, JSON.stringify({ diffId: digest('a'), scanner: scannerKey, clean: true, layerBytes: -1, filesRead: 0 }));
    expect(await cache.cleanLayer(digest('a'))).toBeUndefined();

    // Not a digest: neither read nor written (no path is made from it).
    await cache.rememberCleanLayer('../../etc/x', { layerBytes: 1, filesRead: 0 });
    expect(await cache.cleanLayer('../../etc/x')).toBeUndefined();
    expect(readdirSync(dir).every((n) => n.startsWith('layer-') && !n.endsWith('.tmp'))).toBe(true);
  });

  it("keeps an image's empty-layer flags only for the same history", async () => {
    const cache = new LayerScanCache(root);
    const key = historyKey(['FROM x', 'ENV A=1', undefined]);
    await cache.rememberImage(digest('c'), key, [false, true, false]);
    expect(await cache.emptyLayers(digest('c'), key)).toEqual([false, true, false]);
    expect(await cache.emptyLayers(digest('c'), historyKey(['FROM x', 'ENV A=2', '']))).toBeUndefined();
    expect(historyKey(['a', undefined])).toBe(historyKey(['a', '']));
  });

  it('stays within its bound, the least recently used first out', async () => {
    const cache = new LayerScanCache(root, 10);
    for (let i = 0; i < 14; i++) {
      await cache.rememberCleanLayer(`sha256:${i.toString(16).padStart(64, '0')}`, { layerBytes: i, filesRead: 0 });
      await new Promise((r) => setTimeout(r, 5));
    }
    await cache.prune();
    const left = readdirSync(path.join(root, 'secrets-scan'));
    expect(left.length).toBeLessThanOrEqual(10);
    expect(left.some((n) => n.endsWith(`${'d'.padStart(64, '0')}.json`))).toBe(true);
    expect(left.some((n) => n.endsWith(`${'0'.padStart(64, '0')}.json`))).toBe(false);
  });
});

describe('the secrets check with the cache', () => {

  async function image(withToken: boolean) {
    const base = await tarOf([{ name: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' }, { name: 'home/node/.npmrc', content: 'registry=https://r/\n' }]);
    const app = await tarOf([{ name: 'app/index.js', content: 'x' }, ...(withToken ? [{ name: 'app/.npmrc', content: '//r/:_authToken=abcdefgh12345678\n' }] : [])]);
    const history = [
      { created_by: 'ADD rootfs.tar /' },
      { created_by: 'ENV NODE_ENV=production', empty_layer: true },
      { created_by: 'RUN |1 NPM_TOKEN=s3cr3t-t0ken-value /bin/sh -c npm ci' },
    ];
    const exported = await tarOf([
      { name: 'l1/layer.tar', content: base },
      { name: 'l2/layer.tar', content: app },
      { name: 'cfg.json', content: JSON.stringify({ history }) },
      { name: 'manifest.json', content: JSON.stringify([{ Config: 'cfg.json', Layers: ['l1/layer.tar', 'l2/layer.tar'] }]) },
    ]);
    const basics = {
      image: { id: digest(withToken ? 'e' : 'f'), tags: [], sizeBytes: 1000, layers: [digest('1'), digest(withToken ? '3' : '2')], config: { env: ['NODE_ENV=production', 'API_TOKEN=abc123abc123'] } },
      history: [...history].reverse().map((h) => ({ createdBy: h.created_by, sizeBytes: 0, created: '' })),
      command: {},
    } as unknown as ImageBasics;
    let exports = 0;
    const docker = { exportImage: async () => (exports++, Readable.from([exported])) } as unknown as DockerPort;
    const ctx = { docker, basics, imageRef: basics.image.id, target: { kind: 'image', ref: 'x' }, signal: new AbortController().signal, settings: { layerCacheDir: root } } as unknown as ObserveContext;
    const judge = async () => {
      const o = (await secrets.observe!(ctx)) as SecretsObservation;
      const v = secrets.run({ observed: o, basics } as never);
      return { ...v, evidence: { ...v.evidence, scanMs: 0 } as Record<string, unknown> };
    };
    return { judge, exports: () => exports };
  }

  it('reads no export the second time when every layer was clean, with the same verdict and evidence', async () => {
    const img = await image(false);
    const first = await img.judge();
    expect(img.exports()).toBe(1);
    const second = await img.judge();
    expect(img.exports()).toBe(1);
    // The same verdict and findings; the evidence says the layers came from the cache this time.
    expect((second.evidence as { fromCache?: boolean }).fromCache).toBe(true);
    expect({ ...second, evidence: { ...second.evidence, fromCache: undefined } }).toEqual(first);
    // The config's findings are still made from the config each time.
    expect(first.status).toBe('fail');
    expect((first.evidence as { findings: Array<{ kind: string }> }).findings.map((f) => f.kind)).toEqual(['env-var', 'build-arg']);
    // No secret value is ever written to the cache.
    const written = readdirSync(path.join(root, 'secrets-scan')).map((n) => readFileSync(path.join(root, 'secrets-scan', n), 'utf8')).join('\n');
    expect(written).not.toMatch(/s3cr3t|abc123|npmrc/);
  });

  it('reads the export every time when a layer had a finding, and never caches that layer', async () => {
    const img = await image(true);
    const first = await img.judge();
    const second = await img.judge();
    expect(img.exports()).toBe(2);
    expect(second).toEqual(first);
    expect((first.evidence as { findings: Array<{ kind: string }> }).findings.map((f) => f.kind)).toContain('npmrc-token');
    const names = readdirSync(path.join(root, 'secrets-scan'));
    expect(names.some((n) => n.includes('3'.repeat(64)))).toBe(false);
    expect(names.some((n) => n.includes('1'.repeat(64)))).toBe(true);
  });

  it('reads the export again when an entry is corrupt', async () => {
    const img = await image(false);
    const first = await img.judge();
    for (const name of readdirSync(path.join(root, 'secrets-scan'))) if (name.startsWith('layer-')) writeFileSync(path.join(root, 'secrets-scan', name), 'garbage');
    const second = await img.judge();
    expect(img.exports()).toBe(2);
    expect(second).toEqual(first);
  });
});
