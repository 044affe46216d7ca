// Gathers what no-dev-dependencies judges: where the app is, its node_modules trees (one streamed
// archive each), the production-reachable set, and the lockfile that belongs to the installed tree.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import type { DockerPort } from '../docker/port.js';
import { locateApp, LOCKFILES, type AppLocation } from './app-location.js';
import type { ImageBasics } from './basics.js';
import { computeReach, classify, type Classification, type Reach } from './deps-graph.js';
import { addArchive, emptyTree, pickManifest, type InstalledTree, type Manifest } from './deps-tree.js';
import { parseYaml } from './deps-yaml.js';
import { devOnlyFromLockfile, devOnlyFromPnpmLock, devOnlyFromYarnLock, devOnlyKeys, parseYarnLock, pnpmStoreKeys, type DevOnlyPackage, type DevOnlySet } from './lockfile.js';
import { observed, observeSync, parseJsonFile, unobserved, type Observed } from '../observed.js';

export interface InstalledDevPackage extends DevOnlyPackage {
  /** Absolute path in the image. */
  imagePath: string;
  sizeBytes: number;
}

/** A file the facts were read from: where ("image: /app/package.json", "build context: package.json") and what it holds. */
export interface FoundFile<T> {
  from: string;
  value: T;
}

export interface DevDependencyFacts {
  app: AppLocation;
  /**
   * The node_modules folders Node would look in for the app (from its folder upward) and those that
   * exist; not observed when one could not be looked at (then "none there" is not known).
   */
  nodeModules: Observed<{ lookedFor: string[]; found: string[] }>;
  /**
   * The app's package.json (the image's own, else the build context's): `undefined` when there is none
   * (an observation), not observed when it could not be read or parsed (the file and why).
   */
  manifest: Observed<FoundFile<Manifest> | undefined>;
  /**
   * The dev-only set of the lockfile that belongs to the installed tree: `undefined` when there is none,
   * not observed when the one found could not be read or parsed (the file and why).
   */
  lockfile: Observed<FoundFile<DevOnlySet> | undefined>;
  /** Read only when no node_modules was found: the entry file's bare requires (evidence, not the verdict). */
  entrySource?: Observed<{ path: string; bareRequires: string[] }>;
  /** Folders of the image's NODE_PATH that exist: Node loads packages from them too (not read by this check). */
  nodePath?: Observed<string[]>;
  /** Dev-only packages that exist in the image under the app's node_modules. */
  installed: InstalledDevPackage[];
  notes: string[];
  /** The tree sorted into production, dev-only and extraneous packages (absent when nothing was read). */
  classification?: Classification;
  productionCount?: number;
  /** A second lockfile that describes the same tree (npm's hidden lockfile, pnpm's .pnpm/lock.yaml). */
  crossCheck?: { from: string; devOnlyCount: number; agrees: boolean };
  /** A read that failed twice (e.g. a transient daemon error): what and why. */
  readErrors: string[];
}

const posix = path.posix;

/** Runs a read; a failure (a transient daemon error) is retried once, then thrown (an abort at once). */
async function twice<T>(work: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (signal?.aborted || attempt === 2) throw err;
    }
  }
}

const firstLine = (err: unknown) => ((err as Error)?.message ?? String(err)).split('\n')[0];
const stripBom = (text: string) => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

/** A package.json's text → the fields that decide what it needs; not observed (file and why) when it is no JSON object. */
export function parseManifest(file: string, text: string): Observed<Manifest> {
  const json = parseJsonFile(file, text);
  if (!json.ok) return json;
  if (!json.value || typeof json.value !== 'object' || Array.isArray(json.value)) return unobserved(`${file} is not a package.json: its JSON is not an object`);
  return observed(pickManifest(json.value as Record<string, unknown>));
}

/**
 * Parses a lockfile by its file name (a UTF-8 byte-order mark allowed, as npm, pnpm and yarn allow it);
 * yarn needs the manifest next to it for its roots. Not observed, with the file and why, when the text
 * is not a lockfile of its kind.
 */
