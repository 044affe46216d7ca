// The app seen from inside its container: the helper script itself runs here, with node, against a
// made-up /proc (the exec of the fake daemon points it there), so what it matches and what it reports
// when a file cannot be read are tested as they run in a container.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExecRequest, ExecResult } from '../../src/docker/port.js';
import { buildProcessTree } from '../../src/lifecycle/process-tree.js';
import { helperBinary, observeRuntime } from '../../src/lifecycle/runtime.js';
import { fakeDocker, row } from '../support/fake-docker.js';

interface FakeProc {
  pid: number;
  ppid: number;
  uid: number;
  argv: string[];
  /** A symlink target; null: unreadable (a plain file, readlink fails). */
  exe: string | null;
  /** The environment; null: unreadable (a folder, the read fails). */
  environ?: string[] | null;
  cwd?: string;
}

let dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

function fakeProc(procs: FakeProc[]): string {
  const root = mkdtempSync(path.join(tmpdir(), 'fake-proc-'));
  dirs.push(root);
  for (const p of procs) {
    const dir = path.join(root, String(p.pid));
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'stat'), `${p.pid} (${(p.argv[0] ?? '').slice(0, 15)}) S ${p.ppid} ${p.pid} ${p.pid} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 4242 0 0`);
    writeFileSync(path.join(dir, 'status'), `Name:\tx\nUmask:\t0022\nState:\tS (sleeping)\nPid:\t${p.pid}\nPPid:\t${p.ppid}\nUid:\t${p.uid}\t${p.uid}\t${p.uid}\t${p.uid}\n`);
    writeFileSync(path.join(dir, 'cmdline'), p.argv.join('\0') + '\0');
    if (p.exe === null) writeFileSync(path.join(dir, 'exe'), '');
    else symlinkSync(p.exe, path.join(dir, 'exe'));
    if (p.environ === null) mkdirSync(path.join(dir, 'environ'));
    else writeFileSync(path.join(dir, 'environ'), (p.environ ?? []).map((e) => `${e}\0`).join(''));
    symlinkSync(p.cwd ?? '/', path.join(dir, 'cwd'));
  }
  return root;
}

/** The daemon's exec: the helper script runs here with node, its /proc being the made-up one. */
function execAgainst(root: string, versions: Record<string, string> = {}) {
  const calls: ExecRequest[] = [];
  const exec = (request: ExecRequest): ExecResult => {
    calls.push(request);
    const [program, flag, script, ...rest] = request.argv;
    if (flag === '-p') return versions[program] ? { exitCode: 0, stdout: `${versions[program]}\n`, stderr: '' } : { exitCode: 127, stdout: '', stderr: `exec: "${program}": not found` };
    const want = JSON.parse(rest[0]) as Record<string, unknown>;
    const run = spawnSync(process.execPath, [flag, script, JSON.stringify({ ...want, proc: root })], { encoding: 'utf8' });
    return { exitCode: run.status ?? 1, stdout: run.stdout, stderr: run.stderr };
  };
  return { exec, calls };
}

async function started(exec: (request: ExecRequest) => ExecResult) {
  const docker = fakeDocker({ exec });
  const id = await docker.createContainer({ image: 'app', env: [], labels: {} });
  await docker.startContainer(id);
  return { docker, id };
}

const signal = new AbortController().signal;

