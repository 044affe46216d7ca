import { describe, expect, it } from 'vitest';
import { buildProcessTree } from '../../src/lifecycle/process-tree.js';

const row = (pid: number, ppid: number, uid: number, args: string) => ({ pid, ppid, uid, gid: uid, args });

describe('buildProcessTree', () => {
  it('follows dumb-init → sh → node and finds the app', () => {
    const tree = buildProcessTree(
      [row(500, 480, 1000, 'dumb-init -- /bin/sh -c node server.js'), row(510, 500, 1000, '/bin/sh -c node server.js'), row(520, 510, 1000, 'node server.js')],
      500,
    )!;
    expect(tree.pid1.program).toBe('dumb-init');
    expect(tree.chainToApp.map((p) => p.program)).toEqual(['dumb-init', 'sh', 'node']);
    expect(tree.app?.args).toBe('node server.js');
  });
  it('finds node as PID 1 itself', () => {
    const tree = buildProcessTree([row(700, 1, 0, 'node index.js')], 700)!;
    expect(tree.chainToApp).toHaveLength(1);
    expect(tree.app?.hostPid).toBe(700);
  });
  it('follows npm start to its node child', () => {
    const tree = buildProcessTree([row(10, 1, 1000, 'npm start'), row(20, 10, 1000, 'sh -c node app.js'), row(30, 20, 1000, 'node app.js')], 10)!;
    expect(tree.pid1.program).toBe('npm');
    expect(tree.app?.hostPid).toBe(30);
  });
  it('has no app when no node process runs', () => {
    const tree = buildProcessTree([row(10, 1, 0, '/usr/bin/dumb-init -- sleep 100'), row(11, 10, 0, 'sleep 100')], 10)!;
    expect(tree.pid1.program).toBe('dumb-init');
    expect(tree.app).toBeUndefined();
  });
});

// A process is node by its executable (the host's ps reads /proc/<pid>/exe), not by its title: Next.js
// sets `process.title = 'next-server (v14.2.35)'` once it listens, and ps then shows that as its args.
describe('buildProcessTree with executables', () => {
  const exeRow = (pid: number, ppid: number, uid: number, args: string, exe: string | null) => ({ pid, ppid, uid, gid: uid, args, exe });
  it('finds a node that retitled itself by its executable', () => {
    const tree = buildProcessTree([exeRow(500, 480, 1000, 'dumb-init -- node server.js', '/usr/bin/dumb-init'), exeRow(510, 500, 1000, 'next-server (v14.2.35)', '/usr/local/bin/node')], 500)!;
    expect(tree.app?.hostPid).toBe(510);
    expect(tree.chainToApp.map((p) => p.program)).toEqual(['dumb-init', 'node']);
    expect(tree.app?.exe).toEqual({ ok: true, value: '/usr/local/bin/node' });
    expect(tree.unidentified).toEqual([]);
  });
  it('still names npm as npm when npm retitled itself (its executable is node)', () => {
    const tree = buildProcessTree(
      [exeRow(10, 1, 1000, 'dumb-init -- npm start', '/usr/bin/dumb-init'), exeRow(20, 10, 1000, 'npm start', '/usr/local/bin/node'), exeRow(30, 20, 1000, 'next-server (v1', '/usr/local/bin/node')],
      10,
    )!;
    expect(tree.chainToApp.map((p) => p.program)).toEqual(['dumb-init', 'npm', 'node']);
    expect(tree.app?.hostPid).toBe(30);
  });
  it('does not take a program that only calls itself node for node', () => {
    const tree = buildProcessTree([exeRow(10, 1, 1000, 'dumb-init -- node app.js', '/usr/bin/dumb-init'), exeRow(20, 10, 1000, 'node app.js', '/usr/local/bin/bun')], 10)!;
    expect(tree.app).toBeUndefined();
    expect(tree.all[1].program).toBe('bun');
  });
  it('says which processes it could not identify when their executables were not read', () => {
    const tree = buildProcessTree([exeRow(10, 1, 0, 'dumb-init -- node app.js', '/usr/bin/dumb-init'), exeRow(20, 10, 1000, 'next-server (v1', null)], 10)!;
    expect(tree.app).toBeUndefined();
    expect(tree.unidentified.map((p) => p.hostPid)).toEqual([20]);
    expect(tree.all[1].exe).toMatchObject({ ok: false });
  });
  it('identifies by command line, and says so, when the engine lists no executables', () => {
    const tree = buildProcessTree([row(10, 1, 0, 'dumb-init -- next-server'), row(20, 10, 1000, 'next-server (v1')], 10)!;
    expect(tree.app).toBeUndefined();
    expect(tree.unidentified.map((p) => p.hostPid)).toEqual([10, 20]);
  });
  it('gives each process its depth below PID 1 (none for a process exec\'d into the container)', () => {
    const tree = buildProcessTree([row(10, 1, 0, 'dumb-init -- node app.js'), row(20, 10, 1000, 'node app.js'), row(30, 5, 0, 'node -e 1')], 10)!;
    expect(tree.all.map((p) => p.depth)).toEqual([0, 1, undefined]);
  });
});
