// The build context through a BuildKit session (src/docker/buildkit/), on the real daemon:
// BuildKit reads the folder itself and applies .dockerignore, as with `docker build`. Each listing is
// what the docker CLI lands (measured with the 20.10 CLI, DOCKER_BUILDKIT=1); where a CLI that builds
// with BuildKit is installed, the same build is also made with it and the listings compared.
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { buildContext } from '../support/context-build.js';

const builtTags: string[] = [];
const DIST = path.resolve(__dirname, '../../dist');

/**
 * A docker CLI that builds with BuildKit: before 23.0 it does so itself, later through buildx. Only one
 * of the engine's major version is a reference: a 20.10 CLI does not unescape the patterns a 26.1 engine
 * sends escaped (measured: it lands the files a non-ASCII .dockerignore lists).
 */
const cli = ((): string | undefined => {
  for (const bin of ['docker', '/usr/bin/docker']) {
    try {
      const [client, server] = execFileSync(bin, ['version', '--format', '{{.Client.Version}} {{.Server.Version}}'], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'ignore'] })
        .trim()
        .split(' ')
        .map((v) => Number.parseInt(v, 10));
      if (client !== server) {
        console.info(`buildkit-session.test.ts: ${bin} (${client}) is older or newer than the engine (${server}): not a reference`);
        continue;
      }
      if (client < 23) return bin;
      execFileSync(bin, ['buildx', 'version'], { stdio: 'ignore', timeout: 30_000 });
      return bin;
    } catch {
      // not this one
    }
  }
  return undefined;
})();
if (!cli) console.info('buildkit-session.test.ts: no docker CLI that builds with BuildKit: the listings are not compared with one');

/** Every entry under /ctx: its path, type (f, d, l, p) and permissions. */
function tree(image: string): string[] {
  const out = execFileSync('docker', ['run', '--rm', '--entrypoint', 'find', image, '/ctx', '-mindepth', '1', '-printf', '%P %y %m\\n'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return out.split('\n').filter(Boolean).sort();
}

function write(dir: string, files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
}

const COPY_ALL = 'ARG NODE_IMAGE\nFROM $NODE_IMAGE\nCOPY . /ctx/\n';

async function build(dir: string, dockerfile = 'Dockerfile'): Promise<{ tag: string; steps: string[] }> {
  const tag = `node-image-audit/buildkit-session-test:${randomUUID().slice(0, 8)}`;
  builtTags.push(tag);
  const steps: string[] = [];
  const result = await buildContext(dir, { tag, dockerfile, onProgress: (line) => steps.push(line) });
  expect(result.builder).toBe('buildkit');
  return { tag, steps };
}

/** The same build made by the docker CLI (BuildKit). */
function buildWithCli(dir: string, dockerfile = 'Dockerfile'): string {
  const tag = `node-image-audit/buildkit-session-test-cli:${randomUUID().slice(0, 8)}`;
  builtTags.push(tag);
  execFileSync(cli!, ['build', '-q', '--build-arg', `NODE_IMAGE=${inject('nodeImage')}`, '-f', path.join(dir, dockerfile), '-t', tag, dir], {
    env: { ...process.env, DOCKER_BUILDKIT: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 180_000,
  });
  return tag;
}

afterAll(() => {
  for (const tag of builtTags) execFileSync('docker', ['rmi', '-f', tag], { stdio: 'ignore', timeout: 60_000 });
});

describe('a .dockerignore with exceptions', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'session-exceptions-'));
    write(dir, {
      Dockerfile: COPY_ALL,
      '.dockerignore': '*\n!app.js\n!lib/keep.js\n',
      'app.js': 'console.log(1)\n',
      'other.js': 'console.log(2)\n',
      'secret.env': 'TOKEN=x\n',
      'lib/keep.js': 'module.exports = 1\n',
      'lib/drop.js': 'module.exports = 2\n',
    });
  });

  it('lands only what docker build lands (no Dockerfile or .dockerignore: BuildKit keeps neither)', async () => {
    const { tag, steps } = await build(dir);
    expect(steps).toContain('[internal] load build context');
    // lib is excluded itself but holds an exception: sent (as fsutil does) just before lib/keep.js.
    expect(tree(tag)).toEqual(['app.js f 644', 'lib d 755', 'lib/keep.js f 644']);
  });

  it.skipIf(!cli)('is what the docker CLI lands', async () => {
    expect(tree((await build(dir)).tag)).toEqual(tree(buildWithCli(dir)));
  });
});

