// Bad input gets a clear error, the right exit code, and leaks nothing — through the bin as npm
// installs it: the file itself (executable), and a symlink to it in a .bin folder.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { BIN, type CliRun } from '../support/cli.js';

/** Runs the bin as an executable (its shebang decides how Node is started), bounded. */
function runBin(bin: string, args: string[], options: { cwd?: string; boundMs?: number } = {}): Promise<CliRun> {
  const began = Date.now();
  const child = spawn(bin, args, { cwd: options.cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), options.boundMs ?? 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, elapsedMs: Date.now() - began });
    });
  });
}

const work = mkdtempSync(path.join(tmpdir(), 'inputs-'));
/** A build context that is never built: every error here comes before the audit starts. */
const context = path.join(work, 'ctx');
const linked = path.join(work, 'node_modules/.bin/image-audit');

beforeAll(() => {
  mkdirSync(context);
  writeFileSync(path.join(context, 'Dockerfile'), 'FROM scratch\n');
  // What npm does on install: the bin executable, and a symlink to it in node_modules/.bin.
  chmodSync(BIN, 0o755);
  mkdirSync(path.dirname(linked), { recursive: true });
  symlinkSync(BIN, linked);
});

describe('--env-file through the bin (Node 20 reads --env-file even after the script name)', () => {
  // The bin is a plain `#!/usr/bin/env node` script (npm's Windows shims need that), so on Node 20 Node
  // itself reads --env-file before any of our code runs: a missing file ends with Node's own one-line
  // message (exit 9). Where Node leaves the option alone, the tool's own message and exit 2 apply.
  const nodeReadsEnvFile = Number(process.versions.node.split('.')[0]) === 20;
  for (const [how, bin] of [['the bin file', () => BIN], ['a symlink in node_modules/.bin', () => linked]] as const) {
    it(`ends with one line naming the missing file (${how})`, async () => {
      const run = await runBin(bin(), [context, '--env-file', 'missing.env'], { cwd: work });
      const lines = run.stderr.trim().split('\n');
      expect(lines, run.stderr).toHaveLength(1);
      if (nodeReadsEnvFile && run.code === 9) expect(lines[0]).toBe('node: missing.env: not found');
      else {
        expect(run.code, run.stderr).toBe(2);
        expect(lines[0]).toBe('image-audit: Cannot read --env-file missing.env: ENOENT');
      }
    });
  }

  it('reports a bad line by file:line and never prints the secret on it', async () => {
    const envFile = path.join(work, 'bad.env');
    writeFileSync(envFile, 'GOOD=1\nexport QUOTED="a b"\npostgres://admin:hunter2@db/app?sslmode=require\n');
    const run = await runBin(linked, [context, '--env-file', envFile]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr.trim()).toBe(`image-audit: Bad variable at ${envFile}:3: the text before "=" is not a variable name (letters, digits, _ . -, not starting with a digit)`);
    expect(run.stderr).not.toContain('hunter2');
  });

  it('reports a bad --env by its position, never its value', async () => {
    const run = await runBin(BIN, [context, '-e', 'OK=1', '-e', 'DB PASSWORD=hunter2']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Bad variable in --env #2');
    expect(run.stderr).not.toContain('hunter2');
  });
});

describe('report paths are checked before the audit starts', () => {
  it('refuses an --output under /proc at once, with one line, exit 2 (mkdir -p there never returns)', async () => {
    const run = await runBin(BIN, [context, '--format', 'json', '--output', '/proc/x/y.json'], { boundMs: 20_000 });
    expect(run.signal).toBeNull();
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual(['image-audit: Cannot write --output /proc/x/y.json: cannot create the directory /proc/x: no such directory, and it cannot be created there (ENOENT)']);
  });

  it('refuses a --report file whose folder is a file', async () => {
    const file = path.join(work, 'plain-file');
    writeFileSync(file, '');
    const run = await runBin(BIN, [context, '--report', `junit=${file}/out/junit.xml`], { boundMs: 20_000 });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/^image-audit: Cannot write --report junit=.*plain-file\/out\/junit\.xml: /);
  });

  it('refuses two reports to the same file', async () => {
    const run = await runBin(BIN, [context, '--output', path.join(work, 'same.xml'), '--report', `junit=${path.join(work, 'same.xml')}`]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('writes the same file');
  });

  it('creates the folders of a writable path and leaves no file when the audit then fails', async () => {
    const out = path.join(work, 'reports/nested/audit.json');
    const run = await runBin(BIN, ['./no/such/dir', '--format', 'json', '--output', out], { cwd: work });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Build context is not a directory');
    expect(existsSync(path.dirname(out))).toBe(true);
    expect(existsSync(out)).toBe(false);
  });
});

describe('values a timer, a port or a selection cannot take', () => {
  const refused: Array<[string[], string]> = [
    [['--shutdown-budget', '10000h'], 'image-audit: Bad shutdown budget "10000h" (--shutdown-budget): too long: the longest is 24.8 days (2147483647 ms), the limit of Node\'s timers'],
    [['--build-timeout', '30d'], 'image-audit: Bad build timeout "30d" (--build-timeout): too long'],
    [['--health-timeout', '30d'], 'image-audit: Bad health timeout "30d" (--health-timeout): too long'],
    [['--port', '70000'], 'image-audit: Bad port "70000" (--port): not a TCP port (1-65535)'],
    [['--pids-limit', '-1'], 'image-audit: Bad pids limit "-1" (--pids-limit)'],
    [['--memory', 'plenty'], 'image-audit: Bad memory limit "plenty" (--memory): not a size'],
    [['--network', 'not a name'], 'image-audit: Bad network "not a name" (--network)'],
    [['--drain-path', 'healthz'], 'image-audit: Bad drain path "healthz" (--drain-path)'],
    [['--only', 'healthcheck', '--skip', 'healthcheck'], 'image-audit: No check left to run: --only healthcheck minus --skip healthcheck is nothing'],
  ];
  for (const [args, message] of refused) {
    it(`exits 2 on ${args.join(' ')}`, async () => {
      const run = await runBin(BIN, [context, ...args]);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(message);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    });
  }

  it('exits 2 on a gate threshold above the timer limit', async () => {
    const run = await runBin(BIN, ['gate', context, '--max-shutdown-growth-ms', '30d']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Bad --max-shutdown-growth-ms "30d": Duration "30d" is too long');
  });
});

describe('the config file', () => {
  const withConfig = (config: string) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'inputs-config-'));
    writeFileSync(path.join(dir, 'Dockerfile'), 'FROM scratch\n');
    writeFileSync(path.join(dir, 'image-audit.config.json'), config);
    return dir;
  };

  it('is read when saved with a UTF-8 byte order mark (its values apply)', async () => {
    const dir = withConfig(`\uFEFF${JSON.stringify({ shutdownBudget: '10000h' })}`);
    const run = await runBin(BIN, [dir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('/shutdownBudget: "10000h" is too long');
  });

  it('refuses a waiver expiring on a day that is not on the calendar', async () => {
    const dir = withConfig(JSON.stringify({ waivers: [{ check: 'healthcheck', reason: 'IA-1', expires: '2027-02-31' }] }));
    const run = await runBin(BIN, [dir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('/waivers/0/expires: "2027-02-31" is not a calendar date (YYYY-MM-DD)');
  });
});

describe('a failing run says why on stderr when stdout carries no terminal report', () => {
  // The base image is in the daemon, and size-budget needs no container: a quick, certain failure.
  const failing = () => [inject('nodeImage'), '--only', 'size-budget', '--size-budget', '1kB'];

  it('--format json: the JSON on stdout, one line on stderr', async () => {
    const run = await runBin(BIN, [...failing(), '--format', 'json']);
    expect(run.code, run.stderr).toBe(1);
    expect(JSON.parse(run.stdout).summary.fail).toBe(1);
    expect(run.stderr.trim()).toBe('image-audit: 1 check failed: size-budget');
  });

  it('every report in a file: the summary, then the line', async () => {
    const out = path.join(work, 'failing/audit.xml');
    const run = await runBin(BIN, [...failing(), '--format', 'junit', '--output', out]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n').at(-1)).toBe('image-audit: 1 check failed: size-budget');
  });

  it('the terminal report on stdout says it already: no extra line', async () => {
    const run = await runBin(BIN, failing());
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).not.toContain('check failed');
  });

  it('the gate: "do not ship" and why', async () => {
    const run = await runBin(BIN, ['gate', ...failing(), '--format', 'json']);
    expect(run.code, run.stderr).toBe(1);
    expect(JSON.parse(run.stdout).verdict).toBe('do-not-ship');
    expect(run.stderr.trim().split('\n').at(-1)).toBe('image-audit gate: do not ship: 1 check failed: size-budget');
  });
});
