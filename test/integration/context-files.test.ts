// What of a build context reaches the image, on the real daemon: compared with what `docker build`
// (the CLI) puts there. Measured on docker 20.10 with the CLI's classic builder: a FIFO is sent as a
// FIFO, a socket is skipped, a name that is not UTF-8 keeps its bytes, and .dockerignore applies.
// With BuildKit (`DOCKER_BUILDKIT=1 docker build`, the 20.10 CLI, which syncs the folder through a
// session as we now do): the FIFO is sent as a FIFO but BuildKit's COPY of this daemon leaves it out,
// and a socket is sent as an empty regular file with the socket's permissions (fsutil clears the socket
// bit and the read of it fails), so it lands as an empty file. Our image had the CLI's image id.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildContext } from '../support/context-build.js';
import { imageTagFor } from '../../src/target/resolve.js';

const builtTags: string[] = [];

function listing(image: string, dir = '/ctx'): string[] {
  const out = execFileSync('docker', ['run', '--rm', '--entrypoint', 'ls', image, '-Ab', '--file-type', dir], { encoding: 'utf8', timeout: 60_000 });
  return out.split('\n').filter(Boolean).sort();
}

const engineMajor = Number.parseInt(execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8', timeout: 30_000 }), 10);

async function build(dir: string, builder: 'auto' | 'classic', dockerfile = 'Dockerfile'): Promise<string> {
  const tag = imageTagFor(dir, dockerfile, builder);
  builtTags.push(tag);
  await buildContext(dir, { tag, dockerfile, builder });
  return tag;
}

afterAll(() => {
  for (const tag of builtTags) execFileSync('docker', ['rmi', '-f', tag], { stdio: 'ignore', timeout: 60_000 });
});

describe.each(['auto', 'classic'] as const)('a context with special files (builder %s)', (builder) => {
  let dir: string;
  let socketServer: Server;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'context-files-'));
    writeFileSync(path.join(dir, 'Dockerfile'), 'ARG NODE_IMAGE\nFROM $NODE_IMAGE\nCOPY . /ctx/\n');
    writeFileSync(path.join(dir, '.dockerignore'), 'secret.env\n');
    writeFileSync(path.join(dir, 'app.js'), 'console.log(1)\n');
    writeFileSync(path.join(dir, 'secret.env'), 'TOKEN=x\n');
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), Buffer.from([0xff, 0x66])]), 'not utf-8\n');
    execFileSync('mkfifo', [path.join(dir, 'pipe')]);
    socketServer = createServer();
    await new Promise<void>((resolve) => socketServer.listen(path.join(dir, 'app.sock'), resolve));
  });
  afterAll(() => new Promise<void>((resolve) => socketServer.close(() => resolve())));

  it('builds (a FIFO is not read, a socket is no error) and lands what docker build lands', async () => {
    const image = await build(dir, builder);
    // ls -b escapes the byte 0xff as \377; --file-type marks a FIFO with |. We send the FIFO as the CLI
    // does; the classic builder creates it, BuildKit's COPY leaves it out on dockerd 20.10 and creates it
    // on 26.1 (measured). The socket: the tar has no type for it (skipped, as the CLI does); BuildKit's
    // session sends it as an empty file.
    const special = builder === 'classic' ? ['pipe|'] : engineMajor > 20 ? ['app.sock', 'pipe|'] : ['app.sock'];
    expect(listing(image)).toEqual(['.dockerignore', 'Dockerfile', '\\377f', 'app.js', ...special]);
  });
});

describe('a .dockerignore that excludes the Dockerfile and itself', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'context-ignore-self-'));
    writeFileSync(path.join(dir, 'Dockerfile'), 'ARG NODE_IMAGE\nFROM $NODE_IMAGE\nCOPY . /ctx/\n');
    writeFileSync(path.join(dir, '.dockerignore'), 'Dockerfile\n.dockerignore\n');
    writeFileSync(path.join(dir, 'app.js'), 'console.log(1)\n');
  });

  it('keeps them out of COPY . under the classic builder (the daemon removes them)', async () => {
    expect(listing(await build(dir, 'classic'))).toEqual(['app.js']);
  });
  // Measured on docker 20.10: BuildKit given a tar through the API applies no .dockerignore and keeps
  // both files (they must be in the tar). Like the CLI, we sync the folder through a BuildKit session:
  // BuildKit reads the Dockerfile from its own folder and asks for the context with .dockerignore applied.
  it('keeps them out of COPY . under BuildKit too', async () => {
    expect(listing(await build(dir, 'auto'))).toEqual(['app.js']);
  });
});
