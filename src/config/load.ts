// Finds, reads and validates the config: --config FILE, else image-audit.config.json, else the
// `imageAudit` key of package.json — looked for in the build context, then the current directory.
import type { ErrorObject } from 'ajv';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { AuditOptions } from '../types.js';
import { waiverProblems } from '../checks/waivers.js';
import { DurationTooLongError, parseDuration, parseSize } from '../units.js';
import { readEnvFile } from './env-file.js';
import { lazyValidator } from './json-validator.js';
import { configProblems } from './rules.js';
import { configSchema } from './schema.js';
import { DEFAULT_GATE, type GateThresholds } from './gate-thresholds.js';

export const CONFIG_FILE = 'image-audit.config.json';

// The gate's thresholds are settings: their type and defaults live here, and the gate is handed them.
export { DEFAULT_GATE, type GateThresholds } from './gate-thresholds.js';

/** The config file's keys: the audit options it may set (by the same names), an env file and the gate's thresholds. */
export type RawConfig = Pick<
  AuditOptions,
  | 'sizeBudget'
  | 'shutdownBudget'
  | 'init'
  | 'only'
  | 'skip'
  | 'dockerfile'
  | 'target'
  | 'buildArgs'
  | 'buildTimeout'
  | 'healthTimeout'
  | 'memory'
  | 'pidsLimit'
  | 'network'
  | 'port'
  | 'drainPath'
  | 'deep'
  | 'container'
  | 'waivers'
> & {
  envFile?: string;
  /** Kubernetes manifest files, relative to the config file's folder. */
  manifest?: string | string[];
  gate?: Partial<Record<keyof GateThresholds, string | number>>;
};

export interface LoadedConfig {
  /** Where it came from, e.g. "/srv/app/image-audit.config.json" or "/srv/app/package.json#imageAudit". */
  file: string;
  options: AuditOptions;
  gate: GateThresholds;
  /** Only the gate keys the file sets (parsed), for layering one file over another (a fleet's targets). */
  gateGiven: Partial<GateThresholds>;
}

const validateConfig = lazyValidator(configSchema);

function describeError(error: ErrorObject): string {
  const at = error.instancePath || '/';
  if (error.keyword === 'additionalProperties') {
    const allowed = Object.keys(schemaAt(error.schemaPath)?.properties ?? {});
    return `${at}: unknown key "${(error.params as { additionalProperty: string }).additionalProperty}"${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ''}`;
  }
  if (error.keyword === 'enum') return `${at}: must be one of ${(error.params as { allowedValues: string[] }).allowedValues.join(', ')}`;
  if (error.keyword === 'pattern' && at.endsWith('/expires')) return `${at}: must be a date YYYY-MM-DD`;
  if (error.keyword === 'required') return `${at}: missing "${(error.params as { missingProperty: string }).missingProperty}"`;
  return `${at}: ${error.message}`;
}

