import { posix as path } from 'node:path';
import semver from 'semver';
import { observed, parseJsonFile, unobserved, type Observed } from '../observed.js';
import { lineWriter, notObserved, required, unobservedVerdict, verdict, type Check, type ObserveContext, type Verdict } from './check.js';

export interface PackageJsonSeen {
  path: string;
  /**
   * What the file declares: its name, and engines.node as written (undefined when it declares none). Not
   * observed when the file could not be read or parsed (the file and why): that is not "declares none".
   */
  declared: Observed<{ name?: string; enginesNode?: string }>;
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
export function nearestPackage<P extends { path: string }>(packages: P[], dir: string): P | undefined {
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

/** name and engines.node of a package.json's text (a UTF-8 byte-order mark allowed, as Node and npm allow it). */
export function declaredIn(file: string, text: string): PackageJsonSeen['declared'] {
  const json = parseJsonFile(file, text);
  if (!json.ok) return json;
  if (!json.value || typeof json.value !== 'object' || Array.isArray(json.value)) return unobserved(`${file} is not a package.json: its JSON is not an object`);
  const pkg = json.value as { name?: unknown; engines?: { node?: unknown } };
  return observed({
    name: typeof pkg.name === 'string' ? pkg.name : undefined,
    enginesNode: typeof pkg.engines?.node === 'string' ? pkg.engines.node : undefined,
  });
}

/**
 * The package side of the verdict (pure): the range the app's nearest package.json declares, or the
 * verdict when there is none to compare (skip) or it could not be read (error, naming the file and why).
 */
export function declaredEngines(o: EnginesObservation, from: string, cwd: string): { path: string; enginesNode: string } | Verdict {
  const pkg = nearestPackage(o.packages, from) ?? nearestPackage(o.packages, cwd);
  const base = { packageJson: pkg?.path, searched: o.searched };
  if (!pkg) return verdict('skip', `no package.json found from ${from} upward: no engines.node to compare`, base);
  if (!pkg.declared.ok) return unobservedVerdict(pkg.declared, base, 'error', 'could not read engines.node');
  if (!pkg.declared.value.enginesNode) return verdict('skip', `${pkg.path} declares no engines.node`, base);
  return { path: pkg.path, enginesNode: pkg.declared.value.enginesNode };
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
      let content: Buffer | undefined;
      try {
        content = await ctx.docker.readFile(filesContainerId, file, { signal: ctx.signal });
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        // Not "absent": the nearest package.json may be this one, so the walk stops here.
        packages.push({ path: file, declared: unobserved(`reading ${file}: ${((err as Error)?.message ?? String(err)).split('\n')[0]}`) });
        break;
      }
      if (!content) continue;
      packages.push({ path: file, declared: declaredIn(file, content.toString('utf8')) });
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
    const pkg = declaredEngines(o, from, cwd);
    if ('status' in pkg) return pkg;
    const base = { packageJson: pkg.path, searched: o.searched };
    const cannot = notObserved(life);
    if (cannot) return verdict('error', `could not read the running Node version: ${cannot}`, { ...base, enginesNode: pkg.enginesNode });
    if (!runtime) {
      return verdict('error', `could not read the running Node version: ${life.runtimeError ?? 'the runtime was not observed'}`, { ...base, enginesNode: pkg.enginesNode });
    }
    if (!runtime.nodeVersion.ok) return unobservedVerdict(runtime.nodeVersion, { ...base, enginesNode: pkg.enginesNode }, 'error', 'could not read the running Node version');
    const nodeVersion = runtime.nodeVersion.value;
    const evidence = { ...base, enginesNode: pkg.enginesNode, nodeVersion, exe: runtime.exe.ok ? runtime.exe.value : undefined };
    const compared = compareEngines(pkg.enginesNode, nodeVersion);
    if (compared.kind === 'not-a-range') {
      return verdict('warn', `engines.node in ${pkg.path} cannot be checked: ${compared.why} (the app runs on ${nodeVersion})`, evidence, `Write a semver range in engines.node, e.g. ">=${semver.major(nodeVersion)}".`);
    }
    if (compared.kind === 'compared' && !compared.satisfied) {
      return verdict(
        'fail',
        `the app runs on Node ${nodeVersion} but ${pkg.path} requires engines.node "${pkg.enginesNode}"`,
        evidence,
        `Use a base image whose Node satisfies "${pkg.enginesNode}" (e.g. \`FROM node:${semver.minVersion(pkg.enginesNode)?.major ?? 'XX'}-bookworm-slim\`), or correct engines.node.`,
      );
    }
    return verdict('pass', `Node ${nodeVersion} satisfies engines.node "${pkg.enginesNode}" of ${pkg.path}`, evidence);
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
