// The layer walk as it was read through tar-stream's nested entry streams, kept as the reference the
// push parser of src/facts/layers.ts is compared with (test/unit/layers-walk.test.ts): same files, same
// whiteouts, same layout, same errors, whatever the chunking.
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
// Which tars are the layers, in what order, is read from the same JSON files as the product reads them:
// what this reference stands for is the walk of the tars.
import { layoutOf } from '../../src/facts/layers.js';

interface LayerFile {
  /** The layer tar's name in the export, e.g. "abc…/layer.tar" or "blobs/sha256/abc…". */
  layer: string;
  /** The file's path in the layer, without a leading "./" or "/". */
  path: string;
  sizeBytes: number;
}

interface WalkOptions {
  /** Which files to read (by path alone); the rest of every layer is skipped as it streams by. */
  wants(path: string, sizeBytes: number): boolean;
  /** Called with each wanted file's content. */
  onFile(file: LayerFile, content: Buffer): void;
  /** A whiteout (`.wh.name`): the layer deletes `path`. Called for every whiteout, by path only. */
  onWhiteout?(layer: string, deletedPath: string): void;
  signal?: AbortSignal;
}

interface ImageLayout {
  /** Layer tar names in order, base first (from manifest.json, or the OCI manifest). */
  layers: string[];
  /** The image config's history, in order (entries with empty_layer make no layer). */
  history: Array<{ created_by?: string; empty_layer?: boolean }>;
  /** How many bytes of layer tars streamed through (compressed size when compressed). */
  layerBytes: number;
}

/** Small JSON files of the export (manifest, config, index) are kept; they are a few KB. */
const MAX_JSON_BYTES = 4 * 1024 * 1024;

const isGzip = (head: Buffer) => head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;

async function collect(stream: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size <= limit) chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/** Reads one layer tar (maybe gzipped) from a stream, calling back for wanted files and whiteouts. */
async function walkLayer(layer: string, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options: WalkOptions): Promise<void> {
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    // An abort destroys the entry streams; the pipeline reports it, so their own errors are handled here.
    stream.on('error', () => undefined);
    const name = header.name.replace(/^\.?\//, '');
    const base = name.slice(name.lastIndexOf('/') + 1);
    if (base.startsWith('.wh.')) {
      // `.wh..wh..opq` makes a folder opaque: everything below it from lower layers is hidden.
      const dir = name.slice(0, name.length - base.length);
      options.onWhiteout?.(layer, base === '.wh..wh..opq' ? dir : dir + base.slice(4));
      stream.resume();
      stream.on('end', next);
      return;
    }
    const size = header.size ?? 0;
    if (header.type === 'file' && options.wants(name, size)) {
      collect(stream as unknown as AsyncIterable<Uint8Array>, size).then(
        (content) => {
          options.onFile({ layer, path: name, sizeBytes: size }, content);
          next();
        },
        (err) => next(err),
      );
      return;
    }
    stream.on('end', next);
    stream.resume();
  });
  // Layers in an OCI export may be gzip-compressed: peek at the first chunk to know.
  const chunks = Readable.from(source as Iterable<Uint8Array>)[Symbol.asyncIterator]();
  const first = await chunks.next();
  if (first.done) return;
  const head = Buffer.from(first.value as Uint8Array);
  async function* all() {
    yield head;
    for (let r = await chunks.next(); !r.done; r = await chunks.next()) yield r.value as Buffer;
  }
  const body = Readable.from(all(), { objectMode: false });
  if (isGzip(head)) await pipeline(body, createGunzip(), extract, { signal: options.signal });
  else await pipeline(body, extract, { signal: options.signal });
}

/**
 * Streams an image export once: every layer tar is walked as it passes; manifest.json and the config
 * are read (they may come before or after the layers, so layer names are ordered at the end).
 */
export async function referenceWalk(exported: Readable, options: WalkOptions): Promise<ImageLayout> {
  const jsons = new Map<string, Buffer>();
  let layerBytes = 0;
  const outer = tar.extract();
  outer.on('entry', (header, stream, next) => {
    stream.on('error', () => undefined);
    const name = header.name.replace(/^\.?\//, '');
    const size = header.size ?? 0;
    if (header.type !== 'file') {
      stream.on('end', next);
      stream.resume();
      return;
    }
    if (name.endsWith('.json') || name === 'index.json' || name === 'oci-layout' || (name.startsWith('blobs/') && size < 64 * 1024 && !name.endsWith('/layer.tar'))) {
      // OCI blobs are untyped: a small one is kept in case it is the manifest or the config; a small
      // layer is also walked from the kept copy.
      collect(stream as unknown as AsyncIterable<Uint8Array>, MAX_JSON_BYTES).then(
        async (content) => {
          jsons.set(name, content);
          if (name.startsWith('blobs/') && content[0] !== 0x7b) {
            layerBytes += content.length;
            await walkLayer(name, [content], options);
          }
          next();
        },
        (err) => next(err),
      );
      return;
    }
    // docker save: <id>/layer.tar; OCI: blobs/sha256/<digest>; podman: <digest>.tar at the top level.
    if (name.endsWith('/layer.tar') || name.startsWith('blobs/') || /^[0-9a-f]{64}\.tar$/.test(name)) {
      layerBytes += size;
      walkLayer(name, stream as unknown as AsyncIterable<Uint8Array>, options).then(() => next(), (err) => next(err));
      return;
    }
    stream.on('end', next);
    stream.resume();
  });
  await pipeline(exported, outer, { signal: options.signal });
  return { ...layoutOf(jsons), layerBytes };
}