/** The schema node an ajv error's schemaPath points at (for listing allowed keys). */
function schemaAt(schemaPath: string): { properties?: object } | undefined {
  let node: unknown = configSchema;
  for (const part of schemaPath.replace(/^#\//, '').split('/').slice(0, -1)) node = (node as Record<string, unknown>)?.[part];
  return node as { properties?: object } | undefined;
}

function fail(file: string, problems: string[]): never {
  throw new UsageError(`Invalid config ${file}: ${problems[0]}`, problems.slice(1));
}

export function parseConfig(raw: unknown, file: string, baseDir: string): LoadedConfig {
  const errors = validateConfig(raw);
  if (errors.length) fail(file, errors.map(describeError));
  const config = raw as RawConfig;
  const problems: string[] = [];
  const size = (value: string | number | undefined, at: string) => {
    if (value === undefined) return undefined;
    const parsed = parseSize(value);
    if (parsed === undefined) problems.push(`${at}: "${value}" is not a size (e.g. 250MB, 240MiB)`);
    return parsed;
  };
  const ms = (value: string | number | undefined, at: string, fallback: number) => {
    if (value === undefined) return fallback;
    try {
      const parsed = parseDuration(value);
      if (parsed === undefined) problems.push(`${at}: "${value}" is not a duration (e.g. 5s, 1500ms)`);
      return parsed ?? fallback;
    } catch (err) {
      if (!(err instanceof DurationTooLongError)) throw err;
      problems.push(`${at}: ${err.message}`);
      return fallback;
    }
  };
  problems.push(...configProblems(config as Partial<Record<keyof AuditOptions, unknown>>));
  problems.push(...waiverProblems(config.waivers));
  const g = config.gate ?? {};
  const gate: GateThresholds = {
    baseline: g.baseline as string | undefined,
    maxSizeGrowthPercent: (g.maxSizeGrowthPercent as number | undefined) ?? DEFAULT_GATE.maxSizeGrowthPercent,
    maxSizeGrowthBytes: size(g.maxSizeGrowthBytes, '/gate/maxSizeGrowthBytes'),
    maxShutdownGrowthPercent: (g.maxShutdownGrowthPercent as number | undefined) ?? DEFAULT_GATE.maxShutdownGrowthPercent,
    maxShutdownGrowthMs: ms(g.maxShutdownGrowthMs, '/gate/maxShutdownGrowthMs', DEFAULT_GATE.maxShutdownGrowthMs),
    maxHealthyGrowthPercent: (g.maxHealthyGrowthPercent as number | undefined) ?? DEFAULT_GATE.maxHealthyGrowthPercent,
    maxHealthyGrowthMs: ms(g.maxHealthyGrowthMs, '/gate/maxHealthyGrowthMs', DEFAULT_GATE.maxHealthyGrowthMs),
  };
  if (problems.length) fail(file, problems);
  const gateGiven = Object.fromEntries(Object.entries(gate).filter(([key]) => (g as Record<string, unknown>)[key] !== undefined)) as Partial<GateThresholds>;
  const options: AuditOptions = {
    sizeBudget: config.sizeBudget,
    shutdownBudget: config.shutdownBudget,
    init: config.init,
    only: config.only,
    skip: config.skip,
    dockerfile: config.dockerfile,
    target: config.target,
    buildArgs: config.buildArgs,
    env: config.envFile ? readEnvFile(path.resolve(baseDir, config.envFile), `envFile of ${file}:`) : undefined,
    waivers: config.waivers,
    buildTimeout: config.buildTimeout,
    healthTimeout: config.healthTimeout,
    memory: config.memory,
    pidsLimit: config.pidsLimit,
    network: config.network,
    port: config.port,
    drainPath: config.drainPath,
    deep: config.deep,
    manifest: config.manifest === undefined ? undefined : (Array.isArray(config.manifest) ? config.manifest : [config.manifest]).map((f) => path.resolve(baseDir, f)),
    container: config.container,
  };
  for (const key of Object.keys(options) as Array<keyof AuditOptions>) if (options[key] === undefined) delete options[key];
  return { file, options, gate, gateGiven };
}

function readJson(file: string): unknown {
  try {
    // Editors on Windows save UTF-8 with a byte order mark; JSON.parse refuses it.
    return JSON.parse(readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new UsageError(`Cannot read config ${file}: ${(err as Error).message}`);
  }
}

/** The config for an audit target: --config when given, else searched in the target's build
 * context (when it is a directory), then the current directory. */
export function loadConfigFor(target: string, configPath?: string): LoadedConfig | undefined {
  const contextDir = existsSync(target) && statSync(target).isDirectory() ? [target] : [];
  return loadConfig({ configPath, searchDirs: [...contextDir, process.cwd()] });
}

/** The config for a target, or undefined when there is none (defaults then apply). */
export function loadConfig(opts: { configPath?: string; searchDirs: string[] }): LoadedConfig | undefined {
  if (opts.configPath) {
    const file = path.resolve(opts.configPath);
    if (!existsSync(file)) throw new UsageError(`No config file at ${opts.configPath}`);
    const raw = readJson(file);
    const isPackageJson = path.basename(file) === 'package.json';
    return parseConfig(isPackageJson ? ((raw as { imageAudit?: unknown }).imageAudit ?? {}) : raw, isPackageJson ? `${file}#imageAudit` : file, path.dirname(file));
  }
  for (const dir of opts.searchDirs) {
    const file = path.join(dir, CONFIG_FILE);
    if (existsSync(file)) return parseConfig(readJson(file), file, dir);
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      const section = (readJson(pkg) as { imageAudit?: unknown }).imageAudit;
      if (section !== undefined) return parseConfig(section, `${pkg}#imageAudit`, dir);
    }
  }
  return undefined;
}