describe('a .dockerignore whose lines are not plain ASCII', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'session-ignore-utf8-'));
    // The daemon sends each pattern as a header line: Node joins the lines of a key with ", " and reads
    // them as latin1, and grpc-js drops a value that is not printable ASCII (with every pattern in it).
    write(dir, {
      Dockerfile: COPY_ALL,
      '.dockerignore': 'données.txt\nsecret.env\na, b.txt\n',
      'données.txt': 'x\n',
      'secret.env': 'TOKEN=x\n',
      'a, b.txt': 'x\n',
      'a': 'kept\n',
      'app.js': 'console.log(1)\n',
    });
  });

  it('excludes every line it lists', async () => {
    expect(tree((await build(dir)).tag)).toEqual(['.dockerignore f 644', 'Dockerfile f 644', 'a f 644', 'app.js f 644']);
  });

  it.skipIf(!cli)('is what the docker CLI lands', async () => {
    expect(tree((await build(dir)).tag)).toEqual(tree(buildWithCli(dir)));
  });
});

describe('the packed bin, a .dockerignore whose lines are not plain ASCII', () => {
  // What a user runs: the bin builds the context and scans the image's layers. On Docker 23 and later
  // the daemon sends these patterns escaped; read as names, they let the .env they list into the image.
  it('leaves out the .env it lists: secrets finds nothing', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'session-ignore-utf8-bin-'));
    write(dir, {
      Dockerfile: COPY_ALL,
      '.dockerignore': 'données.txt\n.env\n',
      'données.txt': 'x\n',
      '.env': 'NPM_TOKEN=npm_abcdefghijklmnopqrstuvwxyz0123456789\n',
      'app.js': 'console.log(1)\n',
    });
    const run = await runCli([dir, '--only', 'secrets', '--build-arg', `NODE_IMAGE=${inject('nodeImage')}`, '--format', 'json']);
    const report = JSON.parse(run.stdout) as { image: { tags: string[] }; checks: Array<{ id: string; status: string; message: string }> };
    builtTags.push(...report.image.tags);
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([['secrets', 'pass']]);
    expect(run.code).toBe(0);
    expect(tree(report.image.tags[0])).toEqual(['.dockerignore f 644', 'Dockerfile f 644', 'app.js f 644']);
  });
});

describe('a Dockerfile in a subfolder (-f docker/Dockerfile)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'session-subfolder-'));
    write(dir, {
      '.dockerignore': 'secret.env\n',
      'docker/Dockerfile': COPY_ALL,
      // BuildKit reads <Dockerfile>.dockerignore, next to the Dockerfile, instead of .dockerignore.
      'other/Dockerfile': COPY_ALL,
      'other/Dockerfile.dockerignore': 'app.js\nother\n',
      'app.js': 'console.log(1)\n',
      'secret.env': 'TOKEN=x\n',
    });
    // A Dockerfile reached through a symlink: followpaths resolves it inside the Dockerfile's folder.
    symlinkSync('docker/Dockerfile', path.join(dir, 'linked.Dockerfile'));
  });

  it('builds with the Dockerfile read from its own folder', async () => {
    const { tag, steps } = await build(dir, 'docker/Dockerfile');
    expect(steps).toContain('[internal] load build definition from Dockerfile');
    expect(tree(tag)).toEqual([
      '.dockerignore f 644',
      'app.js f 644',
      'docker d 755',
      'docker/Dockerfile f 644',
      'linked.Dockerfile l 777',
      'other d 755',
      'other/Dockerfile f 644',
      'other/Dockerfile.dockerignore f 644',
    ]);
  });

  it('applies the ignore file next to the Dockerfile instead of .dockerignore', async () => {
    expect(tree((await build(dir, 'other/Dockerfile')).tag)).toEqual([
      '.dockerignore f 644',
      'docker d 755',
      'docker/Dockerfile f 644',
      'linked.Dockerfile l 777',
      'secret.env f 644',
    ]);
  });

  it('sends the classic builder what BuildKit gets under the same ignore file (one choice for both)', async () => {
    const tag = `node-image-audit/buildkit-session-test-classic:${randomUUID().slice(0, 8)}`;
    builtTags.push(tag);
    expect((await buildContext(dir, { tag, dockerfile: 'other/Dockerfile', builder: 'classic' })).builder).toBe('classic');
    // app.js (listed) stays out and secret.env (listed only by .dockerignore) lands, as under BuildKit. The
    // Dockerfile is always sent to the classic daemon, which leaves it out of COPY only when .dockerignore
    // (the one it reads from the tar) lists it: here only other/Dockerfile.dockerignore does.
    const buildkit = tree((await build(dir, 'other/Dockerfile')).tag);
    expect(tree(tag)).toEqual([...buildkit, 'other d 755', 'other/Dockerfile f 644'].sort());
  });

  it('builds with a Dockerfile that is a symlink', async () => {
    expect(tree((await build(dir, 'linked.Dockerfile')).tag)).toContain('linked.Dockerfile l 777');
  });

  it.skipIf(!cli)('is what the docker CLI lands, for each Dockerfile', async () => {
    for (const dockerfile of ['docker/Dockerfile', 'other/Dockerfile', 'linked.Dockerfile']) {
      expect(tree((await build(dir, dockerfile)).tag), dockerfile).toEqual(tree(buildWithCli(dir, dockerfile)));
    }
  });
});

