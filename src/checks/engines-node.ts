import { posix as path } from 'node:path';
import semver from 'semver';
import { lineWriter, notObserved, required, verdict, type Check, type ObserveContext } from './check.js';

export interface PackageJsonSeen {
  path: string;
  name?: string;
  /** engines.node as written; undefined when the package declares none. */
  enginesNode?: string;
}

export interface EnginesObservation {
  /** The nearest package.json upward from the entry script's folder and from WORKDIR (each at most once). */
  packages: PackageJsonSeen[];
  searched: string[];
}

function ancestors(dir: string): string[] {
  const out: string[] = [];
  for (let d = path.resolve('/', dir); ; d = path.dirname(d)) {
    out.push(d);
    if (d === '/') return out;
  }
}

/** The script node runs, from its argv (flags and their values skipped); relative to cwd. */
export function scriptOf(argv: string[]): string | undefined {
  const withValue = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader', '-C', '--conditions', '--env-file', '--title']);
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i];
    if (withValue.has(arg)) i++;
    else if (arg === '-e' || arg === '-p' || arg === '--eval' || arg === '--print') return undefined;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

/** The nearest package.json at or above `dir` among those read. */
export function nearestPackage(packages: PackageJsonSeen[], dir: string): PackageJsonSeen | undefined {
  for (const d of ancestors(dir)) {
    const found = packages.find((p) => p.path === path.join(d, 'package.json'));
    if (found) return found;
  }
  return undefined;
}

export type EnginesComparison =
  | { kind: 'none' }
  | { kind: 'not-a-range'; declared: string; why: string }
  | { kind: 'compared'; declared: string; satisfied: boolean };

export function compareEngines(declared: string | undefined, nodeVersion: string): EnginesComparison {
  if (declared === undefined || !declared.trim()) return { kind: 'none' };
  const trimmed = declared.trim();
  if (/^(lts\/|node$|latest$|current$|stable$)/i.test(trimmed)) {
    return { kind: 'not-a-range', declared, why: `"${trimmed}" is an nvm/version-manager alias, not a semver range: npm and the engines field ignore it` };
  }
  if (semver.validRange(trimmed) === null) return { kind: 'not-a-range', declared, why: `"${trimmed}" is not a valid semver range` };
  return { kind: 'compared', declared, satisfied: semver.satisfies(nodeVersion, trimmed, { includePrerelease: true }) };
}

async function observeEngines(ctx: ObserveContext): Promise<EnginesObservation> {
  if (!ctx.filesContainer) throw new Error('no container to read package.json from');
  const filesContainerId = await ctx.filesContainer();
  const workdir = ctx.basics.image.config.workingDir || '/';
  const script = ctx.basics.command.entryScript;
  const starts = [...new Set([script ? path.dirname(path.resolve(workdir, script)) : undefined, workdir].filter((d): d is string => !!d))];
  const packages: PackageJsonSeen[] = [];
  const searched: string[] = [];
  for (const start of starts) {
    for (const dir of ancestors(start)) {
      const file = path.join(dir, 'package.json');
      if (searched.includes(file)) break;
      searched.push(file);
      const content = await ctx.docker.readFile(filesContainerId, file, { signal: ctx.signal });
      if (!content) continue;
      let json: { name?: string; engines?: { node?: unknown } } = {};
      try {
        json = JSON.parse(content.toString('utf8'));
      } catch {
        // An unreadable package.json declares nothing we can compare: it is recorded without engines.
      }
      packages.push({ path: file, name: json.name, enginesNode: typeof json.engines?.node === 'string' ? json.engines.node : undefined });
      break;
    }
  }
  return { packages, searched };
}

export const enginesNode: Check = {
  id: 'engines-node',
  title: "Runs on a Node version the app's engines.node accepts",
  needs: ['runtime'],
  help: "Base the image on a Node release that satisfies the app's `engines.node` (e.g. `FROM node:22-bookworm-slim` for `>=22`), or correct the range.",
  observe: observeEngines,
  run({ lifecycle, observed, basics }) {
    const o = observed as EnginesObservation;
    const life = required(lifecycle, 'lifecycle');
    const runtime = life.runtime;
    // The running app's own script and cwd decide which package.json is its own; the image config otherwise.
    const script = runtime ? scriptOf(runtime.argv) : basics.command.entryScript;
    const cwd = runtime?.cwd || basics.image.config.workingDir || '/';
    const from = script ? path.dirname(path.resolve(cwd, script)) : cwd;
    const pkg = nearestPackage(o.packages, from) ?? nearestPackage(o.packages, cwd);
    const base = { packageJson: pkg?.path, searched: o.searched };
    if (!pkg) return verdict('skip', `no package.json found from ${from} upward: no engines.node to compare`, base);
    if (!pkg.enginesNode) return verdict('skip', `${pkg.path} declares no engines.node`, base);
    const cannot = notObserved(life);
    if (cannot) return verdict('error', `could not read the running Node version: ${cannot}`, { ...base, enginesNode: pkg.enginesNode });
    if (!runtime?.nodeVersion) {
      return verdict('error', `could not read the running Node version: ${life.runtimeError ?? 'the node binary of the app did not answer'}`, { ...base, enginesNode: pkg.enginesNode });
    }
    const evidence = { ...base, enginesNode: pkg.enginesNode, nodeVersion: runtime.nodeVersion, exe: runtime.exe };
    const compared = compareEngines(pkg.enginesNode, runtime.nodeVersion);
    if (compared.kind === 'not-a-range') {
      return verdict('warn', `engines.node in ${pkg.path} cannot be checked: ${compared.why} (the app runs on ${runtime.nodeVersion})`, evidence, `Write a semver range in engines.node, e.g. ">=${semver.major(runtime.nodeVersion)}".`);
    }
    if (compared.kind === 'compared' && !compared.satisfied) {
      return verdict(
        'fail',
        `the app runs on Node ${runtime.nodeVersion} but ${pkg.path} requires engines.node "${pkg.enginesNode}"`,
        evidence,
        `Use a base image whose Node satisfies "${pkg.enginesNode}" (e.g. \`FROM node:${semver.minVersion(pkg.enginesNode)?.major ?? 'XX'}-bookworm-slim\`), or correct engines.node.`,
      );
    }
    return verdict('pass', `Node ${runtime.nodeVersion} satisfies engines.node "${pkg.enginesNode}" of ${pkg.path}`, evidence);
  },
  lines(result) {
    const e = result.evidence as { packageJson?: string; enginesNode?: string; nodeVersion?: string; exe?: string; searched?: string[] };
    const { lines, add } = lineWriter();
    add('engines.node', e.enginesNode && `"${e.enginesNode}" (${e.packageJson})`);
    add('running', e.nodeVersion && `${e.nodeVersion} (${e.exe})`);
    if (!e.packageJson) add('searched', e.searched?.join(', '));
    return lines;
  },
  locate: (stage) => stage.from,
};
