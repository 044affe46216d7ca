// What a valid value of each audit option is, decided once for every source (flags, the suite's
// variables, describeImage options, the config file). A rule turns a value as given into the value
// audit() takes, or says what is wrong with it ("not a size (e.g. 250MB, 240MiB or 1GB)").
import { UsageError } from '../errors.js';
import type { AuditOptions } from '../types.js';
import { DurationTooLongError, MAX_DURATION_MS, parseDuration, parseSize } from '../units.js';
import { DRAIN_PATH_PATTERN, NETWORK_PATTERN } from './schema.js';

/** Docker refuses a smaller memory limit (0 means none). */
const MIN_MEMORY_BYTES = 6 * 2 ** 20;

export type RuleResult<T> = { value: T } | { problem: string };
type Rule = (value: unknown) => RuleResult<unknown>;

const ok = <T>(value: T): RuleResult<T> => ({ value });
const bad = (problem: string): RuleResult<never> => ({ problem });

const size: Rule = (v) => (typeof v === 'string' || typeof v === 'number') && parseSize(v) !== undefined ? ok(v) : bad('not a size (e.g. 250MB, 240MiB or 1GB)');

/** A duration longer than 0 and no longer than a timer can wait. */
const duration: Rule = (v) => {
  if (typeof v !== 'string' && typeof v !== 'number') return bad('not a duration (e.g. 5s, 1500ms or 2m)');
  try {
    const parsed = parseDuration(v);
    if (parsed === undefined) return bad('not a duration (e.g. 5s, 1500ms or 2m)');
    return parsed > 0 ? ok(v) : bad('not longer than 0');
  } catch (err) {
    if (err instanceof DurationTooLongError) return bad(`too long: the longest is 24.8 days (${MAX_DURATION_MS} ms), the limit of Node's timers`);
    throw err;
  }
};

/** A whole number from a number or its decimal text ("512"). */
const wholeNumber = (v: unknown): number | undefined => {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined;
  return typeof v === 'string' && /^\s*\d{1,15}\s*$/.test(v) ? Number(v) : undefined;
};

const RULES: Partial<Record<keyof AuditOptions, { label: string; rule: Rule }>> = {
  sizeBudget: { label: 'size budget', rule: size },
  shutdownBudget: { label: 'shutdown budget', rule: duration },
  buildTimeout: { label: 'build timeout', rule: duration },
  healthTimeout: { label: 'health timeout', rule: duration },
  memory: {
    label: 'memory limit',
    rule: (v) => {
      const checked = size(v);
      if ('problem' in checked) return checked;
      const bytes = parseSize(v as string | number)!;
      return bytes === 0 || bytes >= MIN_MEMORY_BYTES ? checked : bad("below Docker's minimum of 6 MiB (0: no limit)");
    },
  },
  pidsLimit: {
    label: 'pids limit',
    rule: (v) => {
      const n = wholeNumber(v);
      return n !== undefined && n >= 0 ? ok(n) : bad('not a whole number >= 0 (0: no limit)');
    },
  },
  port: {
    label: 'port',
    rule: (v) => {
      const n = wholeNumber(v);
      return n !== undefined && n >= 1 && n <= 65535 ? ok(n) : bad('not a TCP port (1-65535)');
    },
  },
  network: {
    label: 'network',
    rule: (v) => typeof v === 'string' && new RegExp(NETWORK_PATTERN).test(v) ? ok(v) : bad('not a network name (bridge, none, or a name of letters, digits, _ . -)'),
  },
  drainPath: {
    label: 'drain path',
    rule: (v) => typeof v === 'string' && new RegExp(DRAIN_PATH_PATTERN).test(v) ? ok(v) : bad('not a request path (it starts with "/" and has no spaces)'),
  },
  deep: {
    label: 'deep',
    rule: (v) => {
      if (typeof v === 'boolean') return ok(v);
      const text = typeof v === 'string' ? v.trim().toLowerCase() : '';
      if (['1', 'true', 'yes', 'on'].includes(text)) return ok(true);
      if (['0', 'false', 'no', 'off', ''].includes(text)) return ok(false);
      return bad('not a boolean (true, false, 1 or 0)');
    },
  },
  init: {
    label: 'init',
    rule: (v) => Array.isArray(v) && v.length > 0 && v.every((name) => typeof name === 'string' && name.trim() !== '') ? ok(v) : bad('not a list of program names'),
  },
};

/** The options a rule exists for, in the order they are checked. */
export const CHECKED_OPTIONS = Object.keys(RULES) as Array<keyof AuditOptions>;

export function optionLabel(key: keyof AuditOptions): string {
  return RULES[key]?.label ?? key;
}

/** The value as audit() takes it, or what is wrong with it. Options without a rule pass as given. */
export function checkOption(key: keyof AuditOptions, value: unknown): RuleResult<unknown> {
  const rule = RULES[key]?.rule;
  return rule ? rule(value) : ok(value);
}

const shown = (value: unknown) => (typeof value === 'string' ? `"${value}"` : JSON.stringify(value));

/**
 * Every option of `values` checked and normalised ("512" → 512 for a port); `nameOf` says where a
 * value came from in messages: `Bad port "70000" (--port): not a TCP port (1-65535)`.
 */
export function checkOptions<T extends Partial<Record<keyof AuditOptions, unknown>>>(values: T, nameOf: (key: keyof AuditOptions) => string): T {
  const out = { ...values };
  for (const key of CHECKED_OPTIONS) {
    const value = values[key];
    if (value === undefined) continue;
    const checked = checkOption(key, value);
    if ('problem' in checked) throw new UsageError(`Bad ${optionLabel(key)} ${shown(value)} (${nameOf(key)}): ${checked.problem}`);
    (out as Record<string, unknown>)[key] = checked.value;
  }
  return out;
}

/** The config file's form of a problem: `/shutdownBudget: "10000h" is too long: …`. */
export function configProblems(values: Partial<Record<keyof AuditOptions, unknown>>): string[] {
  const problems: string[] = [];
  for (const key of CHECKED_OPTIONS) {
    const value = values[key];
    if (value === undefined) continue;
    const checked = checkOption(key, value);
    if ('problem' in checked) problems.push(`/${key}: ${shown(value)} is ${checked.problem}`);
  }
  return problems;
}
