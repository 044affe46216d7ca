// The targets of a fleet and the options each is audited with, all resolved before anything runs (a
// usage error in any of them is exit 2 with nothing audited).
//
// TARGETs are build context folders, image references, or globs of context folders (`services/*`: the
// folders it matches that hold the Dockerfile; a glob that matches none is a usage error). With a fleet
// file, the TARGETs given pick its entries by name or target (the others are audited as given, with the
// file's defaults); without TARGETs every entry of the file is audited.
//
// The options of one target, each layer over the one before:
//   1. the fleet file's `defaults`;
//   2. the service's own config, found as a single audit finds it (image-audit.config.json, then
//      package.json#imageAudit, in the context folder, then the current folder), or --config FILE;
//   3. the fleet file's entry for the target;
//   4. the command line.
// buildArgs and env merge key by key, waivers add up, every other key replaces. So a service keeps what
// its team configured (the fleet audits it as `image-audit <dir>` would), the platform's defaults fill
// only what it leaves unset, and whoever runs the fleet overrides with the entry or the flags. The
// gate's keys (`gate.baseline`, thresholds: for `fleet --gate`) layer the same way, key by key.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { CHECKS } from '../checks/registry.js';
import { DEFAULT_GATE, type GateThresholds } from '../config/gate-thresholds.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { resolveOptions, type CallerOptions } from '../config/resolve.js';
import { UsageError } from '../errors.js';
import { REFERENCE_GRAMMAR, referenceProblem } from '../target/reference.js';
import type { AuditOptions } from '../types.js';
import type { FleetFile, FleetFileEntry } from './file.js';

export interface FleetJob {
  /** Unique in the fleet: the entry's name, else the target as given. */
  name: string;
  /** The target as given (a glob's match: the folder it matched, as a path like the glob's). */
  target: string;
  /** What audit() is given, as a single audit is: the context folder relative to here (or absolute), or the image reference. */
  auditTarget: string;
  kind: 'context' | 'image';
  options: AuditOptions;
  /** The gate keys its files set (fleet file defaults, the service's config, the entry), for `fleet --gate`. */
  gate: Partial<GateThresholds>;
}

const GLOB = /[*?[\]{}]/;

const isGlob = (text: string) => GLOB.test(text);

/** Context or image, as parseTarget decides it, but relative to `base`. */
function kindOf(target: string, base: string): 'context' | 'image' {
  const looksLikePath = target === '.' || target.startsWith('./') || target.startsWith('../') || path.isAbsolute(target);
  const dir = path.resolve(base, target);
  if (looksLikePath || (existsSync(dir) && statSync(dir).isDirectory())) return 'context';
  const problem = referenceProblem(target);
  if (problem) throw new UsageError(`Bad target ${JSON.stringify(target)}: not a folder, and not an image reference (${problem}). An image reference is ${REFERENCE_GRAMMAR}`);
  return 'image';
}

/** The folders a glob matches under `base`, as paths written like the glob (relative, or absolute when it is). */
function expandGlob(pattern: string, base: string): string[] {
  const { globSync } = createRequire(import.meta.url)('tinyglobby') as typeof import('tinyglobby');
  const matches = globSync(pattern, { cwd: base, onlyDirectories: true, expandDirectories: false, absolute: true, followSymbolicLinks: true });
  return matches
    .map((m) => m.replace(/\/+$/, ''))
    .sort()
    .map((abs) => (path.isAbsolute(pattern) ? abs : path.relative(base, abs) || '.'));
}

/** Options layered: keys of `over` replace, buildArgs and env merge key by key, waivers add up. */
export function layerOptions(base: AuditOptions, over: AuditOptions | undefined): AuditOptions {
  if (!over) return base;
  const out: AuditOptions = { ...base };
  for (const [key, value] of Object.entries(over) as Array<[keyof AuditOptions, never]>) if (value !== undefined) out[key] = value;
  if (base.buildArgs || over.buildArgs) out.buildArgs = { ...base.buildArgs, ...over.buildArgs };
  if (base.env || over.env) out.env = { ...base.env, ...over.env };
  if (base.waivers || over.waivers) out.waivers = [...(base.waivers ?? []), ...(over.waivers ?? [])];
  return out;
}

export interface TargetInput {
  /** TARGETs of the command line. */
  args: string[];
  file?: FleetFile;
  /** --config: one config file for every target instead of each service's own. */
  configPath?: string;
  /** The command line's options, as resolveOptions takes them. */
  caller: CallerOptions;
  /** Things to say (a folder a glob matched that has no Dockerfile). */
  onNotice?: (line: string) => void;
  cwd?: string;
}

