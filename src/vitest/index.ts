// node-image-audit/vitest: the image verdicts as ordinary vitest tests.
//   import { describeImage } from 'node-image-audit/vitest';
//   describeImage('.', { sizeBudget: '250MB' });
// Importing this module registers the matchers (expect.extend) and their types.
import { beforeAll, describe, expect, it } from 'vitest';
import { audit, selectChecks } from '../audit.js';
import { CHECKS } from '../checks/registry.js';
import { loadConfigFor } from '../config/load.js';
import { resolveOptions } from '../config/resolve.js';
import { AuditError } from '../errors.js';
import type { AuditOptions, AuditReport, TargetSpec } from '../types.js';
import { imageAuditMatchers, type ImageAuditMatchers } from './matchers.js';

expect.extend(imageAuditMatchers);

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface Matchers<T = any> extends ImageAuditMatchers<T> {}
}

export { imageAuditMatchers, type ImageAuditMatchers };

export interface DescribeImageOptions extends AuditOptions {
  /** Bound on the build and the audit together (default 10 minutes). */
  timeoutMs?: number;
  /** Name of the describe block (default: "image <target>"). */
  name?: string;
  /** Config file (default: image-audit.config.json or package.json "imageAudit" in the context, then
   * the current directory); false: read none (optionsFromEnv has applied it already). */
  config?: string | false;
}

function targetLabel(target: string | TargetSpec): string {
  if (typeof target === 'string') return target;
  if (target.kind === 'image') return target.ref;
  return target.dockerfile ? `${target.dir} (${target.dockerfile})` : target.dir;
}

/**
 * Declares the compliance suite for one target: one audit in beforeAll, then one test per check,
 * named "<id>: <title>". A failed check fails its test with the check's message and evidence;
 * a skipped check is skipped; an audit that cannot run (build failed, daemon gone) fails every test
 * with that reason.
 */
export function describeImage(target: string | TargetSpec, options: DescribeImageOptions = {}): void {
  const { timeoutMs = 600_000, name, config: configPath, ...given } = options;
  // As the CLI does: the config file first, these options over it (a bad value throws here, at collection).
  const configTarget = typeof target === 'string' ? target : target.kind === 'image' ? target.ref : target.dir;
  const config = configPath === false ? undefined : loadConfigFor(configTarget, configPath);
  const auditOptions = resolveOptions(config, { values: given, nameOf: (key) => `describeImage option ${key}` }, CHECKS);
  const checks = selectChecks(auditOptions.only, auditOptions.skip, auditOptions.deep, Boolean(auditOptions.manifest?.length));
  describe(name ?? `image ${targetLabel(target)}`, () => {
    let report: AuditReport | undefined;
    let failure: Error | undefined;
    beforeAll(async () => {
      try {
        report = await audit(target, auditOptions);
      } catch (err) {
        failure = err as Error;
      }
    }, timeoutMs);

    for (const check of checks) {
      it(`${check.id}: ${check.title}`, (context) => {
        if (failure) {
          const detail = failure instanceof AuditError && failure.detail.length ? `\n${failure.detail.map((l) => `  ${l}`).join('\n')}` : '';
          throw new Error(`could not audit ${targetLabel(target)}: ${failure.message}${detail}`);
        }
        const result = report!.checks.find((c) => c.id === check.id);
        if (result?.status === 'skip') return context.skip(result.message);
        expect(report).toPassCheck(check.id);
      });
    }
  });
}

export { optionsFromEnv, SUITE_ENV } from './env-options.js';
