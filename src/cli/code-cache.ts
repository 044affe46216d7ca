// Runs the CLI's CommonJS bundle with V8's code cache, so that a second start does not compile the
// bundle again (Node 20 has no compile cache of its own; Node 22's module.enableCompileCache is the same
// idea). Measured on the bench machine: `--version` 226–230 → 194–197 ms (docs/bench.md).
//
// The cache is one file per bundle, named by the sha256 of the bundle's bytes, Node's version and the
// architecture: V8 itself only checks the source's length, so a file named by anything less could hand a
// changed bundle the code of another. It is a cache of code, so it is used only when this user owns it
// and nobody else can write it or its folder; anything else (missing, rejected by V8, unreadable,
// another owner) is compiled as if there were none, and written again. `IMAGE_AUDIT_CACHE=off` turns
// it off; it lives in the audit's cache folder (src/cache-dir.ts), under `v8/`.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import { cacheDir } from '../cache-dir.js';

/** Code caches kept for other bundles (other versions installed side by side); older ones go. */
const KEPT = 4;

/** The cache file of this bundle's bytes, or undefined when caching is off. */
export function codeCacheFile(source: Buffer, env: NodeJS.ProcessEnv): string | undefined {
  const dir = cacheDir(env);
  if (!dir) return undefined;
  const key = createHash('sha256').update(source).update(`\0${process.version}\0${process.arch}`).digest('hex').slice(0, 32);
  return path.join(dir, 'v8', `cli-${key}.bin`);
}

/** Owned by this user, writable by nobody else (no check where there are no uids). */
function ownedAlone(mode: number, uid: number): boolean {
  const me = process.getuid?.();
  return me === undefined || (uid === me && (mode & 0o022) === 0);
}

/** The cached code, or undefined when there is none this process may trust. */
export function readCodeCache(file: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    const dir = statSync(path.dirname(file));
    if (!ownedAlone(dir.mode, dir.uid)) return undefined;
    fd = openSync(file, 'r');
    const info = fstatSync(fd);
    if (!info.isFile() || !ownedAlone(info.mode, info.uid)) return undefined;
    return readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Best effort: written to a temporary file renamed into place (concurrent starts never read half a file), older caches pruned. */
export function writeCodeCache(file: string, data: Buffer): void {
  try {
    const dir = path.dirname(file);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(temp, data, { mode: 0o600 });
    renameSync(temp, file);
    const others = readdirSync(dir)
      .filter((name) => name !== path.basename(file) && /^cli-[0-9a-f]{32}\.bin(\..*\.tmp)?$/.test(name))
      .map((name) => ({ name, mtimeMs: statSync(path.join(dir, name)).mtimeMs }))
      .sort((a, b) => b.mtimeMs - a.mtimeMs);
    for (const { name } of others.slice(KEPT - 1)) unlinkSync(path.join(dir, name));
  } catch {
    // not cached: the next start compiles again
  }
}

/**
 * Runs `file`, a CommonJS bundle, as Node would require it, compiled from its code cache when there is
 * one. A start without a usable cache writes one once the bundle's first synchronous run is over, so it
 * holds what an audit compiles on its way to its first Engine API call (compiled later, the rest stays
 * out: a larger cache takes longer to read than what it saves). Says where the code came from.
 */
export function runWithCodeCache(file: string, env: NodeJS.ProcessEnv = process.env): 'from cache' | 'compiled' | 'off' {
  // Decoded as latin1: V8 then holds one byte per character, where UTF-8 decoding of a text with any
  // non-ASCII character makes two of the whole bundle (~30 ms, measured). The build checks that the
  // bundle is ASCII, so latin1 reads it exactly.
  const bytes = readFileSync(file);
  const source = bytes.toString('latin1');
  const cacheFile = codeCacheFile(bytes, env);
  const cachedData = cacheFile ? readCodeCache(cacheFile) : undefined;
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
  if (cacheFile && (!cachedData || script.cachedDataRejected)) setImmediate(() => writeCodeCache(cacheFile, script.createCachedData()));
  const bundle = new Module(file);
  bundle.filename = file;
  bundle.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(file));
  const wrapper = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;
  wrapper.call(bundle.exports, bundle.exports, Module.createRequire(file), bundle, file, path.dirname(file));
  return !cacheFile ? 'off' : cachedData && !script.cachedDataRejected ? 'from cache' : 'compiled';
}
