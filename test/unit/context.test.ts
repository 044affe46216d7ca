import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import * as tarStream from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { resolveContext } from '../../src/target/context.js';

async function entries(tar: Readable): Promise<string[]> {
  const names: string[] = [];
  const extract = tarStream.extract();
  extract.on('entry', (header, stream, next) => {
    if (header.type === 'file') names.push(header.name);
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
});
