import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { walkImageExport } from '../../src/facts/layers.js';
import { referenceWalk } from '../support/tar-stream-walk.js';
import { lentChunks } from '../support/lent-chunks.js';

type Entry = { name: string; content?: Buffer | string; type?: 'file' | 'directory' | 'symlink' | 'link'; linkname?: string; pax?: Record<string, string> };

async function tarOf(entries: Array<Entry | Buffer>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of pack as unknown as AsyncIterable<Buffer>) chunks.push(chunk);
  })();
  for (const e of entries) {
    if (Buffer.isBuffer(e)) {
      // Raw blocks (a hand-made header and its body): written as they are.
      (pack as unknown as { push(b: Buffer): void }).push(e);
      continue;
    }
    const content = typeof e.content === 'string' ? Buffer.from(e.content) : (e.content ?? Buffer.alloc(0));
    if (e.type && e.type !== 'file') pack.entry({ name: e.name, type: e.type, linkname: e.linkname, size: 0 });
    else pack.entry({ name: e.name, pax: e.pax, size: content.length }, content);
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A header block made by hand (GNU long names, odd formats), with its checksum. */
function rawHeader(name: string, size: number, typeflag: string, magic: 'gnu' | 'ustar' | 'none' = 'gnu', checksumDelta = 0): Buffer {
  const block = Buffer.alloc(512);
  block.write(name, 0, 100, 'utf8');
  block.write('0000644\0', 100);
  block.write('0000000\0', 108);
  block.write('0000000\0', 116);
  block.write(size.toString(8).padStart(11, '0') + '\0', 124);
  block.write('00000000000\0', 136);
  block.write(typeflag, 156);
  if (magic === 'gnu') block.write('ustar  \0', 257, 'latin1');
  if (magic === 'ustar') block.write('ustar\x0000', 257, 'latin1');
  block.fill(32, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write((sum + checksumDelta).toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return block;
}
const padded = (body: Buffer) => Buffer.concat([body, Buffer.alloc((512 - (body.length % 512)) % 512)]);

function chunked(buf: Buffer, sizes: (i: number) => number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < buf.length; i++) {
    const n = Math.max(1, sizes(i));
    out.push(buf.subarray(at, at + n));
    at += n;
  }
  return out;
}

let seed = 7;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

async function both(exported: Buffer, sizes: (i: number) => number, wants: (path: string, size: number) => boolean = () => true) {
  const run = async (walk: typeof walkImageExport, lent = false) => {
    const seen: string[] = [];
    const chunks = chunked(exported, sizes);
    try {
      const layout = await walk(lent ? lentChunks(chunks) : Readable.from(chunks), {
        wants,
        onFile: (f, content) => seen.push(`file ${f.layer} ${f.path} ${f.sizeBytes} ${content.toString('base64')}`),
        onWhiteout: (layer, p) => seen.push(`whiteout ${layer} ${p}`),
      });
      return { seen, layers: layout.layers, history: layout.history, layerBytes: layout.layerBytes };
    } catch (err) {
      return { seen, error: (err as Error).message };
    }
  };
  const ours = await run(walkImageExport);
  // The same walk over lent chunks (one buffer, overwritten after each): what it kept, it copied.
  expect(await run(walkImageExport, true)).toEqual(ours);
  return { ours, reference: await run(referenceWalk as typeof walkImageExport) };
}

const CHUNKINGS: Array<[string, (i: number) => number]> = [
  ['one chunk', () => 1e9],
  ['1-byte chunks', () => 1],
  ['511-byte chunks', () => 511],
  ['513-byte chunks', () => 513],
  ['random chunks', () => Math.floor(random() * 2000)],
];

async function sampleLayer(): Promise<Buffer> {
  const longDir = 'usr/share/some-package-with-a-long-name/' + 'deeply/nested/'.repeat(8);
  const gnuName = 'home/node/' + 'g'.repeat(120) + '/.npmrc';
  const gnuBody = Buffer.from(gnuName + '\0');
  return tarOf([
    { name: 'etc/', type: 'directory' },
    { name: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' },
    { name: 'app/.env', content: 'TOKEN=abc\n' },
    { name: 'app/empty', content: '' },
    { name: 'app/exact', content: Buffer.alloc(512, 1) },
    { name: 'app/over', content: Buffer.alloc(513, 2) },
    { name: 'app/big.bin', content: Buffer.alloc(100_000, 3) },
    { name: 'app/link', type: 'symlink', linkname: '.env' },
    { name: 'app/hard', type: 'link', linkname: 'app/.env' },
    { name: `${longDir}file-whose-whole-path-is-longer-than-a-hundred-bytes.pem`, content: '-----BEGIN RSA PRIVATE KEY-----\n' },
    { name: 'x/' + 'y'.repeat(150) + '/.npmrc', content: '//r/:_authToken=zzzzzzzzzzzz\n' },
    { name: 'app/.wh.old.env' },
    { name: 'app/gone/.wh..wh..opq' },
    { name: 'app/pax-named', content: 'from pax', pax: { path: 'app/renamed-by-pax.key' } },
    rawHeader('././@LongLink', gnuBody.length, 'L'),
    padded(gnuBody),
    rawHeader('ignored-short-name', 6, '0'),
    padded(Buffer.from('hello\n')),
    { name: 'après/ünïcode.key', content: 'x' },
  ]);
}

async function legacyExport(layers: Buffer[]): Promise<Buffer> {
  const config = { history: layers.map((_, i) => ({ created_by: `RUN step ${i}` })) };
  return tarOf([
    ...layers.map((content, i) => ({ name: `l${i}/layer.tar`, content })),
    { name: 'l0/json', content: '{}' },
    { name: 'cfg.json', content: JSON.stringify(config) },
    { name: 'manifest.json', content: JSON.stringify([{ Config: 'cfg.json', Layers: layers.map((_, i) => `l${i}/layer.tar`) }]) },
    { name: 'repositories', content: '{}' },
  ]);
}

describe('walkImageExport reads what the tar-stream walk read', () => {
  it.each(CHUNKINGS)('gives the same files, whiteouts and layout for a legacy export in %s', async (_, sizes) => {
    const exported = await legacyExport([await sampleLayer(), await tarOf([{ name: 'app/.wh..env' }, { name: 'home/node/.npmrc', content: 'a=b\n' }])]);
    const { ours, reference } = await both(exported, sizes);
    expect(ours).toEqual(reference);
    expect(ours.error).toBeUndefined();
    expect(ours.seen.some((s) => s.includes(`/${'g'.repeat(120)}/.npmrc`))).toBe(true);
    expect(ours.seen.some((s) => s.includes('app/renamed-by-pax.key'))).toBe(true);
    expect(ours.seen).toContain('whiteout l0/layer.tar app/gone/');
  });

  it.each(CHUNKINGS)('gives the same for an OCI export with gzipped and small layers in %s', async (_, sizes) => {
    const layer = await sampleLayer();
    const small = await tarOf([{ name: 'app/.npmrc', content: '//r/:_authToken=qqqqqqqqqqqq\n' }]);
    const config = { history: [{ created_by: 'a' }, { created_by: 'b' }, { created_by: 'c' }] };
    const manifest = { config: { digest: 'sha256:cfg' }, layers: [{ digest: 'sha256:big' }, { digest: 'sha256:sml' }, { digest: 'sha256:gzs' }] };
    const exported = await tarOf([
      { name: 'oci-layout', content: '{"imageLayoutVersion":"1.0.0"}' },
      { name: 'blobs/', type: 'directory' },
      { name: 'blobs/sha256/big', content: gzipSync(Buffer.concat([layer, Buffer.alloc(140 * 512)])) },
      { name: 'blobs/sha256/sml', content: small },
      { name: 'blobs/sha256/gzs', content: gzipSync(small) },
      { name: 'blobs/sha256/cfg', content: JSON.stringify(config) },
      { name: 'blobs/sha256/man', content: JSON.stringify(manifest) },
      { name: 'index.json', content: JSON.stringify({ manifests: [{ digest: 'sha256:man' }] }) },
    ]);
    const { ours, reference } = await both(exported, sizes, (p) => !p.endsWith('big.bin'));
    expect(ours).toEqual(reference);
    expect(ours.layers).toEqual(['blobs/sha256/big', 'blobs/sha256/sml', 'blobs/sha256/gzs']);
    expect(ours.seen.filter((s) => s.includes('app/.npmrc'))).toHaveLength(2);
  });

  it.each(CHUNKINGS)('reads a gzipped layer over 64 KB (streamed through zlib) the same from lent chunks, in %s', async (_, sizes) => {
    // Incompressible, so its gzip is walked as it streams; zlib reads what it is given later, so a lent
    // chunk must reach it as a copy. (The reference walk is left out: it fails on 1-byte gzip chunks.)
    let noise = 1;
    const noisy = await tarOf([
      { name: 'app/noise.bin', content: Buffer.from(Array.from({ length: 70_000 }, () => (noise = (noise * 48271) % 2147483647) & 0xff)) },
      { name: 'app/.env', content: 'TOKEN=noisy\n' },
    ]);
    const manifest = { config: { digest: 'sha256:cfg' }, layers: [{ digest: 'sha256:nz' }] };
    const exported = await tarOf([
      { name: 'blobs/sha256/nz', content: gzipSync(noisy) },
      { name: 'blobs/sha256/cfg', content: JSON.stringify({ history: [{ created_by: 'a' }] }) },
      { name: 'blobs/sha256/man', content: JSON.stringify(manifest) },
      { name: 'index.json', content: JSON.stringify({ manifests: [{ digest: 'sha256:man' }] }) },
    ]);
    const { ours } = await both(exported, sizes, (p) => p.endsWith('.env'));
    expect(ours.seen).toEqual([`file blobs/sha256/nz app/.env 12 ${Buffer.from('TOKEN=noisy\n').toString('base64')}`]);
  });

  it('fails as the reference does on a cut export, a bad checksum and an unknown header format', async () => {
    const exported = await legacyExport([await sampleLayer()]);
    const cut = await both(exported.subarray(0, 3000), () => 700);
    expect(cut.ours.error).toBeDefined();
    expect(cut.reference.error).toBeDefined();
    // What a failed walk saw before the failure is never used: the check is then `error`.

    for (const [magic, delta] of [['gnu', 1], ['none', 0]] as const) {
      const layer = Buffer.concat([rawHeader('app/.env', 4, '0', magic, delta), padded(Buffer.from('A=1\n')), Buffer.alloc(1024)]);
      const bad = await both(await legacyExport([layer]), () => 1e9);
      expect(bad.ours.error).toMatch(/Invalid tar header/);
      expect(bad.ours.error).toBe(bad.reference.error);
    }
  });

  it('fails, and does not hang, on a gzipped layer whose tar is cut short', async () => {
    const layer = gzipSync(Buffer.concat([await sampleLayer(), Buffer.alloc(700)]));
    const exported = await tarOf([
      { name: 'blobs/sha256/big', content: layer },
      { name: 'index.json', content: '{}' },
    ]);
    await expect(walkImageExport(Readable.from([exported]), { wants: () => true, onFile: () => undefined })).rejects.toThrow('Unexpected end of data');
  });

  it('stops when the signal aborts', async () => {
    const exported = await legacyExport([await sampleLayer()]);
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(walkImageExport(Readable.from([exported]), { wants: () => true, onFile: () => undefined, signal: controller.signal })).rejects.toThrow('stop');
  });
});
