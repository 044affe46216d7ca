// Finds the app's package.json, lockfile and node_modules inside the image the way Node resolves
// modules: from the entry script's directory upward (real images keep node_modules in a parent of the
// source folder, e.g. /opt/node_app/node_modules with the app in /opt/node_app/app).
import { posix as path } from 'node:path';
import type { StartCommand } from './command.js';

export interface AppLocation {
  /** Where the search started: the entry script's folder, or WORKDIR. */
  startDir: string;
  entryScript?: string;
  /** The nearest folder (upward) holding node_modules; lockfile paths are relative to it. */
  installRoot?: string;
  packageJson?: string;
  lockfile?: string;
  searched: string[];
}

export type StatFn = (absolutePath: string) => Promise<{ isDirectory: boolean } | undefined>;

function ancestors(dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; ; d = path.dirname(d)) {
    out.push(d);
    if (d === '/') return out;
  }
}

export async function locateApp(command: StartCommand, workingDir: string, stat: StatFn): Promise<AppLocation> {
  const cwd = workingDir || '/';
  let startDir = cwd;
  let entryScript: string | undefined;
  if (command.entryScript) {
    entryScript = path.resolve(cwd, command.entryScript);
    const s = await stat(entryScript);
    // `node dist` runs dist/index.js: the folder itself is where resolution starts.
    startDir = s?.isDirectory ? entryScript : path.dirname(entryScript);
  }
  const location: AppLocation = { startDir, entryScript, searched: [] };
  for (const dir of ancestors(startDir)) {
    location.searched.push(dir);
    const join = (name: string) => (dir === '/' ? `/${name}` : `${dir}/${name}`);
    const [nodeModules, packageJson, lock, shrinkwrap] = await Promise.all(
      ['node_modules', 'package.json', 'package-lock.json', 'npm-shrinkwrap.json'].map((name) => stat(join(name))),
    );
    if (!location.installRoot && nodeModules?.isDirectory) location.installRoot = dir;
    if (!location.packageJson && packageJson && !packageJson.isDirectory) location.packageJson = join('package.json');
    if (!location.lockfile && (shrinkwrap || lock)) location.lockfile = join(shrinkwrap ? 'npm-shrinkwrap.json' : 'package-lock.json');
    if (location.installRoot && location.packageJson && location.lockfile) break;
  }
  return location;
}
