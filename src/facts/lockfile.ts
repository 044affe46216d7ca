// Which packages are dev-only, read from a lockfile: npm (package-lock.json, npm-shrinkwrap.json and
// node_modules/.package-lock.json), pnpm (pnpm-lock.yaml v5/v6 `dev: true`; v9 importers'
// devDependencies through `snapshots`) and yarn (v1 and berry: the closure of package.json
// devDependencies minus that of the production ones). npm marks a package `"dev": true` when only
// devDependencies (directly or transitively) need it; `devOptional` ones are also needed by an optional
// production dependency, so they are not dev-only. Installed packages are matched by name AND version.
import { parseYaml, type YamlValue } from './deps-yaml.js';

export interface DevOnlyPackage {
  /** Install location relative to the project root, e.g. "node_modules/a/node_modules/b". */
  path: string;
  name: string;
  version?: string;
}

export interface DevOnlySet {
  source: 'lockfile' | 'package.json';
  kind?: 'npm' | 'pnpm' | 'yarn';
  lockfileVersion?: number | string;
  packages: DevOnlyPackage[];
  /** name@version of every entry that is NOT dev-only: a name@version listed both ways is not dev-only. */
  otherKeys?: string[];
}

export const packageKey = (name: string, version: string | undefined) => `${name}@${version ?? ''}`;

/** The name@version pairs only dev dependencies need, for matching installed packages. */
export function devOnlyKeys(set: DevOnlySet): Set<string> {
  const other = new Set(set.otherKeys ?? []);
  return new Set(set.packages.filter((p) => p.version !== undefined).map((p) => packageKey(p.name, p.version)).filter((k) => !other.has(k)));
}

interface LockfileV2 {
  lockfileVersion?: number;
  packages?: Record<string, { name?: string; version?: string; dev?: boolean; link?: boolean }>;
  dependencies?: Record<string, LockfileV1Dep>;
}

interface LockfileV1Dep {
  version?: string;
  dev?: boolean;
  dependencies?: Record<string, LockfileV1Dep>;
}

function nameFromPath(path: string): string {
  const at = path.lastIndexOf('node_modules/');
  return path.slice(at + 'node_modules/'.length);
}

export function devOnlyFromLockfile(lock: LockfileV2): DevOnlySet {
  const packages: DevOnlyPackage[] = [];
  const otherKeys: string[] = [];
  if (lock.packages) {
    for (const [path, entry] of Object.entries(lock.packages)) {
      // "" is the root project; keys outside node_modules are workspace folders, not installs.
      if (!path.includes('node_modules/')) continue;
      const name = entry.name ?? nameFromPath(path);
      if (entry.dev !== true) otherKeys.push(packageKey(name, entry.version));
      else packages.push({ path, name, version: entry.version });
    }
  } else if (lock.dependencies) {
    // lockfile v1: nested `dependencies`, each level installed below its parent's node_modules.
    const walk = (deps: Record<string, LockfileV1Dep>, prefix: string) => {
      for (const [name, dep] of Object.entries(deps)) {
        const path = `${prefix}node_modules/${name}`;
        if (dep.dev === true) packages.push({ path, name, version: dep.version });
        else otherKeys.push(packageKey(name, dep.version));
        if (dep.dependencies) walk(dep.dependencies, `${path}/`);
      }
    };
    walk(lock.dependencies, '');
  }
  packages.sort((a, b) => a.path.localeCompare(b.path));
  return { source: 'lockfile', kind: 'npm', lockfileVersion: lock.lockfileVersion, packages, otherKeys };
}

/** Without a lockfile only the direct devDependencies are known; production ones win a tie. */
export function devOnlyFromPackageJson(pkg: {
  devDependencies?: Record<string, string>;
  dependencies?: Record<string, string>;
}): DevOnlySet {
  const prod = new Set(Object.keys(pkg.dependencies ?? {}));
  const packages = Object.keys(pkg.devDependencies ?? {})
    .filter((name) => !prod.has(name))
    .sort()
    .map((name) => ({ path: `node_modules/${name}`, name }));
  return { source: 'package.json', packages };
}

type Deps = Record<string, string>;
const asMap = (v: YamlValue | undefined): Record<string, YamlValue> => (v && typeof v === 'object' && !Array.isArray(v) ? v : {});
const asDeps = (v: YamlValue | undefined): Deps =>
  Object.fromEntries(Object.entries(asMap(v)).map(([k, x]) => [k, typeof x === 'string' ? x : String(asMap(x).version ?? '')]));

