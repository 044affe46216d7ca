// Walks every layer of an image as `docker save` streams it (the legacy `<id>/layer.tar` layout and the
// OCI `blobs/sha256/<digest>` layout), each layer tar read inside the export's own stream: nothing is held
// in memory but the few small files a caller asks for. Files that a later layer deletes or overwrites are
// seen too, in the layer that added them: that is what a registry ships.
//
// The tars are read by a small push parser (TarReader) that looks at headers only and skips every body
// it was not asked for by arithmetic, without copying it or making a stream of it: walking the 224 MB export
// of the compliant fixture from the daemon took 0.7–0.9 s of CPU against 1.4–1.6 s through tar-stream's
// nested entry streams, most of what is left being the socket reads themselves (docs/bench.md). It reads
// what tar-stream read, the same way: ustar (with its name prefix), GNU long names, pax path and size
// (global headers merged), a bad checksum or an unknown format is an error, and so is a truncated tar.
// Its input chunks are lent (src/docker/chunk-source.ts): whatever it keeps past a write, it copies.
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { chunksOf, nudgeScavenger, type ChunkSource, type Pending } from '../docker/chunk-source.js';

export interface LayerFile {
  /** The layer tar's name in the export, e.g. "abc…/layer.tar" or "blobs/sha256/abc…". */
  layer: string;
  /** The file's path in the layer, without a leading "./" or "/". */
  path: string;
  sizeBytes: number;
}

export interface WalkOptions {
  /** Which files to read (by path alone); the rest of every layer is skipped as it streams by. */
  wants(path: string, sizeBytes: number): boolean;
  /** Called with each wanted file's content. */
  onFile(file: LayerFile, content: Buffer): void;
  /** A whiteout (`.wh.name`): the layer deletes `path`. Called for every whiteout, by path only. */
  onWhiteout?(layer: string, deletedPath: string): void;
  signal?: AbortSignal;
}

export interface ImageLayout {
  /** Layer tar names in order, base first (from manifest.json, or the OCI manifest). */
  layers: string[];
  /** The image config's history, in order (entries with empty_layer make no layer). */
  history: Array<{ created_by?: string; empty_layer?: boolean }>;
  /** How many bytes of layer tars streamed through (compressed size when compressed). */
  layerBytes: number;
  /** The same, per layer tar name. */
  layerSizes: Map<string, number>;
}

/** Small JSON files of the export (manifest, config, index) are kept; they are a few KB. */
const MAX_JSON_BYTES = 4 * 1024 * 1024;
/** A pax or GNU long-name header larger than this is refused (tar-stream's bound). */
const MAX_LONG_HEADER_BYTES = 4 * 1024 * 1024;

const isGzip = (head: Buffer) => head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;

export type EntryType = 'file' | 'link' | 'symlink' | 'character-device' | 'block-device' | 'directory' | 'fifo' | 'contiguous-file' | 'other';

export interface TarEntry {
  /** As written, e.g. "./etc/passwd" or "home/node/.npmrc" (pax path and GNU long names applied). */
  name: string;
  type: EntryType;
  sizeBytes: number;
  /** A symlink's or hard link's target, as written (GNU long link and pax linkpath applied). */
  linkname?: string;
}

/** What a TarReader does with an entry's body. */
export type EntryBody =
  | { kind: 'skip' }
  /** The first `limit` bytes, handed over once the entry ends (whole chunks past the limit are dropped). */
  | { kind: 'collect'; limit: number; done(content: Buffer): Pending }
  /** Every chunk as it passes (slices of the input, not copies: lent, as the input's chunks are); `end` once the body is complete. */
  | { kind: 'stream'; write(chunk: Buffer): Pending; end(): Pending };

export const SKIP: EntryBody = { kind: 'skip' };
const TYPES: Record<number, EntryType> = { 0: 'file', 1: 'link', 2: 'symlink', 3: 'character-device', 4: 'block-device', 5: 'directory', 6: 'fifo', 7: 'contiguous-file' };
const LONG = { 72: 'pax', 55: 'pax-global', 27: 'gnu-long-link', 28: 'gnu-long-path', 30: 'gnu-long-path' } as const;
type LongKind = (typeof LONG)[keyof typeof LONG];

const padding = (size: number) => (size % 512 === 0 ? 0 : 512 - (size % 512));

function zeroEnd(block: Buffer, from: number, to: number): number {
  for (let i = from; i < to; i++) if (block[i] === 0) return i;
  return to;
}
const text = (block: Buffer, from: number, length: number) => block.toString('utf8', from, zeroEnd(block, from, from + length));

