// zombie-reaping: orphans re-parented to PID 1 must be reaped. One exec'd `node -e` spawns three
// detached, short-lived children and exits at once; they are re-parented to PID 1 (the pid
// namespace's reaper). Once they have ended, /proc inside the container says whether PID 1 reaped
// them (gone) or left them as zombies (state Z, ppid 1).
import type { LiveContext, LiveProbe } from '../lifecycle/probe.js';
import { formatMs } from '../units.js';
import { sleep } from '../wait.js';
import { lineWriter, required, verdict, type Check } from './check.js';
import { execNode, isUnavailable, probeValue, type Unavailable } from './probes/shared.js';

const ORPHANS = 3;
const ORPHAN_LIFE_MS = 150;
const POLL_MS = 100;
// Generous: on a loaded host a node that lives 150 ms may take seconds to start and end.
const SETTLE_BOUND_MS = 20_000;
// An orphan that just ended is a zombie until PID 1 reaps it: a reaping init does so within
// milliseconds, but on a loaded host it may not have run yet when /proc is read. Only a zombie still
// there this long after it was first seen counts (a PID 1 that never reaps leaves it for good).
const ZOMBIE_GRACE_MS = 1_000;

// Spawns N detached grandchildren living ORPHAN_LIFE_MS each, prints their pids and start times (field
// 22 of /proc/<pid>/stat, so a recycled pid is not mistaken for one), and exits before they do: one exec
// makes all the orphans.
const SPAWN = String.raw`
const cp = require('child_process'), fs = require('fs');
const out = [];
for (let i = 0; i < Number(process.argv[2]); i++) {
  const child = cp.spawn(process.execPath, ['-e', 'setTimeout(() => {}, ' + Number(process.argv[1]) + ')'], { detached: true, stdio: 'ignore' });
  let start;
  try { const s = fs.readFileSync('/proc/' + child.pid + '/stat', 'utf8'); start = s.slice(s.lastIndexOf(')') + 2).split(' ')[19]; } catch {}
  out.push({ pid: child.pid, start });
}
process.stdout.write(JSON.stringify(out) + '\n');
process.exit(0);
`;

// Reads the orphans' state, every zombie in the container and PID 1's command line. Prints one JSON line.
const READ = String.raw`
const fs = require('fs');
const stat = (pid) => {
  try {
    const s = fs.readFileSync('/proc/' + pid + '/stat', 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { pid: Number(pid), comm: s.slice(s.indexOf('(') + 1, s.lastIndexOf(')')), state: rest[0], ppid: Number(rest[1]), start: rest[19] };
  } catch { return undefined; }
};
const orphans = JSON.parse(process.argv[1]).map((o) => {
  const s = stat(o.pid);
  if (!s || (o.start !== undefined && s.start !== o.start)) return { pid: o.pid, state: 'gone' };
  return { pid: o.pid, state: s.state, ppid: s.ppid, comm: s.comm };
});
const zombies = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(stat).filter((s) => s && s.state === 'Z').map(({ pid, ppid, comm }) => ({ pid, ppid, comm }));
let pid1 = '';
try { pid1 = fs.readFileSync('/proc/1/cmdline', 'utf8').split('\0').filter(Boolean).join(' '); } catch {}
process.stdout.write(JSON.stringify({ orphans, zombies, pid1 }) + '\n');
`;

export interface OrphanState {
  pid: number;
  /** "gone" (reaped), "Z" (zombie), or the running state letter (R, S, …). */
  state: string;
  ppid?: number;
  comm?: string;
}

export interface ZombieProbeValue {
  kind: 'observed';
  orphans: OrphanState[];
  /** Every zombie in the container when the orphans had ended. */
  zombies: Array<{ pid: number; ppid: number; comm: string }>;
  pid1: string;
  /** How long after spawning the orphans the state was read. */
  readAfterMs: number;
  /** How long the orphans seen as zombies had been zombies when last read (at least ZOMBIE_GRACE_MS, or the bound). */
  zombieForMs?: number;
}

const lastJson = <T>(stdout: string): T => JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as T;

async function provokeOrphans(context: LiveContext): Promise<ZombieProbeValue | Unavailable> {
  const spawned = await execNode(context, SPAWN, [String(ORPHAN_LIFE_MS), String(ORPHANS)]);
  if (isUnavailable(spawned)) return spawned;
  const orphans = lastJson<Array<{ pid: number; start?: string }>>(spawned.stdout);
  context.record('zombie-probe', `spawned orphans ${orphans.map((o) => o.pid).join(', ')} (pids in the container)`);
  const began = context.clock.now();
  await sleep(ORPHAN_LIFE_MS + POLL_MS, context.signal);
  // Poll until no orphan is still running (a loaded host may start them late) and every zombie has
  // outlived the grace PID 1 gets to reap it, bounded.
  const zombieSince = new Map<number, number>();
  for (;;) {
    const read = await execNode(context, READ, [JSON.stringify(orphans)]);
    if (isUnavailable(read)) return read;
    const seen = lastJson<Omit<ZombieProbeValue, 'kind' | 'readAfterMs'>>(read.stdout);
    const now = context.clock.now();
    const readAfterMs = Math.round(now - began + ORPHAN_LIFE_MS);
    const running = seen.orphans.filter((o) => o.state !== 'gone' && o.state !== 'Z');
    const zombies = seen.orphans.filter((o) => o.state === 'Z');
    for (const z of zombies) if (!zombieSince.has(z.pid)) zombieSince.set(z.pid, now);
    const zombieForMs = zombies.length ? Math.round(Math.min(...zombies.map((z) => now - zombieSince.get(z.pid)!))) : undefined;
    const settled = !running.length && (zombieForMs === undefined || zombieForMs >= ZOMBIE_GRACE_MS);
    if (settled || now - began >= SETTLE_BOUND_MS) return { kind: 'observed', ...seen, readAfterMs, zombieForMs };
    await sleep(POLL_MS, context.signal);
  }
}

