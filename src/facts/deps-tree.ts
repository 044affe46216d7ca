// The installed node_modules trees of an image, read through the archive endpoint in one streamed tar
// per tree: only package.json files are kept (their dependency fields), plus the directory and symlink
// structure and each package's size from the tar headers. Nothing else is buffered.
import { posix as path } from 'node:path';
import type { Readable } from 'node:stream';
import type { ChunkSource } from '../docker/chunk-source.js';
import { parseJsonFile } from '../observed.js';
import { readTar, SKIP, TarReader, type EntryBody } from './layers.js';

/** The fields of a package.json that decide what it needs. */
export interface Manifest {
  name?: string;
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  bundleDependencies?: string[] | boolean;
  bundledDependencies?: string[] | boolean;
  workspaces?: string[] | { packages?: string[] };
}

export interface InstalledTree {
  /** node_modules folders read, absolute. */
  roots: string[];
  /** Package folders (real paths) holding a package.json, by folder. */
  packages: Map<string, Manifest>;
  /** Absolute symlink path → absolute target. */
  symlinks: Map<string, string>;
  /** Bytes of regular files per package folder (nested node_modules excluded). */
  sizes: Map<string, number>;
  /** Bookkeeping files npm, pnpm and yarn leave in node_modules, by absolute path (text). */
  hidden: Map<string, string>;
  /** Package folders whose package.json could not be parsed, with why (kept as packages without dependencies). */
  unparsable: Map<string, string>;
}

export function emptyTree(): InstalledTree {
  return { roots: [], packages: new Map(), symlinks: new Map(), sizes: new Map(), hidden: new Map(), unparsable: new Map() };
}

const HIDDEN = new Set(['.package-lock.json', '.modules.yaml', '.yarn-integrity', '.pnpm/lock.yaml', '.yarn-state.yml']);
const KEEP_FIELDS = ['name', 'version', 'dependencies', 'optionalDependencies', 'peerDependencies', 'devDependencies', 'bundleDependencies', 'bundledDependencies', 'workspaces'] as const;

/** The package folder a path inside node_modules belongs to: up to the last node_modules/<name> (or @scope/name). */
export function packageDirOf(file: string): string | undefined {
  const parts = file.split('/');
  for (let i = parts.length - 2; i >= 0; i--) {
    if (parts[i] !== 'node_modules') continue;
    const first = parts[i + 1];
    if (!first || first.startsWith('.')) return undefined;
    const end = first.startsWith('@') ? i + 3 : i + 2;
    if (end > parts.length) return undefined;
    return parts.slice(0, end).join('/');
  }
  return undefined;
}

export function pickManifest(raw: Record<string, unknown>): Manifest {
  const out: Record<string, unknown> = {};
  for (const key of KEEP_FIELDS) if (raw[key] !== undefined) out[key] = raw[key];
  return out as Manifest;
}

/**
 * Adds one node_modules tar (as the archive endpoint returns it for `nodeModulesDir`) to the tree.
 * Entry names are relative to the folder's parent: "node_modules/a/package.json".
 */
export async function addArchive(tree: InstalledTree, nodeModulesDir: string, stream: ChunkSource | Readable, signal?: AbortSignal): Promise<void> {
  const parent = path.dirname(nodeModulesDir);
  const packages = new Map<string, Manifest>();
  const symlinks = new Map<string, string>();
  const sizes = new Map<string, number>();
  const hidden = new Map<string, string>();
  const unparsable = new Map<string, string>();
  // The same header-only walk as the layer scan: bodies not wanted are skipped inside the chunks, never copied.
  const reader = new TarReader((entry): EntryBody => {
    const abs = path.join(parent, entry.name.replace(/\/$/, ''));
    const rel = path.relative(nodeModulesDir, abs);
    const pkgDir = packageDirOf(abs);
    if (entry.type === 'symlink' && entry.linkname) {
      symlinks.set(abs, path.resolve(path.dirname(abs), entry.linkname));
      return SKIP;
    }
    if (entry.type !== 'file') return SKIP;
    if (pkgDir) sizes.set(pkgDir, (sizes.get(pkgDir) ?? 0) + entry.sizeBytes);
    const isManifest = pkgDir !== undefined && abs === `${pkgDir}/package.json`;
    if (!isManifest && !HIDDEN.has(rel)) return SKIP;
    return {
      kind: 'collect',
      limit: entry.sizeBytes,
      done: (content) => {
        const text = content.toString('utf8');
        if (isManifest) {
          // As Node reads it (a byte-order mark allowed); one that does not parse is named, not dropped.
          const json = parseJsonFile(abs, text);
          const ok = json.ok && json.value !== null && typeof json.value === 'object' && !Array.isArray(json.value);
          packages.set(pkgDir, ok ? pickManifest(json.value as Record<string, unknown>) : {});
          if (!ok) unparsable.set(pkgDir, json.ok ? `${abs} is not a package.json: its JSON is not an object` : json.why);
        } else hidden.set(abs, text);
      },
    };
  });
  const bound = AbortSignal.timeout(300_000);
  await readTar(stream, reader, signal ? AbortSignal.any([signal, bound]) : bound, `the archive of ${nodeModulesDir}`);
  // Only a complete read is merged: a half-read tree would make reachable packages look missing.
  tree.roots.push(nodeModulesDir);
  for (const [k, v] of packages) tree.packages.set(k, v);
  for (const [k, v] of symlinks) tree.symlinks.set(k, v);
  for (const [k, v] of sizes) tree.sizes.set(k, v);
  for (const [k, v] of hidden) tree.hidden.set(k, v);
  for (const [k, v] of unparsable) tree.unparsable.set(k, v);
}

/** Whether an absolute path lies inside one of the trees read. */
export function insideRoots(tree: InstalledTree, p: string): boolean {
  return tree.roots.some((r) => p === r || p.startsWith(`${r}/`));
}

/** realpath over the symlinks the archives showed (paths outside them are taken as they are). */
export function realpath(tree: InstalledTree, p: string): string {
  let current = p;
  for (let hops = 0; hops < 40; hops++) {
    const parts = current.split('/');
    let changed = false;
    for (let i = 2; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      const target = tree.symlinks.get(prefix);
      if (target !== undefined) {
        current = path.join(target, ...parts.slice(i));
        changed = true;
        break;
      }
    }
    if (!changed) return current;
  }
  return current;
}