/** A numeric header field: octal (space or NUL padded), or base-256 when its first byte has the high bit. */
function numberField(block: Buffer, from: number, length: number): number {
  if (block[from] & 0x80) {
    const positive = block[from] === 0x80;
    if (!positive && block[from] !== 0xff) return NaN;
    let sum = 0;
    for (let i = from + 1; i < from + length; i++) sum = sum * 256 + (positive ? block[i] : 0xff - block[i]);
    return positive ? sum : -sum;
  }
  let at = from;
  const end = from + length;
  while (at < end && block[at] === 32) at++;
  let stop = at;
  while (stop < end && block[stop] !== 32 && block[stop] !== 0) stop++;
  // tar-stream reads up to the first space; NULs before the digits are skipped.
  while (at < stop && block[at] === 0) at++;
  return stop === at ? 0 : parseInt(block.toString('latin1', at, stop), 8);
}

function checksum(block: Buffer): number {
  let sum = 8 * 32;
  for (let i = 0; i < 148; i++) sum += block[i];
  for (let i = 156; i < 512; i++) sum += block[i];
  return sum;
}

const USTAR = Buffer.from('ustar\0', 'latin1');
const GNU = Buffer.from('ustar ', 'latin1');

function decodePax(buf: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let rest = buf;
  while (rest.length) {
    let i = 0;
    while (i < rest.length && rest[i] !== 32) i++;
    const length = parseInt(rest.toString('utf8', 0, i), 10);
    if (!length) return out;
    const record = rest.toString('utf8', i + 1, length - 1);
    const eq = record.indexOf('=');
    if (eq === -1) return out;
    out[record.slice(0, eq)] = record.slice(eq + 1);
    rest = rest.subarray(length);
  }
  return out;
}

/**
 * A tar read as it is pushed in: `write` each chunk in order (await what it returns, which is a promise
 * only when a body's consumer asked to wait), then `end`. Bodies go where `onEntry` says.
 */
export class TarReader {
  private readonly head = Buffer.alloc(512);
  private headFill = 0;
  private remaining = 0;
  private pad = 0;
  private body: EntryBody = SKIP;
  private collected: Buffer[] = [];
  private collectedBytes = 0;
  private long?: { kind: LongKind; size: number };
  private pax?: Record<string, string>;
  private paxGlobal?: Record<string, string>;
  private gnuPath?: string;
  private gnuLink?: string;

  constructor(private readonly onEntry: (entry: TarEntry) => EntryBody) {}

