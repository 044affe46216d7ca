import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import * as tarStream from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { resolveContext } from '../../src/target/context.js';

async function entries(tar: Readable, types = ['file'], filenameEncoding = 'utf-8'): Promise<string[]> {
  const names: string[] = [];
  // filenameEncoding exists in tar-stream 3 but not in its typings.
  const extract = tarStream.extract({ filenameEncoding } as Parameters<typeof tarStream.extract>[0]);
  extract.on('entry', (header, stream, next) => {
    if (types.includes(header.type ?? 'file')) names.push(types.length > 1 ? `${header.type} ${header.name}` : header.name);
    stream.on('end', next);
    stream.resume();
  });
  const finished = new Promise<void>((resolve, reject) => extract.on('finish', () => resolve()).on('error', reject));
  tar.pipe(extract);
  await finished;
  return names.sort();
}

function makeContext(ignore: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ctx-'));
  const files = ['Dockerfile', 'app.js', 'debug.log', 'node_modules/x/index.js', 'secrets/private.key', 'secrets/public.txt', 'docs/readme.md'];
  for (const f of files) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), f);
  }
  writeFileSync(path.join(dir, '.dockerignore'), ignore);
  return dir;
}

describe('resolveContext', () => {
  it('sends what .dockerignore does not exclude, like the Docker CLI', async () => {
    const context = resolveContext(makeContext('node_modules\n*.log\nsecrets\n!secrets/public.txt\n'));
    expect(await entries(context.tar())).toEqual(['.dockerignore', 'Dockerfile', 'app.js', 'docs/readme.md', 'secrets/public.txt']);
  });
  it('always sends the Dockerfile and .dockerignore, even when excluded', async () => {
    const context = resolveContext(makeContext('Dockerfile\n.dockerignore\ndocs\n'));
    const sent = await entries(context.tar());
    expect(sent).toContain('Dockerfile');
    expect(sent).toContain('.dockerignore');
    expect(sent).not.toContain('docs/readme.md');
  });
  it('excludes the fixture secrets that must never reach an image', async () => {
    const context = resolveContext(path.resolve(__dirname, '../../fixtures/service'));
    const sent = await entries(context.tar());
    expect(sent).not.toContain('local-secrets.env');
    expect(sent).toContain('package-lock.json');
    expect(context.isSent('node_modules/anything')).toBe(false);
  });
  it('refuses a missing directory or Dockerfile with a usage error', () => {
    expect(() => resolveContext('/no/such/dir')).toThrow(UsageError);
    expect(() => resolveContext(makeContext(''), 'Nope.Dockerfile')).toThrow(/No Dockerfile at/);
    expect(() => resolveContext(makeContext(''), '../Dockerfile')).toThrow(/inside the build context/);
  });
  it('refuses a Dockerfile path that is a directory with a usage error', () => {
    const dir = makeContext('');
    mkdirSync(path.join(dir, 'docker'));
    expect(() => resolveContext(dir, 'docker')).toThrow(UsageError);
    expect(() => resolveContext(dir, 'docker')).toThrow(/is a directory/);
  });
  it('sends a Dockerfile that sits in an excluded folder', async () => {
    const dir = makeContext('docs\n');
    writeFileSync(path.join(dir, 'docs/Dockerfile'), 'FROM scratch\n');
    expect(await entries(resolveContext(dir, 'docs/Dockerfile').tar())).toContain('docs/Dockerfile');
  });
  it('applies <Dockerfile>.dockerignore in place of .dockerignore, as BuildKit does', async () => {
    const dir = makeContext('docs\n');
    writeFileSync(path.join(dir, 'app.Dockerfile'), 'FROM scratch\n');
    writeFileSync(path.join(dir, 'app.Dockerfile.dockerignore'), 'secrets\n*.log\n');
    const context = resolveContext(dir, 'app.Dockerfile');
    expect(context.ignoreFile).toBe('app.Dockerfile.dockerignore');
    const sent = await entries(context.tar());
    expect(sent).toContain('docs/readme.md');
    expect(sent).not.toContain('secrets/public.txt');
    expect(sent).not.toContain('debug.log');
    // The classic daemon reads .dockerignore from the tar: the CLI always sends it.
    expect(sent).toEqual(expect.arrayContaining(['.dockerignore', 'app.Dockerfile', 'app.Dockerfile.dockerignore']));
    expect(resolveContext(dir).ignoreFile).toBe('.dockerignore');
  });
});

describe('resolveContext: what the Docker CLI sends besides regular files', () => {
  it('sends a FIFO as a FIFO entry without reading it, and skips a unix socket', async () => {
    const dir = makeContext('');
    execFileSync('mkfifo', [path.join(dir, 'pipe')]);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(path.join(dir, 'app.sock'), resolve));
    try {
      const sent = await entries(resolveContext(dir).tar(), ['file', 'fifo', 'directory']);
      expect(sent).toContain('fifo pipe');
      expect(sent.some((e) => e.endsWith('app.sock'))).toBe(false);
      expect(sent).toContain('file app.js');
    } finally {
      server.close();
    }
  });
  it('keeps a file name that is not UTF-8 byte for byte', async () => {
    const dir = makeContext('');
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), Buffer.from([0xff, 0x66])]), 'x');
    const sent = await entries(resolveContext(dir).tar(), ['file'], 'latin1');
    expect(sent).toContain(Buffer.from([0xff, 0x66]).toString('latin1'));
  });
  it('writes an archive that GNU tar reads, long names and symlinks included', async () => {
    const dir = makeContext('');
    const long = `${'deep/'.repeat(30)}file-with-a-long-name.txt`;
    mkdirSync(path.dirname(path.join(dir, long)), { recursive: true });
    writeFileSync(path.join(dir, long), 'x'.repeat(1000));
    execFileSync('ln', ['-s', 'app.js', path.join(dir, 'link.js')]);
    const archive = path.join(mkdtempSync(path.join(tmpdir(), 'tar-')), 'ctx.tar');
    const chunks: Buffer[] = [];
    for await (const chunk of resolveContext(dir).tar()) chunks.push(chunk as Buffer);
    writeFileSync(archive, Buffer.concat(chunks));
    const listing = execFileSync('tar', ['-tvf', archive], { encoding: 'utf8' });
    expect(listing).toContain(long);
    expect(listing).toMatch(/link\.js -> app\.js/);
    expect(listing).toMatch(/ 1000 .*file-with-a-long-name\.txt/);
  });
});
