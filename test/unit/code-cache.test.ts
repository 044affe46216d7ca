import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { codeCacheFile, readCodeCache, writeCodeCache } from '../../src/cli/code-cache.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// The bin's loader (src/cli/main.ts) on small CommonJS bundles of the test's own, each in a process of
// its own as the bin runs: V8 keeps what one process compiled in memory, so a second run in the same
// process would take that, whatever the cache file holds. Each bundle prints a value the test reads, so
// what ran is the code of the file, whatever the cache held.
let work: string;
let env: NodeJS.ProcessEnv;
let runner: string;
const bundle = (name: string, value: string) => {
  const file = path.join(work, name);
  writeFileSync(file, `process.stdout.write(JSON.stringify({ value: ${JSON.stringify(value)}, dirname: __dirname, file: require('node:path').basename(module.filename) }));\n// a comment – not ASCII\n`);
  return file;
};
/** One start of the bundle through the loader: what it printed, and where its code came from. */
const start = (file: string, extraEnv: NodeJS.ProcessEnv = {}) => {
  const out = execFileSync(process.execPath, [runner, file], { env: { PATH: process.env.PATH, ...env, ...extraEnv }, encoding: 'utf8' });
  const at = out.lastIndexOf('\n');
  return { ...(JSON.parse(out.slice(0, at)) as { value: string; dirname: string; file: string }), from: out.slice(at + 1) };
};
const v8Dir = () => path.join(work, 'cache', 'v8');

beforeAll(() => {
  // The loader as the build bundles it (CommonJS), and a bin of the test's own that runs the file it is given.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'image-audit-code-cache-loader-'));
  buildSync({ entryPoints: [path.join(ROOT, 'src/cli/code-cache.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: path.join(dir, 'loader.cjs'), logLevel: 'error' });
  runner = path.join(dir, 'bin.cjs');
  writeFileSync(runner, "const from = require('./loader.cjs').runWithCodeCache(process.argv[2], process.env);\nprocess.on('exit', () => process.stdout.write('\\n' + from));\n");
  return () => rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'image-audit-code-cache-'));
  env = { IMAGE_AUDIT_CACHE_DIR: path.join(work, 'cache') };
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

describe('runWithCodeCache', () => {
  it('runs the bundle as Node requires it, writes its code on the first start and reads it on the next', () => {
    const file = bundle('cli.cjs', 'first');
    expect(start(file)).toEqual({ value: 'first', dirname: work, file: 'cli.cjs', from: 'compiled' });
    const written = readdirSync(v8Dir());
    expect(written).toHaveLength(1);
    expect(statSync(path.join(v8Dir(), written[0]!)).mode & 0o777).toBe(0o600);
    expect(statSync(v8Dir()).mode & 0o777).toBe(0o700);
    expect(start(file)).toMatchObject({ value: 'first', from: 'from cache' });
  });

  it('a changed bundle of the same length never runs the code cached for the old one', () => {
    const file = bundle('cli.cjs', 'aaaa');
    start(file);
    bundle('cli.cjs', 'bbbb');
    // V8 would take the old cache for this source (it checks the length only): the file name keeps it away.
    expect(start(file)).toMatchObject({ value: 'bbbb', from: 'compiled' });
    expect(readdirSync(v8Dir())).toHaveLength(2);
    expect(start(file)).toMatchObject({ value: 'bbbb', from: 'from cache' });
  });

  it('a corrupt cache is compiled past and written again', () => {
    const file = bundle('cli.cjs', 'value');
    start(file);
    const [name] = readdirSync(v8Dir());
    writeFileSync(path.join(v8Dir(), name!), Buffer.alloc(4096, 7), { mode: 0o600 });
    expect(start(file)).toMatchObject({ value: 'value', from: 'compiled' });
    expect(start(file)).toMatchObject({ value: 'value', from: 'from cache' });
  });

  it('IMAGE_AUDIT_CACHE=off: nothing is read or written', () => {
    const file = bundle('cli.cjs', 'off');
    expect(start(file, { IMAGE_AUDIT_CACHE: 'off' })).toMatchObject({ value: 'off', from: 'off' });
    expect(existsSync(path.join(work, 'cache'))).toBe(false);
  });

  it('an unwritable cache folder costs nothing but the cache', () => {
    writeFileSync(path.join(work, 'cache'), 'a file where the folder would be');
    const file = bundle('cli.cjs', 'ran');
    expect(start(file)).toMatchObject({ value: 'ran', from: 'compiled' });
    expect(start(file)).toMatchObject({ value: 'ran', from: 'compiled' });
  });
});

describe('codeCacheFile', () => {
  it('names the cache by the bundle bytes, under the cache folder', () => {
    const a = codeCacheFile(Buffer.from('module.exports = 1;'), env);
    expect(a).toMatch(new RegExp(`^${v8Dir()}/cli-[0-9a-f]{32}\\.bin$`));
    expect(codeCacheFile(Buffer.from('module.exports = 1;'), env)).toBe(a);
    expect(codeCacheFile(Buffer.from('module.exports = 2;'), env)).not.toBe(a);
    expect(codeCacheFile(Buffer.from('x'), { IMAGE_AUDIT_CACHE: 'off' })).toBeUndefined();
  });
});

describe('readCodeCache: only a cache nobody else can write is run', () => {
  const cached = () => {
    const file = path.join(v8Dir(), 'cli-0123456789abcdef0123456789abcdef.bin');
    writeCodeCache(file, Buffer.from('cached code'));
    return file;
  };

  it('reads its own file', () => {
    expect(readCodeCache(cached())?.toString()).toBe('cached code');
  });

  it.each([0o620, 0o602])('not a file others can write (mode %o)', (mode) => {
    const file = cached();
    chmodSync(file, mode);
    expect(readCodeCache(file)).toBeUndefined();
  });

  it('not in a folder others can write', () => {
    const file = cached();
    chmodSync(v8Dir(), 0o777);
    expect(readCodeCache(file)).toBeUndefined();
  });

  it.runIf(process.getuid?.() === 0)("not another user's file", () => {
    const file = cached();
    chownSync(file, 12345, 12345);
    expect(readCodeCache(file)).toBeUndefined();
  });

  it('a missing file is no cache', () => {
    mkdirSync(v8Dir(), { recursive: true, mode: 0o700 });
    expect(readCodeCache(path.join(v8Dir(), 'cli-none.bin'))).toBeUndefined();
  });
});

describe('writeCodeCache', () => {
  it('keeps the newest caches of other bundles (4 in all) and leaves other files alone', () => {
    mkdirSync(v8Dir(), { recursive: true, mode: 0o700 });
    const old = (i: number) => path.join(v8Dir(), `cli-${String(i).repeat(32)}.bin`);
    for (let i = 1; i <= 5; i++) {
      writeFileSync(old(i), 'old');
      utimesSync(old(i), i * 1000, i * 1000);
    }
    writeFileSync(path.join(v8Dir(), 'notes.txt'), 'not ours');
    writeCodeCache(path.join(v8Dir(), `cli-${'a'.repeat(32)}.bin`), Buffer.from('new'));
    expect(readdirSync(v8Dir()).sort()).toEqual([`cli-${'3'.repeat(32)}.bin`, `cli-${'4'.repeat(32)}.bin`, `cli-${'5'.repeat(32)}.bin`, `cli-${'a'.repeat(32)}.bin`, 'notes.txt']);
  });
});
