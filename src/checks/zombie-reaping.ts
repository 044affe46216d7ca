// zombie-reaping: orphans re-parented to PID 1 must be reaped. One exec'd `node -e` (the watcher) runs
// a short-lived intermediate node that spawns three detached children which end at once, and exits in
// the same tick, so they are re-parented to PID 1 (the pid namespace's reaper), not to the watcher. The
// watcher then reads /proc inside the container every POLL_MS until the orphans have ended and any
// zombie among them has outlived the grace: PID 1 reaped them (gone) or left them as zombies (state Z,
// ppid 1). It prints one JSON line; the host waits for nothing but that exec.
import type { LiveContext, LiveProbe } from '../lifecycle/probe.js';
import { formatMs } from '../units.js';
import { lineWriter, required, verdict, type Check } from './check.js';
import { execNode, isUnavailable, probeValue, type Unavailable } from './probes/shared.js';

const ORPHANS = 3;
const POLL_MS = 100;
// Generous: on a loaded host even `node --version` may take seconds to start and end.
const SETTLE_BOUND_MS = 20_000;
// An orphan that just ended is a zombie until PID 1 reaps it: a reaping init does so within
// milliseconds, but on a loaded host it may not have run yet when /proc is read. Only a zombie still
// there this long after it was first seen counts (a PID 1 that never reaps leaves it for good).
const ZOMBIE_GRACE_MS = 1_000;
// The exec's own bound: the watcher's SETTLE_BOUND_MS (counted inside the container, from the spawn)
// plus its node's start and the intermediate's, under the probe's timeoutMs.
const EXEC_TIMEOUT_MS = 25_000;

/** What the watcher is told (its one argument, as JSON). */
export interface WatchOptions {
  orphans: number;
  pollMs: number;
  graceMs: number;
  boundMs: number;
}

const WATCH_OPTIONS: WatchOptions = { orphans: ORPHANS, pollMs: POLL_MS, graceMs: ZOMBIE_GRACE_MS, boundMs: SETTLE_BOUND_MS };

// The intermediate: spawns N detached children that end at once (`node --version`: ~10 ms, no script to
// run, where a node that sleeps costs ~0.1 s of CPU to start), prints their pids and start times (field 22
// of /proc/<pid>/stat, so a recycled pid is not mistaken for one), and exits in the same tick. Its event
// loop never turns, so it never reaps them: each is re-parented to PID 1, still running or already a
// zombie (the kernel then signals PID 1 with SIGCHLD), and only PID 1 can reap it.
const SPAWN = String.raw`
const cp = require('child_process'), fs = require('fs');
const out = [];
for (let i = 0; i < Number(process.argv[1]); i++) {
  const child = cp.spawn(process.execPath, ['--version'], { detached: true, stdio: 'ignore' });
  let start;
  try { const s = fs.readFileSync('/proc/' + child.pid + '/stat', 'utf8'); start = s.slice(s.lastIndexOf(')') + 2).split(' ')[19]; } catch {}
  out.push({ pid: child.pid, start });
}
process.stdout.write(JSON.stringify(out) + '\n');
process.exit(0);
`;

/**
 * The watcher's loop, on injected I/O so the unit tests run this very code against a fake /proc and
 * clock (the script must run on old nodes too: no `??`, no `?.`, no top-level await).
 * io: spawn(options) → [{ pid, start }], stat(pid) → { pid, comm, state, ppid, start } or undefined,
 * pids() → the pids in /proc, pid1() → PID 1's command line, now() → monotonic ms, sleep(ms) → Promise.
 * It waits POLL_MS, then reads every POLL_MS until no orphan is still running (a loaded
 * host may start them late) and every zombie among them has been one for the grace, bounded by boundMs
 * from the spawn; the last read also lists every zombie in the container and PID 1's command line.
 */
