import { createRequire } from 'node:module';
import path from 'node:path';
import { Readable } from 'node:stream';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { parseBuildStream } from '../../src/docker/build-stream.js';

const require = createRequire(import.meta.url);
const StatusResponse = protobuf
  .loadSync(path.join(path.dirname(require.resolve('dockerode/package.json')), 'lib/proto/buildkit_status.proto'))
  .lookupType('moby.buildkit.v1.StatusResponse');

const trace = (status: object) =>
  JSON.stringify({ id: 'moby.buildkit.trace', aux: Buffer.from(StatusResponse.encode(StatusResponse.fromObject(status)).finish()).toString('base64') });
const lines = (...items: string[]) => Readable.from(items.map((l) => `${l}\r\n`));

describe('parseBuildStream (classic builder)', () => {
  it('returns the image id of a good build', async () => {
    const outcome = await parseBuildStream(lines(JSON.stringify({ stream: 'Step 1/2 : FROM x\n' }), JSON.stringify({ aux: { ID: 'sha256:abc' } })), 'classic');
    expect(outcome.imageId).toBe('sha256:abc');
    expect(outcome.error).toBeUndefined();
  });
  it('fails on an error line, keeping the failing step and its output', async () => {
    const outcome = await parseBuildStream(
      lines(
        JSON.stringify({ stream: 'Step 1/2 : FROM x\n' }),
        JSON.stringify({ stream: 'Step 2/2 : RUN npm run build\n' }),
        JSON.stringify({ stream: 'sh: 1: tsc: not found\n' }),
        JSON.stringify({ errorDetail: { code: 127, message: "The command '/bin/sh -c npm run build' returned a non-zero code: 127" }, error: 'x' }),
      ),
      'classic',
    );
    expect(outcome.error).toBe("The command '/bin/sh -c npm run build' returned a non-zero code: 127");
    expect(outcome.failingStep).toBe('RUN npm run build');
    expect(outcome.failingOutput).toEqual(['sh: 1: tsc: not found']);
  });
});

describe('parseBuildStream (BuildKit)', () => {
  it('decodes the trace, joins split log lines and names the failing vertex', async () => {
    const progress: string[] = [];
    const outcome = await parseBuildStream(
      lines(
        trace({ vertexes: [{ digest: 'sha256:v1', name: '[builder 8/8] RUN npm run build', started: { seconds: 1 } }] }),
        trace({ logs: [{ vertex: 'sha256:v1', msg: Buffer.from('> build\nsh: 1: ') }] }),
        trace({ logs: [{ vertex: 'sha256:v1', msg: Buffer.from('fake-tsc: not found\n') }] }),
        trace({ vertexes: [{ digest: 'sha256:v1', name: '[builder 8/8] RUN npm run build', error: 'exit code: 127' }] }),
        JSON.stringify({ errorDetail: { message: 'executor failed running [/bin/sh -c npm run build]: exit code: 127' } }),
      ),
      'buildkit',
      (line) => progress.push(line),
    );
    expect(outcome.failingStep).toBe('[builder 8/8] RUN npm run build');
    expect(outcome.failingOutput).toEqual(['> build', 'sh: 1: fake-tsc: not found']);
    expect(outcome.error).toContain('exit code: 127');
    expect(outcome.failedElsewhere).toBe(false);
    expect(progress[0]).toBe('[builder 8/8] RUN npm run build');
  });
  it('says the step failed elsewhere when a step this build announced failed in a shared build', async () => {
    const outcome = await parseBuildStream(
      lines(
        trace({ vertexes: [{ digest: 'sha256:v2', name: '[stage-1 4/7] WORKDIR /app', started: { seconds: 1 } }] }),
        trace({ vertexes: [{ digest: 'sha256:v3', name: '[stage-1 5/7] RUN npm run build', started: { seconds: 2 } }] }),
        JSON.stringify({ errorDetail: { message: 'executor failed running [/bin/sh -c npm run build]: exit code: 127' } }),
      ),
      'buildkit',
    );
    expect(outcome.failingStep).toBe('[stage-1 5/7] RUN npm run build');
    expect(outcome.failingOutput).toEqual([]);
    expect(outcome.failedElsewhere).toBe(true);
  });
  it('does not say failed elsewhere when the failing command is no step this stream announced', async () => {
    const outcome = await parseBuildStream(
      lines(
        trace({ vertexes: [{ digest: 'sha256:v2', name: '[stage-1 4/7] WORKDIR /app', started: { seconds: 1 } }] }),
        JSON.stringify({ errorDetail: { message: 'executor failed running [/bin/sh -c npm run build]: exit code: 127' } }),
      ),
      'buildkit',
    );
    expect(outcome.failingStep).toBe('RUN npm run build');
    expect(outcome.failedElsewhere).toBe(false);
  });
  // Recorded from docker 20.10 (API 1.41): the stream of a Dockerfile parse error and of an unknown --target.
  const contextVertexes = [
    trace({ vertexes: [{ digest: 'sha256:99115d21', name: '[internal] load remote build context', started: { seconds: 1 } }] }),
    trace({ vertexes: [{ digest: 'sha256:99115d21', name: '[internal] load remote build context', started: { seconds: 1 }, completed: { seconds: 1 } }] }),
    trace({ vertexes: [{ digest: 'sha256:a47ae595', inputs: ['sha256:99115d21'], name: 'copy /context /', cached: true, started: { seconds: 1 }, completed: { seconds: 1 } }] }),
  ];
  it.each([
    ['a Dockerfile parse error', 'failed to solve with frontend dockerfile.v0: failed to create LLB definition: dockerfile parse error line 2: unknown instruction: RUNN'],
    ['an unknown --target', 'failed to solve with frontend dockerfile.v0: failed to create LLB definition: target stage nosuchstage could not be found'],
  ])('does not say failed elsewhere for %s (no step of the build failed)', async (_what, message) => {
    const outcome = await parseBuildStream(lines(...contextVertexes, JSON.stringify({ errorDetail: { message }, error: message })), 'buildkit');
    expect(outcome.error).toBe(message);
    expect(outcome.failingStep).toBeUndefined();
    expect(outcome.failedElsewhere).toBe(false);
  });
  it('takes the image id from moby.image.id', async () => {
    const outcome = await parseBuildStream(lines(JSON.stringify({ id: 'moby.image.id', aux: { ID: 'sha256:def' } })), 'buildkit');
    expect(outcome.imageId).toBe('sha256:def');
  });
});