export function parseLockfile(file: string, text: string, manifest: Manifest | undefined): Observed<DevOnlySet> {
  const base = posix.basename(file.replace(/^[a-z ]+: /, ''));
  if (base.endsWith('.json')) {
    const json = parseJsonFile(file, text);
    if (!json.ok) return json;
    const lock = json.value as Record<string, unknown> | null;
    if (!lock || typeof lock !== 'object' || Array.isArray(lock) || (lock.packages === undefined && lock.dependencies === undefined && lock.lockfileVersion === undefined)) {
      return unobserved(`${file} is not an npm lockfile: no lockfileVersion, packages or dependencies`);
    }
    return observeSync(`${file} could not be read as an npm lockfile`, () => devOnlyFromLockfile(lock as object));
  }
  const body = stripBom(text);
  if (base.endsWith('.yaml')) {
    return observeSync(`${file} could not be read as a pnpm lockfile`, () => {
      if (!/^lockfileVersion:/m.test(body)) throw new Error('no lockfileVersion');
      return devOnlyFromPnpmLock(body);
    });
  }
  if (base === 'yarn.lock') {
    if (!manifest) return unobserved(`${file}: a yarn.lock is read from the app's package.json (its devDependencies), and there is none`);
    return observeSync(`${file} could not be read as a yarn lockfile`, () => {
      // Only comments is a lockfile of a project without dependencies; anything else must give entries.
      if (body.split(/\r?\n/).some((l) => l.trim() && !l.startsWith('#')) && parseYarnLock(body).entries.size === 0) throw new Error('no entry could be read');
      return devOnlyFromYarnLock(body, manifest);
    });
  }
  return unobserved(`${file} is not a lockfile this check reads`);
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

/**
 * The context's package.json with the app's name (and version), searched a few folders deep; without a
 * name to look for, the context's root package.json. Files that do not parse cannot match a name.
 */
function findInContext(contextDir: string, appName: Manifest | undefined): string | undefined {
  const root = path.join(contextDir, 'package.json');
  if (!appName?.name) return existsSync(root) ? root : undefined;
  const queue: Array<{ dir: string; depth: number }> = [{ dir: contextDir, depth: 0 }];
  while (queue.length) {
    const { dir, depth } = queue.shift()!;
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const m = observeSync(file, () => readFileSync(file, 'utf8'));
      const parsed = m.ok ? parseManifest(file, m.value) : m;
      if (parsed.ok && parsed.value.name === appName.name && (!appName.version || !parsed.value.version || parsed.value.version === appName.version)) return file;
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

/** A host file of the build context: its text, or not observed (the file and why). */
const readContextFile = (file: string): Observed<string> => observeSync(`reading ${file}`, () => readFileSync(file, 'utf8'));

/** NODE_PATH as the image's config sets it (Node loads packages from those folders too). */
function nodePathOf(env: string[] | undefined): string[] {
  const value = env?.find((e) => e.startsWith('NODE_PATH='))?.slice('NODE_PATH='.length) ?? '';
  return value.split(':').filter((d) => d.startsWith('/'));
}

export async function gatherDevDependencies(
  docker: DockerPort,
  containerId: string,
  basics: ImageBasics,
  contextDir: string | undefined,
  signal?: AbortSignal,
): Promise<DevDependencyFacts> {
  const files = new ImageFiles(docker, containerId, signal);
  const app = await locateApp(basics.command, basics.image.config.workingDir, files.stat);
  const facts = factsOfLocation(app, files.readErrors);
  if (app.pnp && !app.installRoot) return facts;

  // The app's manifest and the installed trees are read side by side: each archive read costs the
  // daemon a helper process, so they overlap.
  const imageManifest = app.packageJson ? files.readText(app.packageJson) : Promise.resolve(observed(undefined));
  const tree = await readInstalledTrees(files, app);
  const { manifest, contextFile } = readAppManifest(facts, app, await imageManifest, contextDir);
  const found: FoundApp = { app, dir: app.packageJson ? posix.dirname(app.packageJson) : app.startDir, manifest, contextDir, contextManifestFile: contextFile };
  const reach = await readWorkspacePackages(files, tree, found, facts.notes);
  for (const why of tree.unparsable.values()) facts.notes.push(`${why} (its dependencies are not known)`);
  facts.lockfile = await readLockfile(files, found);
  const lockKeys = crossCheckHiddenLockfiles(facts, tree, manifest);
  notePnpmDevInstall(tree, facts.notes);
  noteWhatIsMissing(facts, app, manifest, contextDir);
  if (tree.roots.length) classifyInstalled(facts, app, tree, reach, lockKeys);
  else if (!app.installRoot && facts.nodeModules.ok) await lookBeyondNodeModules(files, facts, app, basics.image.config.env);
  return facts;
}

/** The image's files, read through the created container; each read is retried once (an abort is not). */
class ImageFiles {
  /** A read that failed twice: what and why. */
  readonly readErrors: string[] = [];
  /** Symlinked paths seen by stat → their target (the daemon resolves it in the container's root). */
  readonly links = new Map<string, string>();

  constructor(
    private readonly docker: DockerPort,
    private readonly containerId: string,
    private readonly signal: AbortSignal | undefined,
  ) {}

  get aborted(): boolean {
    return this.signal?.aborted === true;
  }

  /** undefined: absent; throws when the path could not be looked at (twice). */
  readonly stat = async (p: string): Promise<{ isDirectory: boolean } | undefined> => {
    const s = await twice(() => this.docker.statPath(this.containerId, p, { signal: this.signal }), this.signal);
    if (s?.linkTarget) {
      // statPath is an lstat: a symlinked node_modules (or entry) is judged by what it points to.
      const target = await twice(() => this.docker.statPath(this.containerId, s.linkTarget, { signal: this.signal }), this.signal);
      this.links.set(p, s.linkTarget);
      return target && { isDirectory: target.isDirectory };
    }
    return s && { isDirectory: s.isDirectory };
  };

  /** undefined: absent; not observed: the read failed twice. */
  async readText(p: string): Promise<Observed<string | undefined>> {
    try {
      return observed((await twice(() => this.docker.readFile(this.containerId, p, { signal: this.signal }), this.signal))?.toString('utf8'));
    } catch (err) {
      if (this.aborted) throw err;
      return unobserved(`reading ${p}: ${firstLine(err)}`);
    }
  }

  /** Whether a folder is there; a stat that failed twice is a read error (`stat <path>: why`), taken as absent. */
  async isDirectory(p: string): Promise<boolean> {
    try {
      return (await this.stat(p))?.isDirectory ?? false;
    } catch (err) {
      if (this.aborted) throw err;
      this.readErrors.push(`stat ${p}: ${firstLine(err)}`);
      return false;
    }
  }

  /** A node_modules folder's archive added to the tree; a failure is a read error (`reading <dir>: why`). */
  async addTree(tree: InstalledTree, dir: string, source: () => string = () => dir): Promise<void> {
    try {
      const from = source();
      await twice(async () => {
        const stream = await this.docker.archive(this.containerId, from, { signal: this.signal });
        if (stream) await addArchive(tree, from, stream, this.signal);
      }, this.signal);
    } catch (err) {
      if (this.aborted) throw err;
      this.readErrors.push(`reading ${dir}: ${firstLine(err)}`);
    }
  }
}

/** The app as found: its location, its folder, its package.json (the image's or the context's) and the build context. */
interface FoundApp {
  app: AppLocation;
  /** The folder of the app's package.json, else the folder it starts in. */
  dir: string;
  manifest?: Manifest;
  contextDir?: string;
  /** The build context's package.json of the app, when there is one. */
  contextManifestFile?: string;
}

/** The facts the app's location gives: where Node looks for node_modules and what is there. */
function factsOfLocation(app: AppLocation, readErrors: string[]): DevDependencyFacts {
  for (const u of app.unreadable ?? []) readErrors.push(`stat ${u.path}: ${u.why}`);
  const lookedFor = app.nodeModulesLookedFor ?? [];
  const nodeModulesUnknown = app.unreadable?.find((u) => lookedFor.includes(u.path));
  return {
    app,
    nodeModules: nodeModulesUnknown
      ? unobserved(`could not look at ${nodeModulesUnknown.path}: ${nodeModulesUnknown.why}`)
      : observed({ lookedFor, found: app.installRoots.map((r) => (r === '/' ? '/node_modules' : `${r}/node_modules`)) }),
    manifest: observed(undefined),
    lockfile: observed(undefined),
    installed: [],
    notes: [],
    readErrors,
  };
}

/** The installed trees, nearest first: one archive each. */
async function readInstalledTrees(files: ImageFiles, app: AppLocation): Promise<InstalledTree> {
  const tree = emptyTree();
  for (const root of app.installRoots) {
    const dir = root === '/' ? '/node_modules' : `${root}/node_modules`;
    const target = files.links.get(dir);
    await files.addTree(tree, dir, () => {
      if (target === undefined) return dir;
      // A symlinked node_modules: its target is read, and Node's realpath leads there.
      if (posix.basename(target) !== 'node_modules') throw new Error(`${dir} is a symlink to ${target}, which is not a node_modules folder`);
      tree.symlinks.set(dir, target);
      return target;
    });
  }
  return tree;
}

/**
 * The app's package.json into `facts.manifest`: the image's own, else the build context's (named as
 * such). `contextFile` is the context's package.json of the app, whichever was used.
 */
function readAppManifest(
  facts: DevDependencyFacts,
  app: AppLocation,
  imageManifest: Observed<string | undefined>,
  contextDir: string | undefined,
): { manifest?: Manifest; contextFile?: string } {
  let manifest: Manifest | undefined;
  if (app.blocked?.packageJson) {
    facts.manifest = unobserved(`the app's package.json is not known: ${app.blocked.packageJson}`);
  } else if (!imageManifest.ok) {
    facts.manifest = imageManifest;
  } else if (imageManifest.value !== undefined) {
    const parsed = parseManifest(app.packageJson!, imageManifest.value);
    facts.manifest = parsed.ok ? observed({ from: `image: ${app.packageJson}`, value: parsed.value }) : parsed;
  }
  if (facts.manifest.ok && facts.manifest.value) manifest = facts.manifest.value.value;
  const contextFile = contextDir ? findInContext(contextDir, manifest) : undefined;
  if (facts.manifest.ok && !manifest && contextFile && contextDir) {
    // The image has none: the build context's, named as such.
    const shown = `build context: ${path.relative(contextDir, contextFile)}`;
    const text = readContextFile(contextFile);
    const parsed = text.ok ? parseManifest(shown, text.value) : text;
    facts.manifest = parsed.ok ? observed({ from: shown, value: parsed.value }) : parsed;
    if (parsed.ok) manifest = parsed.value;
  }
  return { manifest, contextFile };
}

/** Workspace packages linked from outside node_modules: their package.json (and own node_modules), read until the reach is closed. */
async function readWorkspacePackages(files: ImageFiles, tree: InstalledTree, { dir: appDir, manifest }: FoundApp, notes: string[]): Promise<Reach | undefined> {
  const externals = new Map<string, Manifest | null>();
  let reach = manifest ? computeReach(tree, externals, appDir, manifest) : undefined;
  for (let round = 0; reach && reach.external.length && round < 8; round++) {
    for (const dir of reach.external.slice(0, 50)) {
      const text = await files.readText(`${dir}/package.json`);
      const parsed = !text.ok ? text : text.value === undefined ? undefined : parseManifest(`${dir}/package.json`, text.value);
      if (parsed && !parsed.ok) notes.push(`workspace package ${dir}: ${parsed.why}`);
      externals.set(dir, parsed?.ok ? parsed.value : null);
      if (await files.isDirectory(`${dir}/node_modules`)) await files.addTree(tree, `${dir}/node_modules`);
    }
    reach = computeReach(tree, externals, appDir, manifest!);
  }
  return reach;
}

interface LockfileCandidate {
  where: string;
  read: () => Promise<Observed<string | undefined>>;
  /** The package.json next to it (yarn.lock is read with it). */
  manifest: () => Promise<Manifest | undefined>;
}

/**
 * The lockfile that belongs to the installed tree first: the image's own next to its node_modules,
 * then upward from the app, then the build context's (upward from the app's package.json there).
 * The first one that exists decides: one that cannot be read or parsed is "not observed", never
 * skipped for the next (which would describe another tree).
 */
async function readLockfile(files: ImageFiles, found: FoundApp): Promise<DevDependencyFacts['lockfile']> {
  if (found.app.blocked?.lockfile) return unobserved(`the lockfile is not known: ${found.app.blocked.lockfile}`);
  for (const candidate of lockfileCandidates(files, found)) {
    const text = await candidate.read();
    if (!text.ok) return unobserved(`${candidate.where}: ${text.why}`);
    if (text.value === undefined) continue;
    const set = parseLockfile(candidate.where, text.value, await candidate.manifest());
    return set.ok ? observed({ from: candidate.where, value: set.value }) : set;
  }
  return observed(undefined);
}

function lockfileCandidates(files: ImageFiles, { app, dir: appDir, manifest, contextDir, contextManifestFile }: FoundApp): LockfileCandidate[] {
  const candidates: LockfileCandidate[] = [];
  const imageLockfiles = [...app.installRoots.flatMap((r) => LOCKFILES.map((f) => (r === '/' ? `/${f}` : `${r}/${f}`)))];
  if (app.lockfile && !imageLockfiles.includes(app.lockfile)) imageLockfiles.push(app.lockfile);
  for (const file of imageLockfiles) {
    candidates.push({
      where: `image: ${file}`,
      read: () => files.readText(file),
      manifest: async () => {
        if (posix.dirname(file) === appDir) return manifest;
        const text = await files.readText(`${posix.dirname(file)}/package.json`);
        const parsed = text.ok && text.value !== undefined ? parseManifest(`${posix.dirname(file)}/package.json`, text.value) : undefined;
        return parsed?.ok ? parsed.value : undefined;
      },
    });
  }
  const lock = contextDir && contextLockfile(contextDir, contextManifestFile ? path.dirname(contextManifestFile) : contextDir);
  if (contextDir && lock) {
    candidates.push({
      where: `build context: ${path.relative(contextDir, lock)}`,
      read: async () => readContextFile(lock),
      manifest: async () => {
        const file = path.join(path.dirname(lock), 'package.json');
        const text = existsSync(file) ? readContextFile(file) : undefined;
        const parsed = text?.ok ? parseManifest(file, text.value) : undefined;
        return (parsed?.ok ? parsed.value : undefined) ?? manifest;
      },
    });
  }
  return candidates;
}

/**
 * The package managers' own records of the installed tree (npm's hidden lockfile, pnpm's
 * .pnpm/lock.yaml), as a cross-check, and the lockfile when none was found. Returns the dev-only keys
 * both give.
 */
function crossCheckHiddenLockfiles(facts: DevDependencyFacts, tree: InstalledTree, manifest: Manifest | undefined): Set<string> | undefined {
  const lockfileSet = facts.lockfile.ok ? facts.lockfile.value?.value : undefined;
  const nearest = tree.roots[0];
  let lockKeys = lockfileSet ? new Set([...devOnlyKeys(lockfileSet), ...pnpmStoreKeys(lockfileSet)]) : undefined;
  for (const hiddenFile of nearest ? [`${nearest}/.package-lock.json`, `${nearest}/.pnpm/lock.yaml`] : []) {
    const text = tree.hidden.get(hiddenFile);
    if (text === undefined) continue;
    const set = parseLockfile(`image: ${hiddenFile}`, text, manifest);
    if (!set.ok) {
      facts.notes.push(`the cross-check was not read: ${set.why}`);
      continue;
    }
    const keys = devOnlyKeys(set.value);
    const agrees = !lockKeys || [...keys].every((k) => lockKeys!.has(k));
    facts.crossCheck = { from: `image: ${hiddenFile}`, devOnlyCount: set.value.packages.length, agrees };
    if (facts.lockfile.ok && !facts.lockfile.value) facts.lockfile = observed({ from: `image: ${hiddenFile}`, value: set.value });
    lockKeys = new Set([...(lockKeys ?? []), ...keys, ...pnpmStoreKeys(set.value)]);
    break;
  }
  return lockKeys;
}

/** pnpm records in .modules.yaml whether it installed the devDependencies. */
function notePnpmDevInstall(tree: InstalledTree, notes: string[]): void {
  const nearest = tree.roots[0];
  const modulesYaml = nearest ? tree.hidden.get(`${nearest}/.modules.yaml`) : undefined;
  if (!modulesYaml) return;
  const yaml = observeSync(`${nearest}/.modules.yaml`, () => parseYaml(stripBom(modulesYaml)) as Record<string, unknown>);
  const included = yaml.ok ? (yaml.value.included as Record<string, string> | undefined) : undefined;
  if (included?.devDependencies === 'true') notes.push(`${nearest}/.modules.yaml says pnpm installed the devDependencies (included.devDependencies: true)`);
}

function noteWhatIsMissing(facts: DevDependencyFacts, app: AppLocation, manifest: Manifest | undefined, contextDir: string | undefined): void {
  if (facts.manifest.ok && !manifest) facts.notes.push(`no package.json for the app (looked upward from ${app.startDir}${contextDir ? ' and in the build context' : ''}): the production set cannot be computed`);
  if (facts.lockfile.ok && !facts.lockfile.value && manifest) facts.notes.push('no lockfile found: dev-only packages are the closure of package.json devDependencies in the image');
  if (!app.installRoot) facts.notes.push(`no node_modules found from ${app.startDir} upward`);
}

/** The installed tree sorted into production, dev-only and extraneous packages; the dev-only ones are the finding. */
function classifyInstalled(facts: DevDependencyFacts, app: AppLocation, tree: InstalledTree, reach: Reach | undefined, lockKeys: Set<string> | undefined): void {
  const classification = classify(tree, reach, lockKeys);
  facts.classification = classification;
  facts.productionCount = reach?.production.size;
  if (reach?.unresolved.length) facts.notes.push(`required but not installed: ${reach.unresolved.slice(0, 5).map((u) => `${u.name} (from ${u.from})`).join(', ')}`);
  const root = app.installRoot === '/' ? '' : app.installRoot ?? '';
  facts.installed = classification.dev.map((p) => ({ name: p.name, version: p.version, path: p.path.startsWith(`${root}/`) ? p.path.slice(root.length + 1) : p.path, imagePath: p.path, sizeBytes: p.sizeBytes ?? 0 }));
}

/**
 * No node_modules where Node looks: what else could the app load packages from? NODE_PATH; and the
 * entry file's bare requires, as evidence (a bundle needs none; a package it names is not installed).
 */
async function lookBeyondNodeModules(files: ImageFiles, facts: DevDependencyFacts, app: AppLocation, env: string[] | undefined): Promise<void> {
  const nodePath = nodePathOf(env);
  const present: string[] = [];
  let failed: string | undefined;
  for (const dir of nodePath) {
    try {
      if ((await files.stat(dir))?.isDirectory) present.push(dir);
    } catch (err) {
      if (files.aborted) throw err;
      failed = `stat ${dir} (NODE_PATH): ${firstLine(err)}`;
    }
  }
  if (nodePath.length) facts.nodePath = failed ? unobserved(failed) : observed(present);
  if (app.entryScript && app.entryKind?.ok && app.entryKind.value === 'file') {
    const source = await files.readText(app.entryScript);
    facts.entrySource = !source.ok
      ? source
      : source.value === undefined
        ? unobserved(`${app.entryScript} was there when looked at, but reading it found no file`)
        : observed({ path: app.entryScript, bareRequires: bareRequires(source.value) });
  }
}
