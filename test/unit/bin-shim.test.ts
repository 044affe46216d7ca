// The bin as npm installs it on every platform: a plain `#!/usr/bin/env node` file, so the Windows shims
// npm writes from its first line (cmd-shim, the version npm 11 bundles) start node, never /bin/sh.
// And what Node 20 does with `--env-file` given to the bin (it reads it even after the script's name).
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envFilesReadByNode, nodeEnvFileNotice } from '../../src/cli/node-env-file.js';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
const cmdShim = createRequire(import.meta.url)('cmd-shim') as (from: string, to: string) => Promise<void>;

describe('the bin and the shims npm writes for it', () => {
  let work: string;
  let packageDir: string;
  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'bin-shim-'));
    packageDir = path.join(work, 'node_modules/node-image-audit');
    mkdirSync(packageDir, { recursive: true });
    copyFileSync(path.join(ROOT, 'package.json'), path.join(packageDir, 'package.json'));
    // Its dependencies, where an install would put them (the bundle requires some on load).
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(packageDir, 'node_modules'), 'dir');
    // The shipped file: the bundle scripts/build.mjs makes (only esbuild; tsc is not needed for the bin).
    await run(process.execPath, [path.join(ROOT, 'scripts/build.mjs'), '--no-tsc', '--out', path.join(packageDir, 'dist')], { cwd: ROOT, timeout: 120_000 });
    for (const [name, file] of Object.entries(pkg.bin)) await cmdShim(path.join(packageDir, file), path.join(work, 'node_modules/.bin', name));
  }, 150_000);
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('every bin of package.json is the bundle, whose first line is a plain node shebang', () => {
    expect(Object.keys(pkg.bin).sort()).toEqual(['image-audit', 'node-image-audit']);
    for (const file of Object.values(pkg.bin)) {
      expect(file).toBe('dist/cli/main.cjs');
      expect(readFileSync(path.join(packageDir, file), 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    }
    expect(readFileSync(path.join(ROOT, 'src/cli/main.ts'), 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it.each(Object.keys(pkg.bin))('%s: the .cmd and .ps1 shims run node on the bundle, not /bin/sh', (name) => {
    const bin = path.join(work, 'node_modules/.bin', name);
    const cmd = readFileSync(`${bin}.cmd`, 'utf8');
    const ps1 = readFileSync(`${bin}.ps1`, 'utf8');
    for (const shim of [cmd, ps1, readFileSync(bin, 'utf8').split('\n').slice(1).join('\n')]) {
      expect(shim).not.toMatch(/\/bin\/sh(?!\n)|\bsh\.exe/);
    }
    expect(cmd).toContain('SET "_prog=node"');
    expect(cmd).toMatch(/"%_prog%"\s+"%dp0%\\\.\.\\node-image-audit\\dist\\cli\\main\.cjs" %\*/);
    expect(ps1).toMatch(/& "node\$exe"\s+"\$basedir\/\.\.\/node-image-audit\/dist\/cli\/main\.cjs" \$args/);
  });

  it('the POSIX shim npm writes for Cygwin/MSYS runs the bundle with node here too', async () => {
    const { stdout } = await run('sh', [path.join(work, 'node_modules/.bin/node-image-audit'), '--version'], { timeout: 60_000 });
    expect(stdout.trim()).toBe(pkg.version);
  });
});

describe('--env-file among the bin\'s arguments: what Node 20 read before our code ran', () => {
  it('finds --env-file F and --env-file=F, and stops at --', () => {
    expect(envFilesReadByNode(['.', '--env-file', 'a.env', '-e', 'X=1', '--env-file=b c.env'])).toEqual(['a.env', 'b c.env']);
    expect(envFilesReadByNode(['.', '--', '--env-file', 'a.env'])).toEqual([]);
    expect(envFilesReadByNode(['.', '--env-filex=a.env', '--env-file'])).toEqual([]);
    expect(envFilesReadByNode(['.', '-e', 'A=--env-file'])).toEqual([]);
  });
  it('names the files whose NODE_OPTIONS Node applied to this process, never a value', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'env-notice-'));
    try {
      writeFileSync(path.join(dir, 'app.env'), 'PORT=3000\nexport NODE_OPTIONS="--require ./tracing.js --max-old-space-size=64"\n');
      writeFileSync(path.join(dir, 'plain.env'), 'PORT=3000\n');
      const notice = nodeEnvFileNotice(['.', '--env-file', path.join(dir, 'plain.env'), `--env-file=${path.join(dir, 'app.env')}`]);
      expect(notice).toContain(path.join(dir, 'app.env'));
      expect(notice).not.toContain('plain.env');
      expect(notice).not.toContain('tracing');
      expect(notice).toMatch(/NODE_OPTIONS/);
      expect(nodeEnvFileNotice(['.', '--env-file', path.join(dir, 'plain.env')])).toBeUndefined();
      expect(nodeEnvFileNotice(['.', '--env-file', path.join(dir, 'missing.env')])).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