export const zombieProbe: LiveProbe<ZombieProbeValue | Unavailable> = {
  timeoutMs: 30_000,
  // PID 1's reaping does not depend on the app being up: the probe overlaps the wait for it.
  duringStartup: true,
  whileUp: provokeOrphans,
};

/** The verdict from what /proc showed: pure, for unit tests. */
export function judgeZombies(value: ZombieProbeValue) {
  const evidence = { orphans: value.orphans, zombies: value.zombies, pid1: value.pid1, readAfterMs: value.readAfterMs, zombieForMs: value.zombieForMs };
  const zombies = value.orphans.filter((o) => o.state === 'Z');
  const running = value.orphans.filter((o) => o.state !== 'gone' && o.state !== 'Z');
  const hint = 'PID 1 must reap orphans: run the app under an init, `ENTRYPOINT ["dumb-init", "--"]` (or `tini --`), with `CMD ["node", "…"]`.';
  if (zombies.length && value.zombieForMs !== undefined && value.zombieForMs < ZOMBIE_GRACE_MS) {
    // The bound came before the grace ran out: whether PID 1 would have reaped them was not seen.
    return verdict('error', `${zombies.length} orphaned processes were zombies for only ${formatMs(value.zombieForMs)} when the ${formatMs(SETTLE_BOUND_MS)} bound passed: reaping could not be observed`, evidence);
  }
  if (zombies.length) {
    const list = zombies.map((z) => `${z.pid} (ppid ${z.ppid})`).join(', ');
    return verdict(
      'fail',
      `${zombies.length} of ${value.orphans.length} orphaned processes stayed zombies${value.zombieForMs !== undefined ? ` (still after ${formatMs(value.zombieForMs)})` : ''}: pids ${list} in the container, not reaped by PID 1 "${value.pid1}"`,
      evidence,
      hint,
    );
  }
  if (running.length) {
    return verdict('error', `${running.length} orphaned processes were still running ${value.readAfterMs} ms after they were meant to end: reaping could not be observed`, evidence);
  }
  // Only zombies left to PID 1 are PID 1's failure: a process exec'd into the container (ppid 0, its
  // parent is the runtime's shim outside) may be a zombie for a moment until the shim reaps it.
  const leftToPid1 = value.zombies.filter((z) => z.ppid === 1 && !value.orphans.some((o) => o.pid === z.pid));
  const others = leftToPid1.length ? `; ${leftToPid1.length} other zombies are left to PID 1 (${leftToPid1.map((z) => `${z.pid} ${z.comm}`).join('; ')})` : '';
  return verdict(others ? 'warn' : 'pass', `PID 1 "${value.pid1}" reaped all ${value.orphans.length} orphaned processes${others}`, evidence, others ? hint : undefined);
}

export const zombieReaping: Check = {
  id: 'zombie-reaping',
  title: 'PID 1 reaps orphaned processes',
  needs: ['image', 'lifecycle'],
  help: 'Run node under an init that reaps orphans (dumb-init or tini as ENTRYPOINT, CMD in exec form): node and npm never reap processes they did not start.',
  // On by default: about 1 s on a quiet host (one exec that makes the orphans, their 150 ms life, one read of /proc; docs/bench.md).
  probe: zombieProbe,
  run({ lifecycle }) {
    const got = probeValue<ZombieProbeValue>(required(lifecycle, 'lifecycle'), 'zombie-reaping');
    return 'verdict' in got ? got.verdict : judgeZombies(got.value);
  },
  lines(result) {
    const e = result.evidence as Partial<ZombieProbeValue>;
    const { lines, add } = lineWriter();
    add('PID 1', e.pid1);
    add('orphans', e.orphans?.map((o) => `${o.pid}: ${o.state === 'gone' ? 'reaped' : o.state === 'Z' ? `zombie, ppid ${o.ppid}` : `state ${o.state}`}`).join(', '));
    add('zombies in the container', e.zombies?.map((z) => `${z.pid} ${z.comm} (ppid ${z.ppid})`).join(', '));
    return lines;
  },
  locate: (stage) => stage.last('ENTRYPOINT') ?? stage.last('CMD'),
};
