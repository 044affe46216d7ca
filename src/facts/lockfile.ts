// Which packages are dev-only, read from an npm lockfile. npm marks a package `"dev": true` when only
// devDependencies (directly or transitively) need it; `devOptional` ones are also needed by an optional
// production dependency, so they are not dev-only.

export interface DevOnlyPackage {
  /** Install location relative to the project root, e.g. "node_modules/a/node_modules/b". */
  path: string;
  name: string;
  version?: string;
}

export interface DevOnlySet {
  source: 'lockfile' | 'package.json';
  lockfileVersion?: number;
  packages: DevOnlyPackage[];
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
  if (lock.packages) {
    for (const [path, entry] of Object.entries(lock.packages)) {
      // "" is the root project; keys outside node_modules are workspace folders, not installs.
      if (!path.includes('node_modules/') || entry.dev !== true) continue;
      packages.push({ path, name: entry.name ?? nameFromPath(path), version: entry.version });
    }
  } else if (lock.dependencies) {
    // lockfile v1: nested `dependencies`, each level installed below its parent's node_modules.
    const walk = (deps: Record<string, LockfileV1Dep>, prefix: string) => {
      for (const [name, dep] of Object.entries(deps)) {
        const path = `${prefix}node_modules/${name}`;
        if (dep.dev === true) packages.push({ path, name, version: dep.version });
        if (dep.dependencies) walk(dep.dependencies, `${path}/`);
      }
    };
    walk(lock.dependencies, '');
  }
  packages.sort((a, b) => a.path.localeCompare(b.path));
  return { source: 'lockfile', lockfileVersion: lock.lockfileVersion, packages };
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