/**
 * "name@1.2.3(peer@1)" (v6, v9), "name@file:vendor/name" (v9, a local folder), "/name@1.2.3",
 * "/name/1.2.3_peer@1" (v5) → name and version (for a local folder, its specifier).
 */
export function splitPnpmKey(key: string): { name: string; version: string } | undefined {
  let k = key.startsWith('/') ? key.slice(1) : key;
  const paren = k.indexOf('(');
  if (paren > 0) k = k.slice(0, paren);
  const start = k.startsWith('@') ? k.indexOf('/') + 1 : 0; // past a scope
  const at = start > 0 || !k.startsWith('@') ? k.indexOf('@', start) : -1;
  if (at > 0 && !k.slice(start, at).includes('/')) return { name: k.slice(0, at), version: k.slice(at + 1) };
  const slash = k.lastIndexOf('/'); // v5: name/version_peers
  if (slash > 0) return { name: k.slice(0, slash), version: k.slice(slash + 1).split('_')[0] };
  return undefined;
}

/**
 * pnpm's folder in its virtual store for a snapshot key (`.pnpm/<folder>/node_modules/<name>`), as
 * pnpm 9's depPathToFilename names it, or undefined when pnpm would have hashed it (too long, or upper case).
 */
export function pnpmStoreFolder(depPath: string): string | undefined {
  let k = depPath.startsWith('/') ? depPath.slice(1) : depPath;
  k = k.startsWith('file:') ? k.replace(':', '+') : k;
  let folder = k.replace(/[\\/:*?"<>|]/g, '+');
  if (folder.includes('(')) folder = folder.replace(/\)$/, '').replace(/(\)\()|\(|\)/g, '_');
  if (folder.length > 120 || (folder !== folder.toLowerCase() && !folder.startsWith('file+'))) return undefined;
  return folder;
}

/**
 * `.pnpm/<folder>` of every dev-only pnpm package: how a package installed from a local folder, a tarball
 * or git (whose lockfile "version" is its specifier, not the version in its package.json) is matched.
 */
export function pnpmStoreKeys(set: DevOnlySet): Set<string> {
  const keys = new Set<string>();
  if (set.kind !== 'pnpm') return keys;
  const other = new Set(set.otherKeys ?? []);
  for (const p of set.packages) {
    const folder = pnpmStoreFolder(p.path);
    if (folder && !other.has(packageKey(p.name, p.version))) keys.add(`.pnpm/${folder}`);
  }
  return keys;
}

/** Closure over `next` from the start keys; `stop` keys are not entered. */
function closure(starts: string[], next: (key: string) => string[], stop = new Set<string>()): Set<string> {
  const seen = new Set<string>();
  const queue = starts.filter((k) => !stop.has(k));
  while (queue.length) {
    const key = queue.pop()!;
    if (seen.has(key)) continue;
    seen.add(key);
    for (const n of next(key)) if (!seen.has(n) && !stop.has(n)) queue.push(n);
  }
  return seen;
}

export function devOnlyFromPnpmLock(text: string): DevOnlySet {
  const lock = asMap(parseYaml(text));
  const lockfileVersion = String(lock.lockfileVersion ?? '');
  const packages: DevOnlyPackage[] = [];
  const otherKeys: string[] = [];
  const snapshots = asMap(lock.snapshots);
  if (Object.keys(snapshots).length || Number.parseFloat(lockfileVersion) >= 9) {
    // v9: dev-only = closure of the importers' devDependencies minus that of their production ones.
    const importers = Object.values(asMap(lock.importers)).map(asMap);
    // An alias names its own package ("string-width-cjs: string-width@4.2.3").
    const ref = (name: string, version: string) => (snapshots[`${name}@${version}`] !== undefined || snapshots[version] === undefined ? `${name}@${version}` : version);
    if (!importers.length && (lock.dependencies || lock.devDependencies)) importers.push(lock);
    const starts = (field: string) =>
      importers.flatMap((imp) => Object.entries(asDeps(imp[field])).filter(([, v]) => !v.startsWith('link:')).map(([n, v]) => ref(n, v)));
    const next = (key: string) => {
      const snap = asMap(snapshots[key]);
      return Object.entries({ ...asDeps(snap.dependencies), ...asDeps(snap.optionalDependencies) })
        .filter(([, v]) => !v.startsWith('link:'))
        .map(([n, v]) => ref(n, v));
    };
    const prod = closure([...starts('dependencies'), ...starts('optionalDependencies')], next);
    const dev = closure(starts('devDependencies'), next, prod);
    for (const key of prod) {
      const s = splitPnpmKey(key);
      if (s) otherKeys.push(packageKey(s.name, s.version));
    }
    for (const key of dev) {
      const s = splitPnpmKey(key);
      if (s) packages.push({ path: key, name: s.name, version: s.version });
    }
  } else {
    // v5/v6: each package says `dev: true` (dev-only), `dev: false` (production) or nothing (both).
    for (const [key, entry] of Object.entries(asMap(lock.packages))) {
      const s = splitPnpmKey(key);
      if (!s) continue;
      if (asMap(entry).dev === 'true') packages.push({ path: key, name: s.name, version: s.version });
      else otherKeys.push(packageKey(s.name, s.version));
    }
  }
  packages.sort((a, b) => a.path.localeCompare(b.path));
  return { source: 'lockfile', kind: 'pnpm', lockfileVersion, packages, otherKeys };
}

interface YarnEntry {
  version?: string;
  dependencies: Deps;
}

/** yarn.lock v1 (its own format) or berry (YAML): descriptor "name@range" → entry. */
export function parseYarnLock(text: string): { version: 1 | 2; entries: Map<string, YarnEntry> } {
  const entries = new Map<string, YarnEntry>();
  if (/^__metadata:/m.test(text)) {
    for (const [keys, value] of Object.entries(asMap(parseYaml(text)))) {
      if (keys === '__metadata') continue;
      const v = asMap(value);
      const entry = { version: typeof v.version === 'string' ? v.version : undefined, dependencies: { ...asDeps(v.dependencies), ...asDeps(v.optionalDependencies) } };
      for (const d of keys.split(',')) entries.set(d.trim(), entry);
    }
    return { version: 2, entries };
  }
  let current: YarnEntry | undefined;
  let inDeps = false;
  const unquote = (s: string) => s.trim().replace(/^"|"$/g, '');
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim() || line.startsWith('#')) continue;
    const indent = line.length - line.trimStart().length;
    if (indent === 0 && line.endsWith(':')) {
      current = { dependencies: {} };
      for (const d of line.slice(0, -1).split(',')) entries.set(unquote(d), current);
      inDeps = false;
    } else if (current && indent === 2) {
      const t = line.trim();
      inDeps = t === 'dependencies:' || t === 'optionalDependencies:';
      const m = /^version\s+"?([^"]+)"?$/.exec(t);
      if (m) current.version = m[1];
    } else if (current && inDeps && indent >= 4) {
      const m = /^("[^"]+"|\S+)\s+(.+)$/.exec(line.trim());
      if (m) current.dependencies[unquote(m[1])] = unquote(m[2]);
    }
  }
  return { version: 1, entries };
}

