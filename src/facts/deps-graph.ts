// The production-reachable set inside the image, lockfile-free: from the app's package.json
// dependencies, optionalDependencies and present peerDependencies, each resolved the way Node does
// (nearest node_modules upward, realpath through symlinks: npm hoisting and nesting, yarn's
// node-modules linker, pnpm's .pnpm/<id>/node_modules siblings), then the same for every package
// reached. What the tree holds beyond that set is extraneous; the closure of devDependencies among
// it is dev-only.
import { posix as path } from 'node:path';
import { insideRoots, realpath, type InstalledTree, type Manifest } from './deps-tree.js';
import { packageKey } from './lockfile.js';

export interface Reach {
  /** Real folders of the packages production code can reach. */
  production: Set<string>;
  /** Real folders reached only through devDependencies. */
  devClosure: Set<string>;
  /** Required dependencies no folder answers (the app would fail to load them). */
  unresolved: Array<{ name: string; from: string }>;
  /** Package folders outside the trees read (workspace packages) whose package.json is still needed. */
  external: string[];
}

function ancestors(dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; ; d = path.dirname(d)) {
    out.push(d);
    if (d === '/') return out;
  }
}

/** Node's lookup of a bare name from a folder; external folders are known by `externals`. */
export function resolveFrom(
  tree: InstalledTree,
  externals: Map<string, Manifest | null>,
  name: string,
  fromDir: string,
  pending?: Set<string>,
): string | undefined {
  for (const dir of ancestors(fromDir)) {
    if (path.basename(dir) === 'node_modules') continue;
    const candidate = path.join(dir, 'node_modules', name);
    const real = realpath(tree, candidate);
    if (tree.packages.has(real)) return real;
    if (real !== candidate && !insideRoots(tree, real)) {
      const known = externals.get(real);
      if (known) return real;
      if (known === undefined) pending?.add(real);
    }
  }
  return undefined;
}

const bundled = (m: Manifest): string[] => {
  const list = m.bundleDependencies ?? m.bundledDependencies;
  if (Array.isArray(list)) return list;
  return list === true ? Object.keys(m.dependencies ?? {}) : [];
};

/** What a package needs at run time: required names and those that may be absent. */
function needsOf(m: Manifest): Array<{ name: string; optional: boolean }> {
  return [
    ...Object.keys(m.dependencies ?? {}).map((name) => ({ name, optional: false })),
    ...[...Object.keys(m.optionalDependencies ?? {}), ...Object.keys(m.peerDependencies ?? {}), ...bundled(m)].map((name) => ({ name, optional: true })),
  ];
}

export function computeReach(
  tree: InstalledTree,
  externals: Map<string, Manifest | null>,
  appDir: string,
  app: Manifest,
): Reach {
  const pending = new Set<string>();
  const unresolved: Reach['unresolved'] = [];
  const manifestOf = (dir: string) => tree.packages.get(dir) ?? externals.get(dir) ?? undefined;
  const walk = (starts: Array<{ name: string; optional: boolean }>, fromDir: string, stop: Set<string>) => {
    const seen = new Set<string>();
    const queue: Array<{ dir: string; needs: Array<{ name: string; optional: boolean }> }> = [{ dir: fromDir, needs: starts }];
    while (queue.length) {
      const { dir, needs } = queue.pop()!;
      for (const need of needs) {
        const found = resolveFrom(tree, externals, need.name, dir, pending);
        if (!found) {
          if (!need.optional && stop.size === 0) unresolved.push({ name: need.name, from: dir });
          continue;
        }
        if (seen.has(found) || stop.has(found)) continue;
        seen.add(found);
        const m = manifestOf(found);
        if (m) queue.push({ dir: found, needs: needsOf(m) });
      }
    }
    return seen;
  };
  const starts = needsOf({ ...app, bundleDependencies: undefined, bundledDependencies: app.bundleDependencies ?? app.bundledDependencies });
  const production = walk(starts, appDir, new Set());
  // A workspace root's own linked workspace packages are part of the app.
  if (app.workspaces) {
    const prefix = path.join(appDir, 'node_modules') + '/';
    for (const [link, target] of tree.symlinks) {
      if (!link.startsWith(prefix) || insideRoots(tree, target) || !externals.get(target)) continue;
      production.add(target);
      for (const dir of walk(needsOf(externals.get(target)!), target, production)) production.add(dir);
    }
  }
  const devStarts = Object.keys(app.devDependencies ?? {}).map((name) => ({ name, optional: true }));
  const devClosure = walk(devStarts, appDir, production);
  return { production, devClosure, unresolved, external: [...pending] };
}

export interface ClassifiedPackage {
  name: string;
  version?: string;
  /** Real folder in the image. */
  path: string;
  /** undefined when the size could not be read. */
  sizeBytes?: number;
  /** Why it counts as dev-only: the devDependencies closure in the image, the lockfile, or both. */
  devBy?: Array<'package.json' | 'lockfile'>;
}

export interface Classification {
  installedCount: number;
  dev: ClassifiedPackage[];
  /** Unreachable and not known as dev-only. */
  extraneous: ClassifiedPackage[];
  /** Reachable in the image although the lockfile names them dev-only (reported, not failed). */
  reachableButLockDev: ClassifiedPackage[];
}

/** Sorts the tree's packages into production, dev-only and other extraneous ones. */
export function classify(tree: InstalledTree, reach: Reach | undefined, lockDevKeys: Set<string> | undefined): Classification {
  const dev: ClassifiedPackage[] = [];
  const extraneous: ClassifiedPackage[] = [];
  const reachableButLockDev: ClassifiedPackage[] = [];
  let installedCount = 0;
  for (const [dir, m] of tree.packages) {
    if (!insideRoots(tree, dir)) continue;
    installedCount++;
    const name = m.name ?? dir.slice(dir.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const item: ClassifiedPackage = { name, version: m.version, path: dir, sizeBytes: tree.sizes.get(dir) };
    const storeFolder = /\/node_modules\/\.pnpm\/([^/]+)\/node_modules\//.exec(dir)?.[1];
    const byLock = (lockDevKeys?.has(packageKey(name, m.version)) || (storeFolder !== undefined && lockDevKeys?.has(`.pnpm/${storeFolder}`))) ?? false;
    if (reach?.production.has(dir)) {
      if (byLock) reachableButLockDev.push(item);
      continue;
    }
    const byGraph = reach?.devClosure.has(dir) ?? false;
    if (byGraph || byLock) dev.push({ ...item, devBy: [...(byGraph ? (['package.json'] as const) : []), ...(byLock ? (['lockfile'] as const) : [])] });
    else if (reach) extraneous.push(item);
  }
  const byPath = (a: ClassifiedPackage, b: ClassifiedPackage) => a.path.localeCompare(b.path);
  return { installedCount, dev: dev.sort(byPath), extraneous: extraneous.sort(byPath), reachableButLockDev: reachableButLockDev.sort(byPath) };
}
