// Finds the app's package.json, lockfile and node_modules inside the image the way Node resolves
// modules: from the entry script's directory upward (real images keep node_modules in a parent of the
// source folder, e.g. /opt/node_app/node_modules with the app in /opt/node_app/app). The official
// images' `docker-entrypoint.sh` execs its arguments (prefixing `node` when the first is a script or
// an option), so the entry script is read from the CMD it runs.
import { posix as path } from 'node:path';
import { analyseCommand, basename, type StartCommand } from './command.js';

export interface AppLocation {
  /** Where the search started: the entry script's folder, or WORKDIR. */
  startDir: string;
  entryScript?: string;
  /** The nearest folder (upward) holding node_modules; lockfile paths are relative to it. */
  installRoot?: string;
  /** Every folder upward holding a node_modules folder, nearest first (Node looks in all of them). */
  installRoots: string[];
  packageJson?: string;
  /** The nearest lockfile upward (npm, pnpm or yarn). */
  lockfile?: string;
  /** Yarn Plug'n'Play's loader, when the app uses it (no node_modules to read). */
  pnp?: string;
  searched: string[];
}

export type StatFn = (absolutePath: string) => Promise<{ isDirectory: boolean } | undefined>;

export const LOCKFILES = ['npm-shrinkwrap.json', 'package-lock.json', 'pnpm-lock.yaml', 'yarn.lock'];

function ancestors(dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; ; d = path.dirname(d)) {
    out.push(d);
    if (d === '/') return out;
  }
}

/** The command behind `docker-entrypoint.sh` (official node images), as the script runs it. */
export function behindEntrypointScript(command: StartCommand): StartCommand {
  const at = command.argv.findIndex((a) => basename(a) === 'docker-entrypoint.sh');
  if (at < 0 || command.entryScript) return command;
  const rest = command.argv.slice(at + 1);
  if (!rest.length) return command;
  // The script prefixes node when its first argument is an option or a file that is not a command.
  const runsNode = rest[0].startsWith('-') || /\.(c|m)?js$/.test(rest[0]);
  return analyseCommand([], runsNode ? ['node', ...rest] : rest);
}

export async function locateApp(command: StartCommand, workingDir: string, stat: StatFn, runtime?: { cwd: string; entryScript?: string }): Promise<AppLocation> {
  const cwd = runtime?.cwd || workingDir || '/';
  const effective = behindEntrypointScript(command);
  let startDir = cwd;
  let entryScript: string | undefined;
  const script = runtime?.entryScript ?? effective.entryScript;
  if (script) {
    entryScript = path.resolve(cwd, script);
    const s = await stat(entryScript);
    // `node dist` runs dist/index.js: the folder itself is where resolution starts.
    startDir = s?.isDirectory ? entryScript : path.dirname(entryScript);
  }
  const location: AppLocation = { startDir, entryScript, installRoots: [], searched: [] };
  // Every ancestor's candidates in one round: each stat is a round trip to the daemon, and a
  // sequential walk up from /home/node/app/dist cost ~0.25 s (measured).
  const names = ['node_modules', 'package.json', '.pnp.cjs', ...LOCKFILES];
  const dirs = ancestors(startDir);
  const join = (dir: string, name: string) => (dir === '/' ? `/${name}` : `${dir}/${name}`);
  const stats = await Promise.all(dirs.map((dir) => Promise.all(names.map((name) => stat(join(dir, name))))));
  dirs.forEach((dir, d) => {
    location.searched.push(dir);
    const [nodeModules, packageJson, pnp, ...locks] = stats[d];
    // The base image's global modules are npm's own, never the app's.
    if (nodeModules?.isDirectory && join(dir, 'node_modules') !== '/usr/local/lib/node_modules') location.installRoots.push(dir);
    if (!location.packageJson && packageJson && !packageJson.isDirectory) location.packageJson = join(dir, 'package.json');
    if (!location.pnp && pnp && !pnp.isDirectory) location.pnp = join(dir, '.pnp.cjs');
    const lock = LOCKFILES.find((_, i) => locks[i] && !locks[i]!.isDirectory);
    if (!location.lockfile && lock) location.lockfile = join(dir, lock);
  });
  location.installRoot = location.installRoots[0];
  return location;
}
