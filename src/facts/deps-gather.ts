// Gathers what no-dev-dependencies judges: where the app is, its node_modules trees (one streamed
// archive each), the production-reachable set, and the lockfile that belongs to the installed tree.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import type { DockerPort } from '../docker/port.js';
import { locateApp, LOCKFILES } from './app-location.js';
import { computeReach, classify } from './deps-graph.js';
import { addArchive, emptyTree, pickManifest, type InstalledTree, type Manifest } from './deps-tree.js';
import { parseYaml } from './deps-yaml.js';
import type { DevDependencyFacts, ImageBasics } from './image-facts.js';
import { devOnlyFromLockfile, devOnlyFromPnpmLock, devOnlyFromYarnLock, devOnlyKeys, pnpmStoreKeys, type DevOnlySet } from './lockfile.js';

const posix = path.posix;

/** Runs a read; a failure (a transient daemon error) is retried once, then reported, never thrown. */
async function twice<T>(work: () => Promise<T>, signal: AbortSignal | undefined, errors: string[], what: string): Promise<T | undefined> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (signal?.aborted) throw err;
      if (attempt === 2) {
        errors.push(`${what}: ${(err as Error).message.split('\n')[0]}`);
        return undefined;
      }
    }
  }
}

export function parseManifest(text: string | undefined): Manifest | undefined {
  if (text === undefined) return undefined;
  try {
    return pickManifest(JSON.parse(text) as Record<string, unknown>);
  } catch {
    return undefined;
  }
}

/** Parses a lockfile by its file name; yarn needs the manifest next to it for its roots. */
export function parseLockfile(file: string, text: string, manifest: Manifest | undefined): DevOnlySet | undefined {
  try {
    const base = posix.basename(file);
    if (base.endsWith('.json')) return devOnlyFromLockfile(JSON.parse(text) as object);
    if (base.endsWith('.yaml')) return devOnlyFromPnpmLock(text);
    if (base === 'yarn.lock') return manifest ? devOnlyFromYarnLock(text, manifest) : undefined;
  } catch {
    return undefined;
  }
  return undefined;
}

/** Bare package names an entry file requires or imports (node: and built-in modules left out). */
export function bareRequires(source: string): string[] {
  const names = new Set<string>();
  const re = /\brequire\(\s*['"]([^'"]+)['"]\s*\)|\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(?\s*['"]([^'"]+)['"]/g;
  for (const m of source.matchAll(re)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (!spec || spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:')) continue;
    const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
    if (builtinModules.includes(name)) continue;
    names.add(name);
  }
  return [...names].sort();
}

/** The context's package.json with the app's name (and version), searched a few folders deep. */
function findInContext(contextDir: string, app: Manifest | undefined): string | undefined {
  const root = path.join(contextDir, 'package.json');
  if (!app?.name) return existsSync(root) ? root : undefined;
  const queue: Array<{ dir: string; depth: number }> = [{ dir: contextDir, depth: 0 }];
  while (queue.length) {
    const { dir, depth } = queue.shift()!;
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const m = parseManifest(readFileSync(file, 'utf8'));
      if (m?.name === app.name && (!app.version || !m.version || m.version === app.version)) return file;
    }
    if (depth >= 4) continue;
    let entries: string[] = [];
    try {
      entries = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && e.name !== 'node_modules' && !e.name.startsWith('.')).map((e) => e.name);
    } catch {
      continue;
    }
    for (const e of entries) queue.push({ dir: path.join(dir, e), depth: depth + 1 });
  }
  return existsSync(root) ? root : undefined;
}

/** The nearest lockfile from a context folder up to the context root. */
function contextLockfile(contextDir: string, from: string): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const found = LOCKFILES.find((f) => existsSync(path.join(dir, f)));
    if (found) return path.join(dir, found);
    if (dir === contextDir || !dir.startsWith(contextDir)) return undefined;
  }
}

