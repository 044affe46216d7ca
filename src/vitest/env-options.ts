// The ready-made suite (suites/) reads its target and options from the environment, so a CI job can
// run it against any image without writing a test file.
import { parseAssignments } from '../config/env-file.js';
import { CHECKS } from '../checks/registry.js';
import { loadConfigFor } from '../config/load.js';
import { resolveOptions, type OptionInput } from '../config/resolve.js';
import { UsageError } from '../errors.js';
import type { AuditOptions, CheckId } from '../types.js';

export const SUITE_ENV = {
  IMAGE_AUDIT_TARGET: 'build context directory or image reference (required)',
  IMAGE_AUDIT_DOCKERFILE: 'Dockerfile, relative to the context',
  IMAGE_AUDIT_BUILD_ARGS: 'KEY=VALUE pairs, separated by commas or newlines',
  IMAGE_AUDIT_BUILD_TARGET: 'stage of a multi-stage Dockerfile',
  IMAGE_AUDIT_BUILD_TIMEOUT: 'e.g. 20m',
  IMAGE_AUDIT_SIZE_BUDGET: 'e.g. 250MB',
  IMAGE_AUDIT_SHUTDOWN_BUDGET: 'e.g. 5s',
  IMAGE_AUDIT_HEALTH_TIMEOUT: 'longest wait for the app to be up, e.g. 2m',
  IMAGE_AUDIT_INIT: 'accepted PID 1 programs, comma-separated',
  IMAGE_AUDIT_ONLY: 'check ids to run, comma-separated',
  IMAGE_AUDIT_SKIP: 'check ids to leave out, comma-separated',
  IMAGE_AUDIT_ENV_FILE: 'file of KEY=VALUE lines for the audited containers',
  IMAGE_AUDIT_MEMORY: 'memory limit of the audited container, e.g. 512MiB (0: none)',
  IMAGE_AUDIT_PIDS_LIMIT: 'pids limit of the audited container (0: none)',
  IMAGE_AUDIT_NETWORK: 'network of the audited container: bridge, none, or a name',
  IMAGE_AUDIT_PORT: "the app's TCP port",
  IMAGE_AUDIT_DRAIN_PATH: 'request path of the drain probe, e.g. /',
  IMAGE_AUDIT_DEEP: '1 to also run the costly probes',
  IMAGE_AUDIT_MANIFEST: 'Kubernetes manifest files, comma-separated: run the container as it says',
  IMAGE_AUDIT_CONTAINER: "the manifest's container to audit",
  IMAGE_AUDIT_CONFIG: 'config file (default: image-audit.config.json or package.json "imageAudit" in the target, then here)',
} as const;

/** The variable of each option (the suite's names in messages). */
const VARIABLE_OF: Partial<Record<keyof AuditOptions, keyof typeof SUITE_ENV>> = {
  dockerfile: 'IMAGE_AUDIT_DOCKERFILE',
  buildArgs: 'IMAGE_AUDIT_BUILD_ARGS',
  target: 'IMAGE_AUDIT_BUILD_TARGET',
  buildTimeout: 'IMAGE_AUDIT_BUILD_TIMEOUT',
  sizeBudget: 'IMAGE_AUDIT_SIZE_BUDGET',
  shutdownBudget: 'IMAGE_AUDIT_SHUTDOWN_BUDGET',
  healthTimeout: 'IMAGE_AUDIT_HEALTH_TIMEOUT',
  init: 'IMAGE_AUDIT_INIT',
  only: 'IMAGE_AUDIT_ONLY',
  skip: 'IMAGE_AUDIT_SKIP',
  memory: 'IMAGE_AUDIT_MEMORY',
  pidsLimit: 'IMAGE_AUDIT_PIDS_LIMIT',
  network: 'IMAGE_AUDIT_NETWORK',
  port: 'IMAGE_AUDIT_PORT',
  drainPath: 'IMAGE_AUDIT_DRAIN_PATH',
  deep: 'IMAGE_AUDIT_DEEP',
  manifest: 'IMAGE_AUDIT_MANIFEST',
  container: 'IMAGE_AUDIT_CONTAINER',
};

const list = (value: string | undefined) => value?.split(',').map((v) => v.trim()).filter(Boolean);

/**
 * The suite's target and options: the config file (IMAGE_AUDIT_CONFIG, else the target's), the
 * variables over it. `config: false` tells describeImage the config is already applied.
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv): { target: string; options: AuditOptions & { config: false } } {
  const target = env.IMAGE_AUDIT_TARGET?.trim();
  if (!target) {
    const vars = Object.entries(SUITE_ENV).map(([name, what]) => `  ${name}: ${what}`).join('\n');
    throw new UsageError(`IMAGE_AUDIT_TARGET is not set: the suite needs a target. The variables it reads:\n${vars}`);
  }
  const text = (name: keyof typeof SUITE_ENV) => env[name]?.trim() || undefined;
  const buildArgItems = (env.IMAGE_AUDIT_BUILD_ARGS ?? '').split(/[,\n]/).map((p) => p.trim()).filter(Boolean);
  const values: OptionInput = {
    dockerfile: text('IMAGE_AUDIT_DOCKERFILE'),
    buildArgs: parseAssignments(buildArgItems, 'IMAGE_AUDIT_BUILD_ARGS'),
    target: text('IMAGE_AUDIT_BUILD_TARGET'),
    buildTimeout: text('IMAGE_AUDIT_BUILD_TIMEOUT'),
    sizeBudget: text('IMAGE_AUDIT_SIZE_BUDGET'),
    shutdownBudget: text('IMAGE_AUDIT_SHUTDOWN_BUDGET'),
    healthTimeout: text('IMAGE_AUDIT_HEALTH_TIMEOUT'),
    init: list(env.IMAGE_AUDIT_INIT),
    only: list(env.IMAGE_AUDIT_ONLY) as CheckId[] | undefined,
    skip: list(env.IMAGE_AUDIT_SKIP) as CheckId[] | undefined,
    memory: text('IMAGE_AUDIT_MEMORY'),
    pidsLimit: text('IMAGE_AUDIT_PIDS_LIMIT'),
    network: text('IMAGE_AUDIT_NETWORK'),
    port: text('IMAGE_AUDIT_PORT'),
    drainPath: text('IMAGE_AUDIT_DRAIN_PATH'),
    deep: text('IMAGE_AUDIT_DEEP'),
    manifest: list(env.IMAGE_AUDIT_MANIFEST),
    container: text('IMAGE_AUDIT_CONTAINER'),
  };
  const config = loadConfigFor(target, text('IMAGE_AUDIT_CONFIG'));
  const options = resolveOptions(config, {
    values,
    envFiles: text('IMAGE_AUDIT_ENV_FILE') ? [text('IMAGE_AUDIT_ENV_FILE')!] : [],
    envFileName: 'IMAGE_AUDIT_ENV_FILE',
    nameOf: (key) => VARIABLE_OF[key] ?? key,
  }, CHECKS);
  return { target, options: { ...options, config: false } };
}
