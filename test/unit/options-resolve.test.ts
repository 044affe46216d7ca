import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveSettings } from '../../src/audit.js';
import { loadConfig } from '../../src/config/load.js';
import { CHECKS } from '../../src/checks/registry.js';
import { resolveOptions as resolveWith, type CallerOptions } from '../../src/config/resolve.js';
import { usageProblem } from '../support/usage-error.js';
import { describeImage } from '../../src/vitest/index.js';
import { optionsFromEnv } from '../../src/vitest/env-options.js';
import type { CheckId } from '../../src/types.js';

const flags = (values: CallerOptions['values'], extra: Partial<CallerOptions> = {}): CallerOptions => ({
  values,
  nameOf: (key) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
  ...extra,
});

const problem = usageProblem;
/** As every caller at the edge calls it: with the registry's checks. */
const resolveOptions = (config: Parameters<typeof resolveWith>[0], caller: CallerOptions) => resolveWith(config, caller, CHECKS);

/** A context directory with a config file, an env file it names, and an extra env file. */
function project(config: object = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'resolve-'));
  writeFileSync(path.join(dir, '.env.audit'), 'FROM_CONFIG=1\nSHARED=config\n');
  writeFileSync(path.join(dir, 'extra.env'), 'FROM_FILE=1\nSHARED=file\n');
  writeFileSync(path.join(dir, 'image-audit.config.json'), JSON.stringify({ envFile: '.env.audit', sizeBudget: '100MB', buildArgs: { A: 'config', B: 'config' }, ...config }));
  return { dir, config: loadConfig({ searchDirs: [dir] }), extraEnv: path.join(dir, 'extra.env') };
}

