// The ready-made suite (suites/) reads its target and options from the environment, so a CI job can
// run it against any image without writing a test file.
import { parseAssignments, readEnvFile } from '../cli/env-file.js';
import { loadConfigFor } from '../config/load.js';
import { UsageError } from '../errors.js';
import type { AuditOptions, CheckId } from '../types.js';

export const SUITE_ENV = {
  IMAGE_AUDIT_TARGET: 'build context directory or image reference (required)',
  IMAGE_AUDIT_DOCKERFILE: 'Dockerfile, relative to the context',
  IMAGE_AUDIT_BUILD_ARGS: 'KEY=VALUE pairs, separated by commas or newlines',
  IMAGE_AUDIT_BUILD_TARGET: 'stage of a multi-stage Dockerfile',
  IMAGE_AUDIT_SIZE_BUDGET: 'e.g. 250MB',
  IMAGE_AUDIT_SHUTDOWN_BUDGET: 'e.g. 5s',
  IMAGE_AUDIT_INIT: 'accepted PID 1 programs, comma-separated',
  IMAGE_AUDIT_ONLY: 'check ids to run, comma-separated',
  IMAGE_AUDIT_SKIP: 'check ids to leave out, comma-separated',
  IMAGE_AUDIT_ENV_FILE: 'file of KEY=VALUE lines for the audited containers',
  IMAGE_AUDIT_CONFIG: 'config file (default: image-audit.config.json or package.json "imageAudit" in the target, then here)',
} as const;

const list = (value: string | undefined) => value?.split(',').map((v) => v.trim()).filter(Boolean);

export function optionsFromEnv(env: NodeJS.ProcessEnv): { target: string; options: AuditOptions } {
  const target = env.IMAGE_AUDIT_TARGET?.trim();
  if (!target) {
    const vars = Object.entries(SUITE_ENV).map(([name, what]) => `  ${name}: ${what}`).join('\n');
    throw new UsageError(`IMAGE_AUDIT_TARGET is not set: the suite needs a target. The variables it reads:\n${vars}`);
  }
  const buildArgItems = (env.IMAGE_AUDIT_BUILD_ARGS ?? '').split(/[,\n]/).map((p) => p.trim()).filter(Boolean);
  const buildArgs = parseAssignments(buildArgItems, 'in IMAGE_AUDIT_BUILD_ARGS');
  const config = loadConfigFor(target, env.IMAGE_AUDIT_CONFIG || undefined);
  const fromEnv: AuditOptions = {
    dockerfile: env.IMAGE_AUDIT_DOCKERFILE || undefined,
    buildArgs,
    target: env.IMAGE_AUDIT_BUILD_TARGET || undefined,
    sizeBudget: env.IMAGE_AUDIT_SIZE_BUDGET || undefined,
    shutdownBudget: env.IMAGE_AUDIT_SHUTDOWN_BUDGET || undefined,
    init: list(env.IMAGE_AUDIT_INIT),
    only: list(env.IMAGE_AUDIT_ONLY) as CheckId[] | undefined,
    skip: list(env.IMAGE_AUDIT_SKIP) as CheckId[] | undefined,
    env: env.IMAGE_AUDIT_ENV_FILE ? readEnvFile(env.IMAGE_AUDIT_ENV_FILE) : undefined,
  };
  // The config file first, the variables over it.
  const options: AuditOptions = { ...config?.options };
  for (const [key, value] of Object.entries(fromEnv) as Array<[keyof AuditOptions, never]>) {
    if (value !== undefined && !(key === 'buildArgs' && Object.keys(value).length === 0)) options[key] = value;
  }
  options.buildArgs = { ...config?.options.buildArgs, ...fromEnv.buildArgs };
  return { target, options };
}
