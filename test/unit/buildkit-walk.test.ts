// The walk the BuildKit session sends (src/docker/buildkit/walk.ts), without a daemon: fsutil's order and
// filters. The same contexts land on the real daemon in test/integration/buildkit-session.test.ts.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { walkFiltered } from '../../src/docker/buildkit/walk.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function context(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'buildkit-walk-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

async function walk(dir: string, filter: Parameters<typeof walkFiltered>[1]): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of walkFiltered(dir, filter)) out.push(entry.relative.toString('utf8'));
  return out;
}

describe('walkFiltered', () => {
  const files = { Dockerfile: 'FROM x\n', '.dockerignore': '*\n', 'app.js': '1', 'other.js': '2', 'lib/keep.js': '3', 'lib/drop.js': '4' };

  it('walks in bytewise order and sends everything without patterns', async () => {
    expect(await walk(context(files), {})).toEqual(['.dockerignore', 'Dockerfile', 'app.js', 'lib', 'lib/drop.js', 'lib/keep.js', 'other.js']);
  });

  it('sends a folder excluded itself just before the first exception inside it', async () => {
    expect(await walk(context(files), { excludePatterns: ['*', '!app.js', '!lib/keep.js'] })).toEqual(['app.js', 'lib', 'lib/keep.js']);
  });

  it('does not enter a folder no pattern can keep anything in', async () => {
    expect(await walk(context(files), { excludePatterns: ['lib', '*.js', '!app.js'] })).toEqual(['.dockerignore', 'Dockerfile', 'app.js']);
  });

  it('follows a followpath through a symlink inside the folder, and sends only what it names', async () => {
    const dir = context({ 'docker/Dockerfile': 'FROM x\n', 'app.js': '1' });
    symlinkSync('docker/Dockerfile', path.join(dir, 'linked.Dockerfile'));
    expect(await walk(dir, { followPaths: ['linked.Dockerfile'] })).toEqual(['docker', 'docker/Dockerfile', 'linked.Dockerfile']);
  });

  it('words a malformed pattern as fsutil does', async () => {
    await expect(walk(context(files), { excludePatterns: ['a', '['] })).rejects.toThrow('invalid excludepatterns: [a []: syntax error in pattern');
    await expect(walk(context(files), { excludePatterns: ['[z-a]'] })).rejects.toThrow('failed to match excludepatterns: syntax error in pattern');
  });
});