  write(chunk: Buffer): Pending {
    let at = 0;
    while (at < chunk.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - at);
        const part = chunk.subarray(at, at + n);
        at += n;
        this.remaining -= n;
        const fed = this.feed(part);
        if (fed) return fed.then(() => this.afterBody()).then(() => this.write(chunk.subarray(at)));
        const ended = this.afterBody();
        if (ended) return ended.then(() => this.write(chunk.subarray(at)));
        continue;
      }
      if (this.pad > 0) {
        const n = Math.min(this.pad, chunk.length - at);
        at += n;
        this.pad -= n;
        continue;
      }
      let block: Buffer;
      if (this.headFill === 0 && chunk.length - at >= 512) {
        block = chunk.subarray(at, at + 512);
        at += 512;
      } else {
        const n = Math.min(512 - this.headFill, chunk.length - at);
        chunk.copy(this.head, this.headFill, at, at + n);
        this.headFill += n;
        at += n;
        if (this.headFill < 512) continue;
        this.headFill = 0;
        block = this.head;
      }
      this.header(block);
    }
  }

  /** The input ended: an entry cut short (or a partial header) is an error, as tar-stream says. */
  end(): void {
    if (this.remaining > 0 || this.pad > 0 || this.headFill > 0) throw new Error('Unexpected end of data');
  }

  private feed(part: Buffer): Pending {
    const body = this.body;
    if (body.kind === 'stream') return body.write(part);
    if (body.kind === 'collect') {
      this.collectedBytes += part.length;
      // A copy: the input chunk may be reused by its producer once we return.
      if (this.collectedBytes <= body.limit) this.collected.push(Buffer.from(part));
    }
  }

  /** Once the body is complete: hand it over and decode long headers. */
  private afterBody(): Pending {
    if (this.remaining > 0) return;
    const body = this.body;
    this.body = SKIP;
    if (this.long) {
      const long = this.long;
      this.long = undefined;
      const buf = Buffer.concat(this.collected);
      this.collected = [];
      this.collectedBytes = 0;
      this.decodeLong(long.kind, buf);
      return;
    }
    if (body.kind === 'collect') {
      const content = Buffer.concat(this.collected);
      this.collected = [];
      this.collectedBytes = 0;
      return body.done(content);
    }
    if (body.kind === 'stream') return body.end();
  }

  private decodeLong(kind: LongKind, buf: Buffer): void {
    if (kind === 'gnu-long-path') this.gnuPath = text(buf, 0, buf.length);
    else if (kind === 'gnu-long-link') this.gnuLink = text(buf, 0, buf.length);
    else if (kind === 'pax-global') this.paxGlobal = decodePax(buf);
    else if (kind === 'pax') this.pax = { ...this.paxGlobal, ...decodePax(buf) };
  }

  private header(block: Buffer): void {
    const sum = checksum(block);
    // An all-zero block (the end-of-archive marker) checksums to its initial value: skipped.
    if (sum === 8 * 32) return;
    if (sum !== numberField(block, 148, 8)) throw new Error('Invalid tar header. Maybe the tar is corrupted or it needs to be gunzipped?');
    let flag = block[156] === 0 ? 0 : block[156] - 48;
    let name = text(block, 0, 100);
    let linkname = text(block, 157, 100);
    if (block.compare(USTAR, 0, 6, 257, 263) === 0) {
      if (block[345]) name = `${text(block, 345, 155)}/${name}`;
    } else if (!(block.compare(GNU, 0, 6, 257, 263) === 0 && block[263] === 0x20 && block[264] === 0)) {
      throw new Error('Invalid tar header: unknown format.');
    }
    if (flag === 0 && name.endsWith('/')) flag = 5;
    let size = numberField(block, 124, 12);
    const long = LONG[flag as keyof typeof LONG];
    if (long) {
      if (size > MAX_LONG_HEADER_BYTES) throw new Error('Header exceeds max size');
      this.long = { kind: long, size };
      this.body = { kind: 'collect', limit: size, done: () => undefined };
      this.remaining = size;
      this.pad = padding(size);
      if (size === 0) this.afterBody();
      return;
    }
    if (this.gnuPath !== undefined) {
      name = this.gnuPath;
      this.gnuPath = undefined;
    }
    if (this.gnuLink !== undefined) {
      linkname = this.gnuLink;
      this.gnuLink = undefined;
    }
    if (this.pax) {
      if (this.pax.path) name = this.pax.path;
      if (this.pax.linkpath) linkname = this.pax.linkpath;
      if (this.pax.size) size = parseInt(this.pax.size, 10);
      this.pax = undefined;
    }
    if (!(size >= 0)) throw new Error('Invalid header');
    const type = TYPES[flag] ?? 'other';
    // A directory has no body whatever its size field says (as tar-stream reads it).
    const bodySize = type === 'directory' ? 0 : size;
    this.body = this.onEntry({ name, type, sizeBytes: size, ...(linkname ? { linkname } : {}) });
    this.remaining = bodySize;
    this.pad = padding(bodySize);
    if (bodySize === 0) {
      const ended = this.afterBody();
      // Only a stream's end may ask to wait; an empty body's never does in this module.
      if (ended) throw new Error('internal: an empty tar entry asked to wait');
    }
  }
}

