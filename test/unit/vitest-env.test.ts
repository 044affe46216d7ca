import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { optionsFromEnv } from '../../src/vitest/env-options.js';

describe('optionsFromEnv', () => {
  it('reads the target and every option', () => {
    const envFile = path.join(mkdtempSync(path.join(tmpdir(), 'env-')), 'app.env');
    writeFileSync(envFile, 'DATABASE_URL=postgres://db\n');
    const { target, options } = optionsFromEnv({
      IMAGE_AUDIT_TARGET: './service',
      IMAGE_AUDIT_DOCKERFILE: 'Dockerfile.prod',
      IMAGE_AUDIT_BUILD_ARGS: 'NODE_IMAGE=node:20, APP_VERSION=1.2.3',
      IMAGE_AUDIT_BUILD_TARGET: 'runtime',
      IMAGE_AUDIT_SIZE_BUDGET: '200MB',
      IMAGE_AUDIT_SHUTDOWN_BUDGET: '3s',
      IMAGE_AUDIT_INIT: 'dumb-init,tini',
      IMAGE_AUDIT_SKIP: 'size-budget',
      IMAGE_AUDIT_ENV_FILE: envFile,
    });
    expect(target).toBe('./service');
    expect(options).toMatchObject({
      dockerfile: 'Dockerfile.prod',
      buildArgs: { NODE_IMAGE: 'node:20', APP_VERSION: '1.2.3' },
      target: 'runtime',
      sizeBudget: '200MB',
      shutdownBudget: '3s',
      init: ['dumb-init', 'tini'],
      skip: ['size-budget'],
      env: { DATABASE_URL: 'postgres://db' },
    });
  });
  it('reads the config file of the target, the variables over it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'suite-config-'));
    writeFileSync(path.join(dir, 'image-audit.config.json'), JSON.stringify({ sizeBudget: '100MB', shutdownBudget: '9s', waivers: [{ check: 'healthcheck', reason: 'IA-7' }] }));
    const { options } = optionsFromEnv({ IMAGE_AUDIT_TARGET: dir, IMAGE_AUDIT_SIZE_BUDGET: '300MB' });
    expect(options).toMatchObject({ sizeBudget: '300MB', shutdownBudget: '9s', waivers: [{ check: 'healthcheck', reason: 'IA-7' }] });
  });
  it('names the variables when the target is missing', () => {
    expect(() => optionsFromEnv({})).toThrow(UsageError);
    expect(() => optionsFromEnv({})).toThrow(/IMAGE_AUDIT_SIZE_BUDGET: e.g. 250MB/);
  });
});
