// When the process table counts as stable: only PID 1 and what descends from it, since the audit's own
// exec'd processes (and the HEALTHCHECK's) come and go beside the app without the app changing.
import { describe, expect, it } from 'vitest';
import type { ProcessRow } from '../../src/docker/port.js';
import { sameTable, type ProcessSample } from '../../src/lifecycle/process-table.js';

const row = (pid: number, ppid: number, args: string): ProcessRow => ({ pid, ppid, uid: 1000, gid: 1000, args }) as ProcessRow;
const sample = (rows: ProcessRow[], atMs = 0): ProcessSample => ({ rows, pid1: 100, atMs });
const app = [row(100, 90, 'dumb-init -- node server.js'), row(101, 100, 'node server.js')];

describe('sameTable', () => {
  it('ignores exec\'d processes, which hang off the shim and not PID 1', () => {
    const withExec = [...app, row(200, 90, 'node -e <runtime read>'), row(201, 200, 'sleep 1')];
    expect(sameTable(sample(app), sample(withExec, 150))).toBe(true);
  });
  it('sees a change below PID 1 (npm spawning the server, a worker appearing)', () => {
    expect(sameTable(sample(app), sample([...app, row(102, 101, 'node worker.js')], 150))).toBe(false);
    expect(sameTable(sample(app), sample([app[0], row(101, 100, 'node /usr/local/bin/npm start')], 150))).toBe(false);
  });
  it('compares every row when PID 1 is not in the listing', () => {
    const other = [row(5, 1, 'node a.js')];
    expect(sameTable(sample(other), sample([...other, row(6, 1, 'node b.js')], 150))).toBe(false);
  });
  it('is never the same across a different PID 1', () => {
    expect(sameTable(sample(app), { ...sample(app, 150), pid1: 101 })).toBe(false);
  });
});
