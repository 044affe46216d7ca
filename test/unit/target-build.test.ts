import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SharedStepFailedError } from '../../src/docker/build-stream.js';
import type { BuildRequest, BuildResult, DockerPort } from '../../src/docker/port.js';
import { AuditInterruptedError, BuildFailedError, DockerApiError } from '../../src/errors.js';
import { buildImage } from '../../src/target/build.js';

type Attempt = (request: BuildRequest) => Promise<BuildResult>;

/** A port whose build() plays the given attempts in order, recording what it was asked. */
function portPlaying(...attempts: Attempt[]): { docker: DockerPort; requests: BuildRequest[] } {
  const requests: BuildRequest[] = [];
  const docker = {
    build: (request: BuildRequest) => {
      requests.push(request);
      const next = attempts[requests.length - 1];
      if (!next) throw new Error(`unexpected build attempt ${requests.length}`);
      return next(request);
    },
  } as unknown as DockerPort;
  return { docker, requests };
}

const built = (builder: 'buildkit' | 'classic'): Attempt => async () => ({ imageId: 'sha256:abc', builder, log: [] });
const fails = (err: Error): Attempt => async () => {
  throw err;
};
/** A build that runs until its signal aborts, then rejects as the port does. */
const hangs: Attempt = (request) =>
  new Promise((_resolve, reject) => {
    request.signal!.addEventListener('abort', () => reject(new BuildFailedError('Build was cancelled', undefined, [])));
  });
const request = { context: () => Readable.from([]), dockerfile: 'Dockerfile', buildArgs: {}, tag: 'x/y:latest' };

describe('buildImage: the build policy above the port', () => {
  it('builds once with BuildKit when that works', async () => {
    const { docker, requests } = portPlaying(built('buildkit'));
    expect(await buildImage(docker, request)).toMatchObject({ builder: 'buildkit' });
    expect(requests.map((r) => r.builder)).toEqual(['auto']);
  });
  it('falls back to the classic builder only when the daemon has no BuildKit', async () => {
    const { docker, requests } = portPlaying(fails(new DockerApiError('Docker refused the build: buildkit not supported by daemon')), built('classic'));
    expect(await buildImage(docker, request)).toMatchObject({ builder: 'classic' });
    expect(requests.map((r) => r.builder)).toEqual(['auto', 'classic']);
  });
  it('does not fall back or retry when the Dockerfile fails', async () => {
    const { docker, requests } = portPlaying(fails(new BuildFailedError('Build failed: dockerfile parse error line 2: unknown instruction: RUNN', undefined, [])));
    await expect(buildImage(docker, request)).rejects.toThrow(/parse error/);
    expect(requests).toHaveLength(1);
  });
  it('builds once more, and only once, when a shared step failed in another build', async () => {
    const shared = new SharedStepFailedError('Build failed at [2/2] RUN false: exit code: 1', '[2/2] RUN false', []);
    const { docker, requests } = portPlaying(fails(shared), fails(shared));
    await expect(buildImage(docker, request)).rejects.toBe(shared);
    expect(requests.map((r) => r.builder)).toEqual(['auto', 'auto']);
  });
  it('forces the classic builder when asked', async () => {
    const { docker, requests } = portPlaying(built('classic'));
    await buildImage(docker, { ...request, builder: 'classic' });
    expect(requests.map((r) => r.builder)).toEqual(['classic']);
  });
  it('bounds the retry by what is left of the one build timeout', async () => {
    const shared = new SharedStepFailedError('Build failed at RUN x: exit code: 1', 'RUN x', []);
    const slowShared: Attempt = () => new Promise((_resolve, reject) => setTimeout(() => reject(shared), 150));
    const { docker, requests } = portPlaying(slowShared, hangs);
    const began = performance.now();
    await expect(buildImage(docker, { ...request, timeoutMs: 300 })).rejects.toThrow(/did not finish within/);
    expect(performance.now() - began).toBeLessThan(600);
    expect(requests[1].timeoutMs).toBeLessThanOrEqual(160);
  });
  it("rejects at once with AuditInterruptedError when the caller's signal aborts", async () => {
    const { docker } = portPlaying(hangs);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(buildImage(docker, { ...request, signal: controller.signal })).rejects.toBeInstanceOf(AuditInterruptedError);
  });
  it('does not start a build for a signal that already aborted', async () => {
    const { docker, requests } = portPlaying(built('buildkit'));
    await expect(buildImage(docker, { ...request, signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AuditInterruptedError);
    expect(requests).toHaveLength(0);
  });
});