const inLayer = (name: string) => name.replace(/^\.?\//, '');

/** A reader of one layer tar: wanted files collected, whiteouts reported, everything else skipped. */
function layerReader(layer: string, options: WalkOptions): TarReader {
  return new TarReader((entry) => {
    const name = inLayer(entry.name);
    const base = name.slice(name.lastIndexOf('/') + 1);
    if (base.startsWith('.wh.')) {
      // `.wh..wh..opq` makes a folder opaque: everything below it from lower layers is hidden.
      const dir = name.slice(0, name.length - base.length);
      options.onWhiteout?.(layer, base === '.wh..wh..opq' ? dir : dir + base.slice(4));
      return SKIP;
    }
    if (entry.type === 'file' && options.wants(name, entry.sizeBytes)) {
      return {
        kind: 'collect',
        limit: entry.sizeBytes,
        done: (content) => {
          options.onFile({ layer, path: name, sizeBytes: entry.sizeBytes }, content);
        },
      };
    }
    return SKIP;
  });
}

/**
 * The body of one layer tar, plain or gzipped (an OCI export may compress its layers): the first bytes
 * say which. A gzipped one goes through zlib, whose output is parsed as it comes.
 */
function layerSink(layer: string, options: WalkOptions): Extract<EntryBody, { kind: 'stream' }> {
  const reader = layerReader(layer, options);
  let gunzip: ReturnType<typeof createGunzip> | undefined;
  let failed: Error | undefined;
  let decided = false;
  let first: Buffer | undefined;
  const start = (head: Buffer): Pending => {
    decided = true;
    if (!isGzip(head)) return reader.write(head);
    gunzip = createGunzip();
    gunzip.on('data', (out: Buffer) => {
      if (failed) return;
      try {
        reader.write(out);
      } catch (err) {
        failed = err as Error;
        gunzip!.destroy(failed);
      }
    });
    gunzip.on('error', (err) => (failed ??= err));
    return push(head);
  };
  const push = (chunk: Buffer): Pending => {
    if (failed) throw failed;
    // zlib reads what it was given later, on its own thread: a lent chunk is copied first (a fresh
    // buffer per chunk again, so the scavenger is nudged as for a Readable's chunks).
    nudgeScavenger(chunk.length);
    if (!gunzip!.write(Buffer.from(chunk))) return once(gunzip!, 'drain').then(() => undefined);
  };
  return {
    kind: 'stream',
    write(chunk) {
      if (!decided) {
        // Two bytes decide; a first chunk of one byte waits for the next.
        if (!first && chunk.length < 2) {
          first = Buffer.from(chunk);
          return;
        }
        const head = first ? Buffer.concat([first, chunk]) : chunk;
        first = undefined;
        return start(head);
      }
      return gunzip ? push(chunk) : reader.write(chunk);
    },
    end() {
      if (!decided && first) start(first);
      if (!gunzip) return reader.end();
      const flushed = once(gunzip, 'end');
      gunzip.end();
      gunzip.resume();
      return flushed.then(
        () => {
          if (failed) throw failed;
          reader.end();
        },
        (err) => {
          throw failed ?? err;
        },
      );
    },
  };
}

/**
 * Streams an image export once: every layer tar is walked as it passes; manifest.json and the config
 * are read (they may come before or after the layers, so layer names are ordered at the end).
 */
export async function walkImageExport(exported: ChunkSource | Readable, options: WalkOptions): Promise<ImageLayout> {
  const jsons = new Map<string, Buffer>();
  const layerSizes = new Map<string, number>();
  const outer = new TarReader((entry) => {
    const name = inLayer(entry.name);
    const size = entry.sizeBytes;
    if (entry.type !== 'file') return SKIP;
    if (name.endsWith('.json') || name === 'index.json' || name === 'oci-layout' || (name.startsWith('blobs/') && size < 64 * 1024 && !name.endsWith('/layer.tar'))) {
      // OCI blobs are untyped: a small one is kept in case it is the manifest or the config; a small
      // layer is also walked from the kept copy.
      return {
        kind: 'collect',
        limit: MAX_JSON_BYTES,
        done: (content) => {
          jsons.set(name, content);
          if (name.startsWith('blobs/') && content[0] !== 0x7b) {
            layerSizes.set(name, content.length);
            const sink = layerSink(name, options);
            const wrote = sink.write(content);
            return wrote ? wrote.then(() => sink.end()) : sink.end();
          }
        },
      };
    }
    // docker save: <id>/layer.tar; OCI: blobs/sha256/<digest>; podman: <digest>.tar at the top level.
    if (name.endsWith('/layer.tar') || name.startsWith('blobs/') || /^[0-9a-f]{64}\.tar$/.test(name)) {
      layerSizes.set(name, size);
      return layerSink(name, options);
    }
    return SKIP;
  });
  await readTar(exported, outer, options.signal, 'the image export');
  const layerBytes = [...layerSizes.values()].reduce((a, b) => a + b, 0);
  return { ...layoutOf(jsons), layerBytes, layerSizes };
}

/**
 * Feeds a body to the reader chunk by chunk (a lent chunk is read before the next one comes, or copied),
 * then ends it: a tar cut short is an error. A Readable (tests, the dockerode path) is read as a source.
 */
export async function readTar(body: ChunkSource | Readable, reader: TarReader, signal: AbortSignal | undefined, what: string): Promise<void> {
  const source = typeof body === 'function' ? body : chunksOf(body, what);
  await source((chunk) => reader.write(chunk), signal);
  reader.end();
}

function parse(buffer: Buffer | undefined): any {
  if (!buffer) return undefined;
  try {
    return JSON.parse(buffer.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Layer order and history from manifest.json (legacy) or index.json → manifest → config (OCI). */
export function layoutOf(jsons: Map<string, Buffer>): Omit<ImageLayout, 'layerBytes' | 'layerSizes'> {
  const manifest = parse(jsons.get('manifest.json'));
  if (Array.isArray(manifest) && manifest[0]?.Layers) {
    const config = parse(jsons.get(manifest[0].Config));
    return { layers: manifest[0].Layers as string[], history: config?.history ?? [] };
  }
  const blob = (digest: string) => jsons.get(`blobs/${digest.replace(':', '/')}`);
  const index = parse(jsons.get('index.json'));
  const ociManifest = index?.manifests?.[0] ? parse(blob(index.manifests[0].digest)) : undefined;
  if (ociManifest?.layers) {
    const config = ociManifest.config ? parse(blob(ociManifest.config.digest)) : undefined;
    return {
      layers: (ociManifest.layers as Array<{ digest: string }>).map((l) => `blobs/${l.digest.replace(':', '/')}`),
      history: config?.history ?? [],
    };
  }
  return { layers: [], history: [] };
}