describe('observeRuntime', () => {
  it('finds an app that retitled itself after the table was sampled, by its place and its executable', async () => {
    // The table saw "node server.js"; by the time of the exec the app calls itself "next-server (v1"
    // (process.title, as Next.js does), and an orphan of a probe (node too) sits at the same depth.
    const root = fakeProc([
      { pid: 1, ppid: 0, uid: 0, argv: ['dumb-init', '--', 'node', 'server.js'], exe: null },
      { pid: 7, ppid: 1, uid: 1000, argv: ['next-server (v1'], exe: process.execPath, environ: ['NODE_ENV=production', 'PATH=/usr/bin'], cwd: '/app' },
      { pid: 31, ppid: 1, uid: 1000, argv: ['node', '-e', 'setTimeout(() => {}, 150)'], exe: process.execPath },
      { pid: 40, ppid: 0, uid: 1000, argv: ['node', '-e', 'probe'], exe: process.execPath },
    ]);
    const tree = buildProcessTree([row(500, 480, 'dumb-init -- node server.js', 0), row(510, 500, 'node server.js')], 500)!;
    const { exec } = execAgainst(root);
    const { docker, id } = await started(exec);
    const runtime = await observeRuntime(docker, id, tree.app!, signal);
    expect(runtime).toMatchObject({ pid: 7, ppid: 1, cwd: '/app', argv: ['next-server (v1'], matchedBy: 'executable' });
    expect(runtime.nodeEnv).toEqual({ ok: true, value: 'production' });
    expect(runtime.nodeVersion).toEqual({ ok: true, value: process.version });
  });

  it('prefers the process whose command line is the one the table showed', async () => {
    const root = fakeProc([
      { pid: 1, ppid: 0, uid: 0, argv: ['dumb-init', '--', 'node', 'server.js'], exe: null },
      { pid: 7, ppid: 1, uid: 1000, argv: ['node', 'server.js'], exe: process.execPath, environ: [] },
    ]);
    const tree = buildProcessTree([row(500, 480, 'dumb-init -- node server.js', 0), row(510, 500, 'node server.js')], 500)!;
    const { docker, id } = await started(execAgainst(root).exec);
    const runtime = await observeRuntime(docker, id, tree.app!, signal);
    expect(runtime).toMatchObject({ pid: 7, matchedBy: 'argv' });
    expect(runtime.nodeEnv).toEqual({ ok: true, value: null });
  });

  it('says NODE_ENV and the executable were not read when /proc refuses them (an app that dropped root itself is not dumpable)', async () => {
    const root = fakeProc([{ pid: 1, ppid: 0, uid: 1000, argv: ['node', 'app.js'], exe: null, environ: null }]);
    // The host's ps read the executable: the version is asked of that binary.
    const tree = buildProcessTree([{ pid: 500, ppid: 480, uid: 1000, gid: 1000, args: 'node app.js', exe: '/opt/node/bin/node' }], 500)!;
    const { exec, calls } = execAgainst(root, { '/opt/node/bin/node': 'v20.20.2' });
    const { docker, id } = await started(exec);
    const runtime = await observeRuntime(docker, id, tree.app!, signal);
    expect(runtime.nodeEnv).toMatchObject({ ok: false, why: expect.stringMatching(/^\/proc\/1\/environ could not be read as uid 1000:1000 \(EISDIR\)/) });
    expect(runtime.nodeVersion).toEqual({ ok: true, value: 'v20.20.2' });
    expect(calls[0].argv[0]).toBe('/opt/node/bin/node');
    expect(calls[0].user).toBe('1000:1000');
  });

  it('says the version was not observed when no executable could be read', async () => {
    const root = fakeProc([{ pid: 1, ppid: 0, uid: 1000, argv: ['node', 'app.js'], exe: null, environ: [] }]);
    const tree = buildProcessTree([row(500, 480, 'node app.js')], 500)!;
    const { docker, id } = await started(execAgainst(root).exec);
    const runtime = await observeRuntime(docker, id, tree.app!, signal);
    expect(runtime.nodeVersion).toMatchObject({ ok: false, why: expect.stringContaining('/proc/1/exe could not be read') });
    expect(runtime.exe.ok).toBe(false);
  });
});

describe('helperBinary', () => {
  it("execs the app's own executable when the host's ps read it, whatever the app calls itself", () => {
    const tree = buildProcessTree([{ pid: 500, ppid: 480, uid: 1000, gid: 1000, args: 'next-server (v14.2.35)', exe: '/usr/local/bin/node' }], 500)!;
    expect(helperBinary(tree.app!)).toBe('/usr/local/bin/node');
    expect(helperBinary(buildProcessTree([row(500, 480, '/usr/bin/node app.js')], 500)!.app!)).toBe('/usr/bin/node');
    expect(helperBinary(buildProcessTree([row(500, 480, 'node app.js')], 500)!.app!)).toBe('node');
  });
});