describe('a cancelled session build', () => {
  it('cancels the build and leaves no session open: the process ends by itself', async () => {
    const marker = `session-abort-${randomUUID()}`;
    const dir = mkdtempSync(path.join(tmpdir(), 'session-abort-'));
    write(dir, { Dockerfile: `ARG NODE_IMAGE\nFROM $NODE_IMAGE\nRUN echo ${marker} && sleep 30\n` });
    // The library as built by the global setup, in a process of its own: an open session (a socket, a
    // timer of the gRPC server) would keep that process alive after the build rejected.
    const module = (file: string) => JSON.stringify(pathToFileURL(path.join(DIST, file)).href);
    const script = `
      import { DockerodePort } from ${module('docker/dockerode-port.js')};
      import { buildImage } from ${module('target/build.js')};
      import { resolveContext } from ${module('target/context.js')};
      const context = resolveContext(${JSON.stringify(dir)});
      const controller = new AbortController();
      const onProgress = (line) => {
        if (line.includes(${JSON.stringify(marker)}) && !line.includes('RUN') && !controller.signal.aborted) {
          console.log('running');
          setTimeout(() => controller.abort(), 500);
        }
      };
      try {
        await buildImage(new DockerodePort(), {
          context: context.tar, contextDir: context.dir, dockerfile: context.dockerfile, buildArgs: { NODE_IMAGE: ${JSON.stringify(inject('nodeImage'))} },
          tag: 'node-image-audit/buildkit-session-test:abort', timeoutMs: 120000, signal: controller.signal, onProgress,
        });
        console.log('built');
      } catch (err) {
        console.log('rejected ' + err.name);
      }
      console.log('done');
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let doneAt: number | undefined;
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (doneAt === undefined && stdout.includes('done\n')) doneAt = performance.now();
    });
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    clearTimeout(killer);
    const exitedAt = performance.now();
    expect(stdout, stderr).toContain('running');
    expect(stdout).toContain('rejected AuditInterruptedError');
    expect(code).toBe(0);
    expect(doneAt).toBeDefined();
    // Nothing of ours kept the process: it ends as soon as the build rejected (a leaked session socket
    // keeps it until the 60 s killer; 5 s is slack for a loaded 2-core CI).
    expect(exitedAt - doneAt!).toBeLessThan(5000);
    // The daemon cancelled the build: its RUN (a process on this host) is gone.
    if (!process.env.DOCKER_HOST || process.env.DOCKER_HOST.startsWith('unix://')) {
      const running = () => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((line) => line.includes(marker));
      const deadline = performance.now() + 10_000;
      while (running().length && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
      expect(running()).toEqual([]);
    }
  });
});