/** yarn: dev-only = closure of the manifest's devDependencies minus that of its production ones. */
export function devOnlyFromYarnLock(
  text: string,
  manifest: { dependencies?: Deps; optionalDependencies?: Deps; devDependencies?: Deps },
): DevOnlySet {
  const { version, entries } = parseYarnLock(text);
  const lookup = (name: string, range: string) => (entries.has(`${name}@${range}`) ? `${name}@${range}` : entries.has(`${name}@npm:${range}`) ? `${name}@npm:${range}` : undefined);
  const starts = (deps: Deps | undefined) => Object.entries(deps ?? {}).map(([n, r]) => lookup(n, r)).filter((k): k is string => k !== undefined);
  const next = (key: string) => starts(entries.get(key)?.dependencies);
  const prod = closure([...starts(manifest.dependencies), ...starts(manifest.optionalDependencies)], next);
  const dev = closure(starts(manifest.devDependencies), next, prod);
  const nameOf = (descriptor: string) => descriptor.slice(0, descriptor.indexOf('@', 1));
  const otherKeys = [...prod].map((k) => packageKey(nameOf(k), entries.get(k)?.version));
  const seen = new Set<string>();
  const packages: DevOnlyPackage[] = [];
  for (const k of dev) {
    const key = packageKey(nameOf(k), entries.get(k)?.version);
    if (seen.has(key)) continue;
    seen.add(key);
    packages.push({ path: k, name: nameOf(k), version: entries.get(k)?.version });
  }
  packages.sort((a, b) => a.path.localeCompare(b.path));
  return { source: 'lockfile', kind: 'yarn', lockfileVersion: version, packages, otherKeys };
}
