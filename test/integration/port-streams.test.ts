// The port's two large bodies on the real daemon: the image export and a folder's archive, read through
// the engine's unix socket into one reused buffer (src/docker/raw-http.ts). What they give must be what
// the docker CLI gives for the same request (`docker save`, `docker cp … -`), read by the same walkers.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { chunksOf } from '../../src/docker/chunk-source.js';
import { DockerodePort } from '../../src/docker/dockerode-port.js';
import { ImageNotFoundError } from '../../src/errors.js';
import { readTar, SKIP, TarReader, walkImageExport, type WalkOptions } from '../../src/facts/layers.js';
import type { ChunkSource } from '../../src/docker/chunk-source.js';

const docker = new DockerodePort();
let image: string;
let containerId: string;

/** The stdout of a docker CLI command, as a chunk source (owned chunks, not lent). */
function cli(args: string[]): ChunkSource {
  const child = spawn('docker', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return chunksOf(child.stdout, `docker ${args[0]}`);
}

/** Every file's path and size of a tar, and the content of the small ones. */
async function entriesOf(source: ChunkSource): Promise<string[]> {
  const seen: string[] = [];
  const reader = new TarReader((entry) => {
    seen.push(`${entry.type} ${entry.name} ${entry.sizeBytes}${entry.linkname ? ` -> ${entry.linkname}` : ''}`);
    if (entry.type !== 'file' || entry.sizeBytes > 4096) return SKIP;
    return { kind: 'collect', limit: entry.sizeBytes, done: (content) => void seen.push(`  ${content.toString('base64')}`) };
  });
  await readTar(source, reader, AbortSignal.timeout(60_000), 'a tar');
  return seen;
}

async function walk(source: ChunkSource) {
  const files: string[] = [];
  const options: WalkOptions = {
    wants: (p) => p.endsWith('etc/passwd') || p.endsWith('package.json'),
    onFile: (f, content) => files.push(`${f.layer} ${f.path} ${content.toString('base64')}`),
    signal: AbortSignal.timeout(120_000),
  };
  const layout = await walkImageExport(source, options);
  return { files, layers: layout.layers, history: layout.history, layerBytes: layout.layerBytes };
}

beforeAll(async () => {
  image = inject('nodeImage');
  containerId = await docker.createContainer({ image, env: [], labels: { 'image-audit-test.port-streams': 'true' }, entrypoint: ['/never-started'], cmd: [], network: 'none' });
});

afterAll(async () => {
  if (containerId) await docker.removeContainer(containerId);
});

describe('the port reads large bodies through the socket, lent from one buffer', () => {
  it('exports the image as docker save does: the same layers, history and files', async () => {
    const buffers = new Set<ArrayBuffer>();
    let chunks = 0;
    const exported = await docker.exportImage(image);
    const lentWalk = walk((onChunk, signal) =>
      exported((chunk) => {
        chunks++;
        buffers.add(chunk.buffer as ArrayBuffer);
        return onChunk(chunk);
      }, signal),
    );
    const [ours, theirs] = await Promise.all([lentWalk, walk(cli(['save', image]))]);
    expect(ours).toEqual(theirs);
    expect(ours.files.some((f) => f.includes(' etc/passwd '))).toBe(true);
    // Hundreds of chunks, one buffer: the raw socket read, not Node's http client (on an engine reached
    // through a unix socket, as here; over TCP the port falls back to dockerode, a buffer per chunk).
    expect(chunks).toBeGreaterThan(100);
    if (!process.env.DOCKER_HOST || process.env.DOCKER_HOST.startsWith('unix://')) expect(buffers.size).toBe(1);
  });

  it("reads a folder's archive as docker cp does", async () => {
    const archive = await docker.archive(containerId, '/etc');
    expect(archive).toBeDefined();
    const [ours, theirs] = await Promise.all([entriesOf(archive!), entriesOf(cli(['cp', `${containerId}:/etc`, '-']))]);
    expect(ours).toEqual(theirs);
    expect(ours.some((e) => e.startsWith('file etc/passwd '))).toBe(true);
  });

  it('a path that is not there is undefined; an image that is not there is ImageNotFoundError', async () => {
    expect(await docker.archive(containerId, '/no/such/path')).toBeUndefined();
    await expect(docker.exportImage('image-audit-test/no-such-image:never')).rejects.toBeInstanceOf(ImageNotFoundError);
  });

  it("stops at the consumer's abort, and the next read on the same daemon works", async () => {
    const exported = await docker.exportImage(image);
    const controller = new AbortController();
    let bytes = 0;
    const read = exported((chunk) => {
      bytes += chunk.length;
      if (bytes > 1_000_000) controller.abort(new Error('enough'));
    }, controller.signal);
    await expect(read).rejects.toThrow('enough');
    expect(await entriesOf((await docker.archive(containerId, '/etc/hostname'))!)).toHaveLength(2);
  });
});
