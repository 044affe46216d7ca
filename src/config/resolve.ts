// The one option resolver: the command line, the suite's IMAGE_AUDIT_* variables and describeImage
// options all become AuditOptions here, the same way: the config file first, then the caller's values
// over it. buildArgs and env merge key by key (env: the config's envFile, then the caller's env files
// in order, then the caller's own variables); every other option the caller gives replaces the
// config's. Every value is checked (src/config/rules.ts) before any audit starts.
// The config knows the check ids (a leaf list) but not the checks: which ones are deep is told by the
// caller at the edge (`CheckCatalogue`, the registry's CHECKS), so config/ imports nothing above it.
import { CHECK_IDS } from '../checks/ids.js';
import { waiverProblems } from '../checks/waivers.js';
import { UsageError } from '../errors.js';
import type { AuditOptions, CheckId } from '../types.js';
import { readEnvFile } from './env-file.js';
import type { LoadedConfig } from './load.js';
import { checkOptions } from './rules.js';

/** An option's value as a caller may give it: text where the source is text ("512" for a port). */
export type OptionInput = Omit<AuditOptions, 'pidsLimit' | 'port' | 'deep'> & {
  pidsLimit?: number | string;
  port?: number | string;
  deep?: boolean | string;
};

export interface CallerOptions {
  values: OptionInput;
  /** Env files (KEY=VALUE lines) read in order, over the config's envFile and under values.env. */
  envFiles?: string[];
  /** How this caller names an option in messages: '--size-budget', 'IMAGE_AUDIT_SIZE_BUDGET', … */
  nameOf: (key: keyof AuditOptions) => string;
  /** How this caller names its env files in messages ('--env-file', 'IMAGE_AUDIT_ENV_FILE'). */
  envFileName?: string;
}

/** What option checking needs to know of the checks: their ids, and which run only with `deep`. */
export type CheckCatalogue = ReadonlyArray<{ id: CheckId; deep?: boolean }>;

/** The audit options of one run: `config` (already validated when loaded) under the caller's values. */
export function resolveOptions(config: LoadedConfig | undefined, caller: CallerOptions, checks: CheckCatalogue): AuditOptions {
  const given = checkOptions(caller.values, caller.nameOf) as AuditOptions;
  const base = config?.options ?? {};
  const options: AuditOptions = { ...base };
  for (const [key, value] of Object.entries(given) as Array<[keyof AuditOptions, never]>) {
    if (value !== undefined) options[key] = value;
  }
  options.buildArgs = { ...base.buildArgs, ...given.buildArgs };
  options.env = { ...base.env };
  for (const file of caller.envFiles ?? []) Object.assign(options.env, readEnvFile(file, caller.envFileName));
  Object.assign(options.env, given.env);

  const waivers = waiverProblems(given.waivers, caller.nameOf('waivers'));
  if (waivers.length) throw new UsageError(`Bad waiver: ${waivers[0]}`, waivers.slice(1));
  checkSelection(options, checks, (key) => (given[key] !== undefined ? caller.nameOf(key) : `${key} of ${config?.file}`));
  return options;
}

/** Known check ids, and at least one check left to run (the selection rule of audit()'s selectChecks:
 * a deep probe runs with `deep`, or when named in `only`). */
export function checkSelection(options: Pick<AuditOptions, 'only' | 'skip' | 'deep'>, checks: CheckCatalogue, nameOf: (key: 'only' | 'skip') => string): void {
  for (const id of [...(options.only ?? []), ...(options.skip ?? [])]) {
    if (!CHECK_IDS.includes(id as CheckId)) throw new UsageError(`Unknown check id "${id}": the checks are ${CHECK_IDS.join(', ')}`);
  }
  const { only, skip } = options;
  const left = checks.filter((c) => (only?.length ? only.includes(c.id) : !c.deep || options.deep) && !skip?.includes(c.id));
  if (left.length === 0) {
    const only = options.only?.length ? `${nameOf('only')} ${options.only.join(',')}` : options.deep ? 'every check' : 'every check but the deep ones';
    throw new UsageError(`No check left to run: ${only} minus ${nameOf('skip')} ${options.skip!.join(',')} is nothing (the checks are ${CHECK_IDS.join(', ')})`);
  }
}