describe('resolveOptions: the config file first, the caller over it', () => {
  it('lets caller values replace the config and merges buildArgs and env key by key', () => {
    const { config, extraEnv } = project({ shutdownBudget: '9s' });
    const options = resolveOptions(config, flags({ sizeBudget: '300MB', buildArgs: { B: 'flag' }, env: { SHARED: 'flag' } }, { envFiles: [extraEnv] }));
    expect(options).toMatchObject({ sizeBudget: '300MB', shutdownBudget: '9s', buildArgs: { A: 'config', B: 'flag' } });
    expect(options.env).toEqual({ FROM_CONFIG: '1', FROM_FILE: '1', SHARED: 'flag' });
  });

  it('checks and normalises the container options', () => {
    const options = resolveOptions(undefined, flags({ port: '3000', pidsLimit: '0', memory: '512MiB', network: 'none', drainPath: '/healthz', deep: 'true', healthTimeout: '90s' }));
    expect(options).toMatchObject({ port: 3000, pidsLimit: 0, memory: '512MiB', network: 'none', drainPath: '/healthz', deep: true, healthTimeout: '90s' });
  });

  it('refuses bad values, naming the flag', () => {
    expect(problem(() => resolveOptions(undefined, flags({ port: '70000' })))).toBe('Bad port "70000" (--port): not a TCP port (1-65535)');
    expect(problem(() => resolveOptions(undefined, flags({ port: '0' })))).toContain('not a TCP port');
    expect(problem(() => resolveOptions(undefined, flags({ pidsLimit: '-1' })))).toBe('Bad pids limit "-1" (--pids-limit): not a whole number >= 0 (0: no limit)');
    expect(problem(() => resolveOptions(undefined, flags({ memory: 'lots' })))).toBe('Bad memory limit "lots" (--memory): not a size (e.g. 250MB, 240MiB or 1GB)');
    expect(problem(() => resolveOptions(undefined, flags({ network: 'a b' })))).toContain('Bad network "a b" (--network)');
    expect(problem(() => resolveOptions(undefined, flags({ drainPath: 'healthz' })))).toContain('Bad drain path "healthz" (--drain-path)');
    expect(problem(() => resolveOptions(undefined, flags({ sizeBudget: 'big' })))).toBe('Bad size budget "big" (--size-budget): not a size (e.g. 250MB, 240MiB or 1GB)');
  });

  it('refuses durations above the timer limit, and zero, in every duration option', () => {
    expect(problem(() => resolveOptions(undefined, flags({ shutdownBudget: '10000h' })))).toBe(
      'Bad shutdown budget "10000h" (--shutdown-budget): too long: the longest is 24.8 days (2147483647 ms), the limit of Node\'s timers',
    );
    expect(problem(() => resolveOptions(undefined, flags({ buildTimeout: '30d' })))).toContain('Bad build timeout "30d" (--build-timeout): too long');
    expect(problem(() => resolveOptions(undefined, flags({ healthTimeout: '30d' })))).toContain('Bad health timeout "30d" (--health-timeout): too long');
    expect(problem(() => resolveOptions(undefined, flags({ shutdownBudget: '0s' })))).toContain('not longer than 0');
  });

  it('refuses --only and --skip that leave no check to run, and unknown ids', () => {
    expect(problem(() => resolveOptions(undefined, flags({ only: ['healthcheck'], skip: ['healthcheck'] })))).toMatch(
      /^No check left to run: --only healthcheck minus --skip healthcheck is nothing \(the checks are non-root-user, init-pid1, /,
    );
    const { config } = project({ only: ['size-budget'] });
    expect(problem(() => resolveOptions(config, flags({ skip: ['size-budget'] })))).toMatch(/^No check left to run: only of .*image-audit\.config\.json size-budget minus --skip size-budget/);
    expect(problem(() => resolveOptions(undefined, flags({ skip: ['non-root' as CheckId] })))).toContain('Unknown check id "non-root"');
  });

  it('refuses a waiver given in code whose date is not on the calendar', () => {
    expect(problem(() => resolveOptions(undefined, flags({ waivers: [{ check: 'healthcheck', reason: 'x', expires: '2027-02-31' }] })))).toContain(
      '"2027-02-31" is not a calendar date',
    );
  });

  it('names an unreadable env file by the flag that gave it', () => {
    expect(problem(() => resolveOptions(undefined, flags({}, { envFiles: ['/no/such.env'], envFileName: '--env-file' })))).toBe('Cannot read --env-file /no/such.env: ENOENT');
  });
});

describe('the suite variables and describeImage go through the same resolver', () => {
  it('merges IMAGE_AUDIT_ENV_FILE over the config envFile (it used to replace it)', () => {
    const { dir, extraEnv } = project();
    const { options } = optionsFromEnv({ IMAGE_AUDIT_TARGET: dir, IMAGE_AUDIT_ENV_FILE: extraEnv });
    expect(options.env).toEqual({ FROM_CONFIG: '1', FROM_FILE: '1', SHARED: 'file' });
    expect(options.config).toBe(false);
  });

  it('reads the new variables and names them in messages', () => {
    const { dir } = project();
    const { options } = optionsFromEnv({ IMAGE_AUDIT_TARGET: dir, IMAGE_AUDIT_HEALTH_TIMEOUT: '2m', IMAGE_AUDIT_PORT: '8080', IMAGE_AUDIT_DEEP: '1', IMAGE_AUDIT_PIDS_LIMIT: '64', IMAGE_AUDIT_MEMORY: '256MiB', IMAGE_AUDIT_NETWORK: 'none', IMAGE_AUDIT_DRAIN_PATH: '/' });
    expect(options).toMatchObject({ healthTimeout: '2m', port: 8080, deep: true, pidsLimit: 64, memory: '256MiB', network: 'none', drainPath: '/' });
    expect(problem(() => optionsFromEnv({ IMAGE_AUDIT_TARGET: dir, IMAGE_AUDIT_SHUTDOWN_BUDGET: '10000h' }))).toContain('(IMAGE_AUDIT_SHUTDOWN_BUDGET): too long');
    expect(problem(() => optionsFromEnv({ IMAGE_AUDIT_TARGET: dir, IMAGE_AUDIT_ONLY: 'size-budget', IMAGE_AUDIT_SKIP: 'size-budget' }))).toContain('No check left to run: IMAGE_AUDIT_ONLY size-budget minus IMAGE_AUDIT_SKIP size-budget');
  });

  it('describeImage reads the target\'s config file (a bad one fails at collection, before any audit)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bad-config-'));
    writeFileSync(path.join(dir, 'image-audit.config.json'), JSON.stringify({ sizeBudget: 'huge' }));
    expect(problem(() => describeImage(dir))).toContain('/sizeBudget: "huge" is not a size');
    expect(problem(() => describeImage(dir, { config: path.join(dir, 'missing.json') }))).toContain('No config file at');
    expect(problem(() => describeImage(mkdtempSync(path.join(tmpdir(), 'ctx-')), { port: 0 }))).toBe('Bad port 0 (describeImage option port): not a TCP port (1-65535)');
  });
});

describe('audit() options given by a library caller', () => {
  it('are checked by the same rules as every other source, naming the option', () => {
    expect(problem(() => resolveSettings({ memory: '1' }))).toBe('Bad memory limit "1" (audit() option "memory"): below Docker\'s minimum of 6 MiB (0: no limit)');
    expect(problem(() => resolveSettings({ buildTimeout: '30d' }))).toContain('Bad build timeout "30d" (audit() option "buildTimeout"): too long');
    expect(problem(() => resolveSettings({ port: 70000 }))).toBe('Bad port 70000 (audit() option "port"): not a TCP port (1-65535)');
  });
  it('resolve to the defaults and parsed values', () => {
    expect(resolveSettings({ shutdownBudget: '2s', memory: '512MiB', pidsLimit: 0 })).toMatchObject({ shutdownBudgetMs: 2000, memoryBytes: 512 * 2 ** 20, pidsLimit: 0, network: 'bridge' });
  });
});