interface Candidate {
  target: string;
  name: string;
  base: string;
  entry?: FleetFileEntry;
}

export function resolveFleetTargets(input: TargetInput): FleetJob[] {
  const cwd = input.cwd ?? process.cwd();
  const file = input.file;
  const candidates: Candidate[] = [];
  const add = (target: string, base: string, entry: FleetFileEntry | undefined, from: string) => {
    if (!isGlob(target)) {
      candidates.push({ target, name: entry?.name ?? target, base, entry });
      return;
    }
    if (entry?.name) throw new UsageError(`${from}: a glob (${target}) cannot have a "name": it matches several targets`);
    const dockerfile = entry?.options?.options.dockerfile ?? file?.defaults?.options.dockerfile ?? 'Dockerfile';
    const dirs = expandGlob(target, base);
    const withDockerfile = dirs.filter((d) => existsSync(path.resolve(base, d, dockerfile)));
    const without = dirs.filter((d) => !withDockerfile.includes(d));
    if (without.length) input.onNotice?.(`${target}: left out ${without.length} folder${without.length === 1 ? '' : 's'} without ${dockerfile}: ${without.join(', ')}`);
    if (!withDockerfile.length) throw new UsageError(`${from}: ${target} matches no folder with a ${dockerfile}${dirs.length ? ` (it matches ${dirs.join(', ')})` : ''}`);
    for (const dir of withDockerfile) candidates.push({ target: dir, name: dir, base, entry });
  };

  if (input.args.length) {
    for (const arg of input.args) {
      const picked = file?.entries.filter((e) => e.name === arg || e.target === arg) ?? [];
      if (picked.length) for (const e of picked) add(e.target, file!.dir, e, e.at);
      else add(arg, cwd, undefined, 'TARGET');
    }
  } else if (file) {
    for (const e of file.entries) add(e.target, file.dir, e, e.at);
  } else {
    throw new UsageError('No target: give TARGETs (folders, globs of folders, image references) or a fleet file (--fleet-file, or ./image-audit.fleet.json)');
  }

  // The same target twice (overlapping globs, a folder named twice) is audited once; two different
  // entries under one name cannot be told apart in the report.
  const byName = new Map<string, Candidate>();
  for (const c of candidates) {
    const earlier = byName.get(c.name);
    if (!earlier) byName.set(c.name, c);
    else if (earlier.entry !== c.entry && (earlier.entry?.options || c.entry?.options)) {
      throw new UsageError(`Two targets are named "${c.name}" (${earlier.entry?.at ?? 'TARGET'}, ${c.entry?.at ?? 'TARGET'}): give each entry of the fleet file its own "name"`);
    }
  }

  const serviceConfigs = new Map<string, LoadedConfig | undefined>();
  const serviceConfig = (contextDir: string | undefined) => {
    const key = contextDir ?? '';
    if (!serviceConfigs.has(key)) {
      serviceConfigs.set(key, loadConfig({ configPath: input.configPath, searchDirs: [...(contextDir ? [contextDir] : []), cwd] }));
    }
    return serviceConfigs.get(key);
  };

  return [...byName.values()].map((c): FleetJob => {
    const kind = kindOf(c.target, c.base);
    const absolute = path.resolve(c.base, c.target);
    const auditTarget = kind === 'image' ? c.target : c.base === cwd ? c.target : path.isAbsolute(c.target) ? c.target : path.relative(cwd, absolute) || '.';
    const service = serviceConfig(kind === 'context' ? absolute : undefined);
    const layered = layerOptions(layerOptions(layerOptions({}, file?.defaults?.options), service?.options), c.entry?.options?.options);
    const sources = [file?.defaults?.file, service?.file, c.entry?.options?.file].filter(Boolean).join(' over ');
    const gate = { ...file?.defaults?.gateGiven, ...service?.gateGiven, ...c.entry?.options?.gateGiven };
    const options = resolveOptions(sources ? { file: sources, options: layered, gate: { ...DEFAULT_GATE, ...gate }, gateGiven: gate } : undefined, input.caller, CHECKS);
    if (kind === 'context') {
      const dockerfile = options.dockerfile ?? 'Dockerfile';
      if (!existsSync(absolute) || !statSync(absolute).isDirectory()) throw new UsageError(`${c.entry?.at ?? 'TARGET'}: build context is not a folder: ${c.target}`);
      if (!existsSync(path.resolve(absolute, dockerfile))) throw new UsageError(`${c.entry?.at ?? 'TARGET'}: no ${dockerfile} in ${c.target}`);
    }
    return { name: c.name, target: c.target, auditTarget, kind, options, gate };
  });
}
