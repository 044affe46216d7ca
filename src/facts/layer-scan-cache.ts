// A content-addressed cache of the secrets scan of image layers, so that an image whose every layer was
// already scanned clean needs no image export at all (the export is most of a default audit's extra
// time: docs/bench.md). One entry per layer, keyed by the layer's diffID (the sha256 of its uncompressed
// tar, so the same bytes wherever the layer appears) and the scanner's key (its version and the source of
// the functions that decide what a layer holds: a change to them is a new key, never a stale hit).
//
// Only CLEAN layers are remembered: a layer with a finding is scanned again every time, so no secret
// value is ever written here and a cache entry can never stand for a finding. An entry that is missing,
// unreadable, corrupt or made by another scanner is a miss (the layer is scanned), never a pass. Writes go
// to a temporary file renamed into place, so concurrent audits never read half an entry. The folder is
// bounded (MAX_ENTRIES, oldest first out). `IMAGE_AUDIT_CACHE=off` turns it off; `IMAGE_AUDIT_CACHE_DIR`
// moves it (default `$XDG_CACHE_HOME/image-audit`, else `~/.cache/image-audit`).
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TarReader, walkImageExport } from './layers.js';
import { candidateOf, envFileFindings, findingsIn, gitConfigFindings, MAX_SCANNED_FILE_BYTES, npmrcFindings, privateKeyFindings } from './secrets-scan.js';

/** Bump when what a layer's scan means changes in a way the functions' source below does not show. */
const SCANNER_VERSION = 1;
/** Entries kept (each ~150 bytes); past it the least recently used go. */
export const MAX_ENTRIES = 20_000;

export interface CleanLayer {
  /** Bytes of the layer tar as the export streamed it (its share of the check's `layerBytes`). */
  layerBytes: number;
  /** Candidate files read in it (its share of `filesRead`). */
  filesRead: number;
}

/** What decides a layer's scan result: any change to it makes every old entry a miss. */
export const scannerKey: string = createHash('sha256')
  .update(
    [SCANNER_VERSION, MAX_SCANNED_FILE_BYTES, candidateOf, findingsIn, npmrcFindings, envFileFindings, privateKeyFindings, gitConfigFindings, TarReader, walkImageExport]
      .map(String)
      .join('\n'),
  )
  .digest('hex')
  .slice(0, 24);

const DIGEST = /^sha256:([0-9a-f]{64})$/;
const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/** The key of an image's history as a list of created_by lines (the export's config and the history API must agree). */
export function historyKey(createdBy: Array<string | undefined>): string {
  return createHash('sha256').update(JSON.stringify(createdBy.map((c) => c ?? ''))).digest('hex');
}

export class LayerScanCache {
  private readonly dir: string;
  private wrote = false;

  constructor(root: string, private readonly maxEntries = MAX_ENTRIES) {
    this.dir = path.join(root, 'secrets-scan');
  }

  private layerFile(diffId: string): string | undefined {
    const hex = DIGEST.exec(diffId)?.[1];
    return hex && path.join(this.dir, `layer-${scannerKey}-${hex}.json`);
  }

  private imageFile(imageId: string): string | undefined {
    const hex = DIGEST.exec(imageId)?.[1];
    return hex && path.join(this.dir, `image-${hex}.json`);
  }

  private async read(file: string | undefined): Promise<Record<string, unknown> | undefined> {
    if (!file) return undefined;
    try {
      const value = JSON.parse(await readFile(file, 'utf8')) as unknown;
      if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
      // Touched on use, so the bound removes the entries no audit needs any more (best effort).
      const now = new Date();
      utimes(file, now, now).catch(() => undefined);
      return value as Record<string, unknown>;
    } catch {
      return undefined;
    }
  }

  /** The layer's clean scan by this scanner, or undefined (absent, unreadable, corrupt, another scanner: scan it). */
  async cleanLayer(diffId: string): Promise<CleanLayer | undefined> {
    const entry = await this.read(this.layerFile(diffId));
    if (!entry || entry.diffId !== diffId || entry.scanner !== scannerKey || entry.clean !== true) return undefined;
    if (!isCount(entry.layerBytes) || !isCount(entry.filesRead)) return undefined;
    return { layerBytes: entry.layerBytes, filesRead: entry.filesRead };
  }

  /** Which history entries of the image make no layer (`empty_layer`), as its exported config said. */
  async emptyLayers(imageId: string, history: string): Promise<boolean[] | undefined> {
    const entry = await this.read(this.imageFile(imageId));
    if (!entry || entry.imageId !== imageId || entry.history !== history) return undefined;
    const flags = entry.emptyLayers;
    return Array.isArray(flags) && flags.every((f) => typeof f === 'boolean') ? (flags as boolean[]) : undefined;
  }

  async rememberCleanLayer(diffId: string, layer: CleanLayer): Promise<void> {
    await this.write(this.layerFile(diffId), { diffId, scanner: scannerKey, clean: true, layerBytes: layer.layerBytes, filesRead: layer.filesRead });
  }

  async rememberImage(imageId: string, history: string, emptyLayers: boolean[]): Promise<void> {
    await this.write(this.imageFile(imageId), { imageId, history, emptyLayers });
  }

  /** Best effort: a cache that cannot be written costs the next audit an export, nothing else. */
  private async write(file: string | undefined, value: object): Promise<void> {
    if (!file) return;
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(temp, JSON.stringify(value), { mode: 0o600 });
      await rename(temp, file).catch(async (err) => {
        await unlink(temp).catch(() => undefined);
        throw err;
      });
      this.wrote = true;
    } catch {
      // not cached
    }
  }

  /** Keeps the folder within its bound: the least recently used entries (and stale temporaries) go. */
  async prune(): Promise<void> {
    if (!this.wrote) return;
    try {
      const names = await readdir(this.dir);
      const now = Date.now();
      const stale = names.filter((n) => n.endsWith('.tmp'));
      const entries = names.filter((n) => n.endsWith('.json'));
      const victims: string[] = [];
      for (const name of stale) {
        const info = await stat(path.join(this.dir, name)).catch(() => undefined);
        if (info && now - info.mtimeMs > 60_000) victims.push(name);
      }
      if (entries.length > this.maxEntries) {
        const dated = await Promise.all(entries.map(async (name) => ({ name, mtimeMs: (await stat(path.join(this.dir, name)).catch(() => undefined))?.mtimeMs ?? 0 })));
        dated.sort((a, b) => a.mtimeMs - b.mtimeMs);
        victims.push(...dated.slice(0, entries.length - Math.floor(this.maxEntries * 0.9)).map((d) => d.name));
      }
      await Promise.all(victims.map((name) => unlink(path.join(this.dir, name)).catch(() => undefined)));
    } catch {
      // a folder that cannot be listed is not pruned
    }
  }
}

/** The cache in `dir` (settings.layerCacheDir), or undefined when it is turned off. */
export function layerScanCache(dir: string | undefined): LayerScanCache | undefined {
  return dir ? new LayerScanCache(dir) : undefined;
}
