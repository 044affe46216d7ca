import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { optionsFromEnv } from '../../src/vitest/env-options.js';
import { selectChecks } from '../../src/audit.js';

describe('--manifest as an option', () => {
  it('the config takes manifest (one or several, relative to its folder) and container', () => {
    const one = parseConfig({ manifest: 'deploy/app.yaml', container: 'api' }, '/srv/app/image-audit.config.json', '/srv/app');
    expect(one.options).toMatchObject({ manifest: ['/srv/app/deploy/app.yaml'], container: 'api' });
    const two = parseConfig({ manifest: ['a.yaml', '/abs/b.yaml'] }, '/srv/app/image-audit.config.json', '/srv/app');
    expect(two.options.manifest).toEqual(['/srv/app/a.yaml', '/abs/b.yaml']);
    expect(() => parseConfig({ manifest: 3 }, '/srv/app/image-audit.config.json', '/srv/app')).toThrow(/manifest/);
  });
  it('the suite reads IMAGE_AUDIT_MANIFEST (comma-separated) and IMAGE_AUDIT_CONTAINER', () => {
    const { options } = optionsFromEnv({ IMAGE_AUDIT_TARGET: 'myorg/api:1', IMAGE_AUDIT_MANIFEST: 'k8s/a.yaml, k8s/b.yaml', IMAGE_AUDIT_CONTAINER: 'api' }) as never as { options: { manifest: string[]; container: string } };
    expect(options.manifest).toEqual(['k8s/a.yaml', 'k8s/b.yaml']);
    expect(options.container).toBe('api');
  });
  it('the manifest checks are present with a manifest, or when named', () => {
    const ids = (manifest: boolean, only?: string[]) => selectChecks(only, undefined, false, manifest).map((c) => c.id);
    expect(ids(false)).not.toContain('k8s-grace-period');
    expect(ids(true)).toEqual(expect.arrayContaining(['k8s-run-as-non-root', 'k8s-grace-period', 'k8s-probes', 'read-only-rootfs', 'memory-headroom']));
    expect(ids(false, ['read-only-rootfs'])).toEqual(['read-only-rootfs']);
  });
});

describe('a finding located in a manifest outside the build context', async () => {
  const { renderSarif } = await import('../../src/report/sarif.js');
  it('SARIF names it by its file: URI and line', () => {
    const report = {
      target: 'fixtures/app',
      source: { contextDir: '/srv/app', dockerfile: 'Dockerfile' },
      image: { id: 'sha256:1', tags: [], sizeBytes: 1 },
      checks: [{ id: 'memory-headroom' as const, title: 't', status: 'fail' as const, message: 'OOM', evidence: {}, durationMs: 1, location: { file: '/srv/deploy/app.yaml', line: 31, instruction: 'memory: 64Mi' } }],
      summary: { pass: 0, fail: 1, warn: 0, skip: 0, error: 0, waived: 0 },
      durationMs: 1,
    };
    const sarif = JSON.parse(renderSarif(report, '0.0.0'));
    expect(sarif.runs[0].results[0].locations[0].physicalLocation).toMatchObject({ artifactLocation: { uri: 'file:///srv/deploy/app.yaml' }, region: { startLine: 31 } });
  });
});

describe('--container without --manifest', async () => {
  const { resolveManifest } = await import('../../src/manifest/audit-input.js');
  it('is exit 2', () => {
    expect(() => resolveManifest({ container: 'api' }, { kind: 'image', ref: 'x:1' })).toThrow(/give the manifest with --manifest FILE/);
    expect(resolveManifest({}, { kind: 'image', ref: 'x:1' })).toBeUndefined();
  });
});
