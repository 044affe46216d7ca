// Finds the app's package.json, lockfile and node_modules inside the image the way Node resolves
// modules: from the entry script's directory upward (real images keep node_modules in a parent of the
// source folder, e.g. /opt/node_app/node_modules with the app in /opt/node_app/app). The official
// images' `docker-entrypoint.sh` execs its arguments (prefixing `node` when the first is a script or
// an option), so the entry script is read from the CMD it runs.
import { posix as path } from 'node:path';
import { observed, unobserved, type Observed } from '../observed.js';
import { analyseCommand, basename, type StartCommand } from './command.js';

export interface AppLocation {
  /** Where the search started: the entry script's folder, or WORKDIR. */
  startDir: string;
  entryScript?: string;
  /** What the entry script is in the image: a file, a folder (`node dist`), or absent; not observed when its stat failed. */
  entryKind?: Observed<'file' | 'directory' | 'absent'>;
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
  /** Every node_modules folder Node would look in, from startDir upward (the base image's global one left out). */
  nodeModulesLookedFor?: string[];
  /** Paths whose stat failed (not "absent": not known), with why. Whatever lies beyond them is not observed. */
  unreadable?: Array<{ path: string; why: string }>;
  /** Why the nearest package.json / lockfile is not known: a nearer candidate's stat failed. */
  blocked?: { packageJson?: string; lockfile?: string };
}

/** undefined when the path does not exist; throws when it could not be looked at. */
export type StatFn = (absolutePath: string) => Promise<{ isDirectory: boolean } | undefined>;

const GLOBAL_MODULES = '/usr/local/lib/node_modules';

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
  const unreadable: Array<{ path: string; why: string }> = [];
  // A stat that fails is neither "there" nor "absent": it is recorded, and the caller knows what it hides.
  const look = async (p: string): Promise<{ isDirectory: boolean } | undefined | null> => {
    try {
      return await stat(p);
    } catch (err) {
      unreadable.push({ path: p, why: (err as Error)?.message?.split('\n')[0] ?? String(err) });
      return null;
    }
  };
  let startDir = cwd;
  let entryScript: string | undefined;
  let entryKind: AppLocation['entryKind'];
  const script = runtime?.entryScript ?? effective.entryScript;
  if (script) {
    entryScript = path.resolve(cwd, script);
    const s = await look(entryScript);
    entryKind = s === null ? unobserved(`stat ${entryScript}: ${unreadable.at(-1)!.why}`) : observed(s === undefined ? 'absent' : s.isDirectory ? 'directory' : 'file');
    // `node dist` runs dist/index.js: the folder itself is where resolution starts.
    startDir = s?.isDirectory ? entryScript : path.dirname(entryScript);
  }
  const location: AppLocation = { startDir, entryScript, entryKind, installRoots: [], searched: [], nodeModulesLookedFor: [], unreadable };
  // Every ancestor's candidates in one round: each stat is a round trip to the daemon, and a
  // sequential walk up from /home/node/app/dist cost ~0.25 s (measured).
  const names = ['node_modules', 'package.json', '.pnp.cjs', ...LOCKFILES];
  const dirs = ancestors(startDir);
  const join = (dir: string, name: string) => (dir === '/' ? `/${name}` : `${dir}/${name}`);
  const stats = await Promise.all(dirs.map((dir) => Promise.all(names.map((name) => look(join(dir, name))))));
  // The nearest package.json (lockfile) is known only while no nearer candidate's stat failed.
  const blocked: NonNullable<AppLocation['blocked']> = {};
  const why = (p: string) => `stat ${p}: ${unreadable.find((u) => u.path === p)?.why ?? 'failed'}`;
  dirs.forEach((dir, d) => {
    location.searched.push(dir);
    const [nodeModules, packageJson, pnp, ...locks] = stats[d];
    // The base image's global modules are npm's own, never the app's.
    if (join(dir, 'node_modules') !== GLOBAL_MODULES) {
      location.nodeModulesLookedFor!.push(join(dir, 'node_modules'));
      if (nodeModules?.isDirectory) location.installRoots.push(dir);
    }
    if (!location.packageJson && !blocked.packageJson) {
      if (packageJson === null) blocked.packageJson = why(join(dir, 'package.json'));
      else if (packageJson && !packageJson.isDirectory) location.packageJson = join(dir, 'package.json');
    }
    if (!location.pnp && pnp && !pnp.isDirectory) location.pnp = join(dir, '.pnp.cjs');
    if (!location.lockfile && !blocked.lockfile) {
      const at = locks.findIndex((l) => l === null || (l && !l.isDirectory));
      if (at >= 0 && locks[at] === null) blocked.lockfile = why(join(dir, LOCKFILES[at]));
      else if (at >= 0) location.lockfile = join(dir, LOCKFILES[at]);
    }
  });
  location.installRoot = location.installRoots[0];
  if (blocked.packageJson || blocked.lockfile) location.blocked = blocked;
  return location;
}
