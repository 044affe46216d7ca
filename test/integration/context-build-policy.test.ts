// The build policy on the real daemon: a build that cannot succeed is built once, and a caller's abort
// cancels a running build promptly, leaving no build container behind.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { DockerodePort } from '../../src/docker/dockerode-port.js';
import { AuditInterruptedError, BuildFailedError } from '../../src/errors.js';
import { buildImage } from '../../src/target/build.js';
import { resolveContext } from '../../src/target/context.js';
import { imageTagFor } from '../../src/target/resolve.js';

const docker = new DockerodePort();

function contextWith(dockerfile: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'context-policy-'));
  writeFileSync(path.join(dir, 'Dockerfile'), dockerfile);
  return dir;
}

function request(dir: string, extra: { target?: string; builder?: 'auto' | 'classic'; signal?: AbortSignal; onProgress?: (line: string) => void }) {
  const context = resolveContext(dir);
  return {
    context: context.tar,
    contextDir: context.dir,
    dockerfile: context.dockerfile,
    buildArgs: { NODE_IMAGE: inject('nodeImage') },
    tag: imageTagFor(dir, 'Dockerfile', extra.target),
    timeoutMs: 120_000,
    ...extra,
  };
}

describe('a build that cannot succeed', () => {
  it.each([
    ['a Dockerfile syntax error', 'ARG NODE_IMAGE\nFROM $NODE_IMAGE\nRUNN echo nope\n', undefined, /parse error/],
    ['an unknown --target', 'ARG NODE_IMAGE\nFROM $NODE_IMAGE AS app\nRUN true\n', 'nosuchstage', /nosuchstage/],
  ])('is built once for %s', async (_what, dockerfile, target, message) => {
    const progress: string[] = [];
    const failure = buildImage(docker, request(contextWith(dockerfile), { target, onProgress: (line) => progress.push(line) }));
    await expect(failure).rejects.toBeInstanceOf(BuildFailedError);
    await expect(failure).rejects.toThrow(message);
    expect(progress.filter((line) => line.startsWith('ERROR:'))).toHaveLength(1);
    // Each attempt loads the Dockerfile once (through the BuildKit session, from the Dockerfile's folder).
    expect(progress.filter((line) => line === '[internal] load build definition from Dockerfile')).toHaveLength(1);
  });
});

describe.each(['auto', 'classic'] as const)("a caller's abort (builder %s)", (builder) => {
  it('cancels a running build within 3 s and leaves no build container', async () => {
    const marker = `abort-${randomUUID()}`;
    const dir = contextWith(`ARG NODE_IMAGE\nFROM $NODE_IMAGE\nRUN echo ${marker} && sleep 30\n`);
    const controller = new AbortController();
    const progress: string[] = [];
    const build = buildImage(docker, request(dir, { builder, signal: controller.signal, onProgress: (line) => progress.push(line) }));
    build.catch(() => undefined);
    // Abort once the RUN step is running (its echo came back), at least 1 s in.
    const began = performance.now();
    while (!progress.some((line) => line.includes(marker) && !line.includes('RUN')) && performance.now() - began < 60_000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1000 - (performance.now() - began))));
    const abortedAt = performance.now();
    controller.abort();
    await expect(build).rejects.toBeInstanceOf(AuditInterruptedError);
    expect(performance.now() - abortedAt).toBeLessThan(3000);
    // The classic builder runs RUN in a container: the daemon removes it once the build is cancelled.
    const leftover = () =>
      execFileSync('docker', ['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Command}}'], { encoding: 'utf8', timeout: 30_000 })
        .split('\n')
        .filter((line) => line.includes(marker));
    const deadline = performance.now() + 15_000;
    while (leftover().length && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
    expect(leftover()).toEqual([]);
  });
});