export const WATCH_LOOP = String.raw`
async function watch(io, options) {
  var spawned = io.spawn(options);
  var began = io.now();
  await io.sleep(options.pollMs);
  var zombieSince = {};
  for (;;) {
    var orphans = spawned.map(function (o) {
      var s = io.stat(o.pid);
      if (!s || (o.start !== undefined && s.start !== o.start)) return { pid: o.pid, state: 'gone' };
      return { pid: o.pid, state: s.state, ppid: s.ppid, comm: s.comm };
    });
    var now = io.now();
    var running = orphans.filter(function (o) { return o.state !== 'gone' && o.state !== 'Z'; });
    var zombies = orphans.filter(function (o) { return o.state === 'Z'; });
    zombies.forEach(function (z) { if (!(z.pid in zombieSince)) zombieSince[z.pid] = now; });
    var zombieForMs = zombies.length ? Math.round(Math.min.apply(null, zombies.map(function (z) { return now - zombieSince[z.pid]; }))) : undefined;
    var settled = !running.length && (zombieForMs === undefined || zombieForMs >= options.graceMs);
    if (settled || now - began >= options.boundMs) {
      var all = io.pids().map(function (pid) { return io.stat(pid); }).filter(function (s) { return s && s.state === 'Z'; });
      return {
        spawned: spawned.map(function (o) { return o.pid; }),
        orphans: orphans,
        zombies: all.map(function (s) { return { pid: s.pid, ppid: s.ppid, comm: s.comm }; }),
        pid1: io.pid1(),
        readAfterMs: Math.round(now - began),
        zombieForMs: zombieForMs,
      };
    }
    await io.sleep(options.pollMs);
  }
}
`;

// The watcher: watch() on the container's /proc. The orphans' parent is the intermediate node (run with
// spawnSync, so it has exited and been waited for when spawn() returns): the watcher is never their parent.
export const WATCH =
  WATCH_LOOP +
  String.raw`
var cp = require('child_process'), fs = require('fs');
var SPAWN = ` +
  JSON.stringify(SPAWN) +
  String.raw`;
function stat(pid) {
  try {
    var s = fs.readFileSync('/proc/' + pid + '/stat', 'utf8');
    var rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { pid: Number(pid), comm: s.slice(s.indexOf('(') + 1, s.lastIndexOf(')')), state: rest[0], ppid: Number(rest[1]), start: rest[19] };
  } catch (e) { return undefined; }
}
var io = {
  spawn: function (options) {
    var r = cp.spawnSync(process.execPath, ['-e', SPAWN, String(options.orphans)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: options.boundMs });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error('the node spawning the orphans exited ' + r.status + ': ' + String(r.stderr).trim().split('\n')[0]);
    return JSON.parse(r.stdout.trim().split('\n').pop());
  },
  stat: stat,
  pids: function () { return fs.readdirSync('/proc').filter(function (d) { return /^\d+$/.test(d); }); },
  pid1: function () {
    try { return fs.readFileSync('/proc/1/cmdline', 'utf8').split('\0').filter(Boolean).join(' '); } catch (e) { return ''; }
  },
  now: function () { var t = process.hrtime(); return t[0] * 1e3 + t[1] / 1e6; },
  sleep: function (ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); },
};
watch(io, JSON.parse(process.argv[1])).then(
  function (out) { process.stdout.write(JSON.stringify(out) + '\n'); },
  function (e) { process.stderr.write(String((e && e.stack) || e) + '\n'); process.exit(1); }
);
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

/** The watcher's one JSON line: what the probe's value is made of, and the pids it spawned. */
export type WatchOutput = Omit<ZombieProbeValue, 'kind'> & { spawned: number[] };

const lastJson = <T>(stdout: string): T => JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as T;

async function provokeOrphans(context: LiveContext): Promise<ZombieProbeValue | Unavailable> {
  const run = await execNode(context, WATCH, [JSON.stringify(WATCH_OPTIONS)], { timeoutMs: EXEC_TIMEOUT_MS });
  if (isUnavailable(run)) return run;
  const seen = lastJson<WatchOutput>(run.stdout);
  context.record('zombie-probe', `spawned orphans ${seen.spawned.join(', ')} (pids in the container)`);
  return {
    kind: 'observed',
    orphans: seen.orphans,
    zombies: seen.zombies,
    pid1: seen.pid1,
    readAfterMs: seen.readAfterMs,
    ...(seen.zombieForMs !== undefined ? { zombieForMs: seen.zombieForMs } : {}),
  };
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
  // On by default: one exec of about 0.3–0.5 s on a quiet host (its node's start, the intermediate's, /proc
  // read every 100 ms until the orphans are gone; a zombie keeps it 1 s longer, the grace), overlapping
  // the wait for "up" (docs/bench.md).
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
