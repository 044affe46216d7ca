import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { imageTagFor, parseTarget } from '../../src/target/resolve.js';

describe('parseTarget: image references', () => {
  it.each(['::', '', 'UPPER/Case', 'my image', ' nginx', 'nginx ', 'repo:tag:tag', 'repo@sha256:xyz', 'repo:-tag', 'a//b'])(
    'refuses %j with a usage error that states the reference grammar',
    (ref) => {
      expect(() => parseTarget(ref)).toThrow(UsageError);
      expect(() => parseTarget(ref)).toThrow(/Bad image reference .*\[host\[:port\]\/\]name\[:tag\]\[@sha256:digest\]/);
    },
  );
  it.each([
    'nginx',
    'myorg/api:1.2.3',
    'node-image-audit/service-1a2b3c4d:latest',
    'localhost:5000/team/app:v1_2.3-rc',
    'registry.example.com/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    'UPPER/case',
    'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    '924a964c05ed',
  ])('accepts %j as an image reference', (ref) => {
    expect(parseTarget(ref)).toEqual({ kind: 'image', ref });
  });
});

describe('imageTagFor', () => {
  it('gives two projects with the same folder name different tags', () => {
    const a = path.join(mkdtempSync(path.join(tmpdir(), 'a-')), 'service');
    const b = path.join(mkdtempSync(path.join(tmpdir(), 'b-')), 'service');
    expect(imageTagFor(a, 'Dockerfile')).not.toBe(imageTagFor(b, 'Dockerfile'));
  });
  it('stays readable and stable: folder, Dockerfile variant, stage and a short hash', () => {
    const tag = imageTagFor('/work/My Service', 'docker/dev-deps.Dockerfile', 'Runtime');
    expect(tag).toMatch(/^node-image-audit\/my-service-dev-deps-runtime-[0-9a-f]{8}:latest$/);
    expect(imageTagFor('/work/My Service', 'docker/dev-deps.Dockerfile', 'Runtime')).toBe(tag);
    expect(imageTagFor('/work/My Service', 'docker/dev-deps.Dockerfile')).not.toBe(tag);
  });
  it('makes a valid reference of any folder name', () => {
    for (const dir of ['/x/__weird..name--', '/x/ÄÖÜ', '/x/' + 'long'.repeat(40)]) {
      expect(() => parseTarget(imageTagFor(dir, 'Dockerfile'))).not.toThrow();
    }
  });
});