export async function gatherDevDependencies(
  docker: DockerPort,
  containerId: string,
  basics: ImageBasics,
  contextDir: string | undefined,
  signal?: AbortSignal,
): Promise<DevDependencyFacts> {
  const notes: string[] = [];
  const readErrors: string[] = [];
  const stat = async (p: string) => {
    const s = await twice(() => docker.statPath(containerId, p, { signal }), signal, readErrors, `stat ${p}`);
    return s && { isDirectory: s.isDirectory };
  };
  const readText = async (p: string) => (await twice(() => docker.readFile(containerId, p, { signal }), signal, readErrors, `reading ${p}`))?.toString('utf8');
  const app = await locateApp(basics.command, basics.image.config.workingDir, stat);
  const facts: DevDependencyFacts = { app, installed: [], notes, readErrors };
  if (app.pnp && !app.installRoot) return facts;

  // The app's manifest (the image's own, else the build context's) and the installed trees are read
  // side by side: each archive read costs the daemon a helper process, so they overlap.
  const manifestText = app.packageJson ? readText(app.packageJson) : Promise.resolve(undefined);
  manifestText.catch(() => undefined);
  const tree: InstalledTree = emptyTree();
  await readInstalledTrees();
  let manifest = parseManifest(await manifestText);
  if (manifest) facts.manifestFrom = `image: ${app.packageJson}`;
  const contextManifestFile = contextDir ? findInContext(contextDir, manifest) : undefined;
  if (!manifest && contextManifestFile && contextDir) {
    manifest = parseManifest(readFileSync(contextManifestFile, 'utf8'));
    if (manifest) facts.manifestFrom = `build context: ${path.relative(contextDir, contextManifestFile)}`;
  }
  const appDir = app.packageJson ? posix.dirname(app.packageJson) : app.startDir;

  // The installed trees, nearest first: one archive each.
  async function readInstalledTrees(): Promise<void> {
    for (const root of app.installRoots) {
      const dir = root === '/' ? '/node_modules' : `${root}/node_modules`;
      await twice(
        async () => {
          const stream = await docker.archive(containerId, dir, { signal });
          if (stream) await addArchive(tree, dir, stream, signal);
        },
        signal,
        readErrors,
        `reading ${dir}`,
      );
    }
  }

  // Workspace packages linked from outside node_modules: their package.json (and own node_modules).
  const externals = new Map<string, Manifest | null>();
  let reach = manifest ? computeReach(tree, externals, appDir, manifest) : undefined;
  for (let round = 0; reach && reach.external.length && round < 8; round++) {
    for (const dir of reach.external.slice(0, 50)) {
      externals.set(dir, parseManifest(await readText(`${dir}/package.json`)) ?? null);
      if ((await stat(`${dir}/node_modules`))?.isDirectory) {
        await twice(async () => {
          const stream = await docker.archive(containerId, `${dir}/node_modules`, { signal });
          if (stream) await addArchive(tree, `${dir}/node_modules`, stream, signal);
        }, signal, readErrors, `reading ${dir}/node_modules`);
      }
    }
    reach = computeReach(tree, externals, appDir, manifest!);
  }

  // The lockfile that belongs to the installed tree first: the image's own next to its node_modules,
  // then upward from the app, then the build context's (upward from the app's package.json there).
  const candidates: Array<{ where: string; read: () => Promise<string | undefined>; manifest: () => Promise<Manifest | undefined> }> = [];
  const imageLockfiles = [...app.installRoots.flatMap((r) => LOCKFILES.map((f) => (r === '/' ? `/${f}` : `${r}/${f}`)))];
  if (app.lockfile && !imageLockfiles.includes(app.lockfile)) imageLockfiles.push(app.lockfile);
  for (const file of imageLockfiles) {
    candidates.push({
      where: `image: ${file}`,
      read: () => (file === app.lockfile || (app.installRoots.includes(posix.dirname(file)) && LOCKFILES.some((f) => file.endsWith(`/${f}`))) ? readText(file) : Promise.resolve(undefined)),
      manifest: async () => (posix.dirname(file) === appDir ? manifest : parseManifest(await readText(`${posix.dirname(file)}/package.json`))),
    });
  }
  if (contextDir) {
    const lock = contextLockfile(contextDir, contextManifestFile ? path.dirname(contextManifestFile) : contextDir);
    if (lock) {
      candidates.push({
        where: `build context: ${path.relative(contextDir, lock)}`,
        read: async () => readFileSync(lock, 'utf8'),
        manifest: async () => parseManifest(existsSync(path.join(path.dirname(lock), 'package.json')) ? readFileSync(path.join(path.dirname(lock), 'package.json'), 'utf8') : undefined) ?? manifest,
      });
    }
  }
  for (const candidate of candidates) {
    const text = await candidate.read();
    if (text === undefined) continue;
    const set = parseLockfile(candidate.where, text, await candidate.manifest());
    if (set) {
      facts.devOnly = set;
      facts.from = candidate.where;
      break;
    }
    notes.push(`${candidate.where} could not be read as a lockfile`);
  }

  // The package managers' own records of the installed tree, as a cross-check.
  const nearest = tree.roots[0];
  let lockKeys = facts.devOnly ? new Set([...devOnlyKeys(facts.devOnly), ...pnpmStoreKeys(facts.devOnly)]) : undefined;
  for (const hiddenFile of nearest ? [`${nearest}/.package-lock.json`, `${nearest}/.pnpm/lock.yaml`] : []) {
    const text = tree.hidden.get(hiddenFile);
    if (text === undefined) continue;
    const set = parseLockfile(hiddenFile, text, manifest);
    if (!set) continue;
    const keys = devOnlyKeys(set);
    const agrees = !lockKeys || [...keys].every((k) => lockKeys!.has(k));
    facts.crossCheck = { from: `image: ${hiddenFile}`, devOnlyCount: set.packages.length, agrees };
    if (!facts.devOnly) {
      facts.devOnly = set;
      facts.from = `image: ${hiddenFile}`;
    }
    lockKeys = new Set([...(lockKeys ?? []), ...keys, ...pnpmStoreKeys(set)]);
    break;
  }
  const modulesYaml = nearest ? tree.hidden.get(`${nearest}/.modules.yaml`) : undefined;
  if (modulesYaml) {
    const included = (parseYaml(modulesYaml) as Record<string, unknown>).included as Record<string, string> | undefined;
    if (included?.devDependencies === 'true') notes.push(`${nearest}/.modules.yaml says pnpm installed the devDependencies (included.devDependencies: true)`);
  }

  if (!manifest) notes.push(`no package.json for the app (looked upward from ${app.startDir}${contextDir ? ' and in the build context' : ''}): the production set cannot be computed`);
  if (!facts.devOnly && manifest) notes.push('no lockfile found: dev-only packages are the closure of package.json devDependencies in the image');
  if (!app.installRoot) notes.push(`no node_modules found from ${app.startDir} upward`);

  if (tree.roots.length) {
    const classification = classify(tree, reach, lockKeys);
    facts.classification = classification;
    facts.productionCount = reach?.production.size;
    if (reach?.unresolved.length) notes.push(`required but not installed: ${reach.unresolved.slice(0, 5).map((u) => `${u.name} (from ${u.from})`).join(', ')}`);
    const root = app.installRoot === '/' ? '' : app.installRoot ?? '';
    facts.installed = classification.dev.map((p) => ({ name: p.name, version: p.version, path: p.path.startsWith(`${root}/`) ? p.path.slice(root.length + 1) : p.path, imagePath: p.path, sizeBytes: p.sizeBytes ?? 0 }));
  } else if (!app.installRoot && app.entryScript) {
    // No node_modules: the app may be a bundle. It is one only when its entry file needs no package.
    const source = await readText(app.entryScript);
    if (source !== undefined) facts.bundledEntry = { path: app.entryScript, bareRequires: bareRequires(source) };
  }
  return facts;
}
