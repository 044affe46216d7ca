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
