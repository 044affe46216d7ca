// The app process seen from inside its container: its pid there, cwd, argv, executable, Node version and
// NODE_ENV. One exec of the app's own node binary (no shell needed) reads /proc once for every check
// that needs it (engines-node, node-env, where the app lives, probes that signal it).
import type { DockerPort } from '../docker/port.js';
import { observed, unobserved, type Observed } from '../observed.js';
import type { ProcessNode } from './process-tree.js';

export interface AppRuntime {
  /** The app's pid inside the container's pid namespace. */
  pid: number;
  ppid: number;
  /** The app's working directory; '' when /proc refused it. */
  cwd: string;
  argv: string[];
  /** The app's executable, e.g. /usr/local/bin/node (the host's ps reading when /proc refused the helper). */
  exe: Observed<string>;
  /** process.version of that executable, e.g. "v20.20.2". */
  nodeVersion: Observed<string>;
  /** NODE_ENV as the app sees it; null when unset. Other variables are never read. */
  nodeEnv: Observed<string | null>;
  /** What ran the exec'd helper (it must be the same binary as the app's for nodeVersion to be the app's). */
  helper: { argv0: string; execPath: string };
  /**
   * How the app was found in the container's /proc: by the command line the process table showed, or
   * (when the app retitled itself since, as Next.js does) by its place below PID 1, its uid and its
   * node executable, or by its place alone when that is the only process there.
   */
  matchedBy: 'argv' | 'executable' | 'place';
}

/**
 * Which process of the container's /proc is the app the host's table showed. Pure, and embedded in the
 * helper script as source (it runs in the container): the table's pids are the host's, so the app is
 * found by its command line and its place (depth below PID 1 and uid), which a retitle does not change.
 */
export const PICK_APP = String.raw`
function pickApp(procs, want) {
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const depthOf = (p) => {
    let depth = 0;
    for (let at = p; at.pid !== 1; depth++) {
      at = byPid.get(at.ppid);
      if (!at || depth > procs.length) return -1;
    }
    return depth;
  };
  const isNode = (p) => typeof p.exe === 'string' && /^(node|nodejs)$/.test(p.exe.replace(/ \(deleted\)$/, '').split('/').pop());
  const sameArgs = (p) => p.argv.join(' ') === want.args;
  // Lowest pid first: the app started before the short-lived processes a probe may leave at its depth.
  const lowest = (list) => list.sort((a, b) => a.pid - b.pid)[0];
  const placed = procs.filter((p) => depthOf(p) === want.depth && (want.uid === undefined || p.uid === want.uid));
  const exact = placed.filter(sameArgs);
  if (exact.length) return Object.assign(lowest(exact), { matchedBy: 'argv' });
  const node = placed.filter(isNode);
  if (node.length) return Object.assign(lowest(node), { matchedBy: 'executable' });
  if (placed.length === 1 && typeof placed[0].exe !== 'string') return Object.assign(placed[0], { matchedBy: 'place' });
  const anywhere = procs.filter(sameArgs).sort((a, b) => b.pid - a.pid)[0];
  return anywhere && Object.assign(anywhere, { matchedBy: 'argv' });
}
`;

// Runs inside the container under the app's own uid (so /proc/<pid>/environ is readable when the app is
// dumpable). Prints one JSON line; what could not be read is reported with its error code, never guessed.
const SCRIPT = String.raw`
const fs = require('fs');
const want = JSON.parse(process.argv[1]);
const root = want.proc || '/proc';
const self = String(process.pid);
const code = (err) => (err && err.code) || String(err);
const procs = [];
for (const pid of fs.readdirSync(root).filter((d) => /^\d+$/.test(d) && d !== self)) {
  const dir = root + '/' + pid + '/';
  let stat;
  try { stat = fs.readFileSync(dir + 'stat', 'utf8'); } catch { continue; }
  const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  let uid;
  try { const m = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(dir + 'status', 'utf8')); if (m) uid = Number(m[1]); } catch {}
  let argv = [];
  try { argv = fs.readFileSync(dir + 'cmdline', 'utf8').split('\0'); if (argv[argv.length - 1] === '') argv.pop(); } catch {}
  const p = { pid: Number(pid), ppid, uid, argv };
  try { p.exe = fs.readlinkSync(dir + 'exe'); } catch (err) { p.exeError = code(err); }
  procs.push(p);
}
` + PICK_APP + String.raw`
const me = pickApp(procs, want);
if (me) {
  const dir = root + '/' + me.pid + '/';
  try { me.cwd = fs.readlinkSync(dir + 'cwd'); } catch (err) { me.cwdError = code(err); }
  try {
    const entry = fs.readFileSync(dir + 'environ', 'utf8').split('\0').find((e) => e.startsWith('NODE_ENV='));
    me.nodeEnv = entry === undefined || entry === 'NODE_ENV=' ? null : entry.slice(9);
  } catch (err) { me.environError = code(err); }
}
process.stdout.write(JSON.stringify({ found: me, execPath: process.execPath, version: process.version }) + '\n');
`;

/** Why /proc refuses a process's files to another process of the same uid. */
const NOT_DUMPABLE =
  ': the app is not dumpable (it changed its own uid or gid, e.g. process.setuid() after starting as root, or runs a setuid binary), and reading it then needs CAP_SYS_PTRACE, which the container does not have';
const refusal = (file: string, pid: number, user: string, errorCode: string) =>
  `/proc/${pid}/${file} could not be read as uid ${user} (${errorCode})${errorCode === 'EACCES' || errorCode === 'EPERM' ? NOT_DUMPABLE : ''}`;

/**
 * The binary to exec: the app's own executable when the host's ps read it (a path in the container),
 * else its command's path, else `node` on the image's PATH.
 */
export function helperBinary(app: ProcessNode): string {
  const exe = app.exe?.ok ? app.exe.value : undefined;
  if (exe && exe.startsWith('/') && !exe.endsWith(' (deleted)') && /^node(js)?$/.test(exe.split('/').pop() ?? '')) return exe;
  const first = app.args.trim().split(/\s+/)[0] ?? 'node';
  return first.startsWith('/') ? first : 'node';
}

interface Found {
  pid: number;
  ppid: number;
  argv: string[];
  exe?: string;
  exeError?: string;
  cwd?: string;
  nodeEnv?: string | null;
  environError?: string;
  matchedBy: AppRuntime['matchedBy'];
}

export async function observeRuntime(
  docker: DockerPort,
  containerId: string,
  app: ProcessNode,
  signal: AbortSignal,
): Promise<AppRuntime> {
  const argv0 = helperBinary(app);
  const user = `${app.uid}:${app.gid}`;
  const want = { args: app.args.trim(), depth: app.depth, uid: app.uid };
  const run = await docker.exec(containerId, { argv: [argv0, '-e', SCRIPT, JSON.stringify(want)], user, signal, timeoutMs: 15_000 });
  if (run.exitCode !== 0) {
    throw new Error(`${argv0} could not run in the container (exit ${run.exitCode}): ${(run.stderr || run.stdout).trim().split('\n')[0] ?? ''}`);
  }
  const out = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as { found?: Found; execPath: string; version: string };
  const me = out.found;
  if (!me) {
    throw new Error(`no process "${app.args.trim().slice(0, 80)}" found in the container's /proc (nor a node process ${app.depth ?? '?'} levels below PID 1 running as uid ${app.uid})`);
  }
  // The container's /proc first; the host's ps reading when the app refused the helper (not dumpable).
  const exe: Observed<string> = me.exe
    ? observed(me.exe)
    : app.exe?.ok
      ? observed(app.exe.value)
      : unobserved(`${refusal('exe', me.pid, user, me.exeError ?? 'unknown')}${app.exe && !app.exe.ok ? `, and ${app.exe.why}` : ''}`);
  return {
    pid: me.pid,
    ppid: me.ppid,
    cwd: me.cwd ?? '',
    argv: me.argv,
    exe,
    nodeVersion: await versionOf(docker, containerId, exe, out, user, signal),
    nodeEnv: me.environError !== undefined ? unobserved(refusal('environ', me.pid, user, me.environError)) : observed(me.nodeEnv ?? null),
    helper: { argv0, execPath: out.execPath },
    matchedBy: me.matchedBy,
  };
}

async function versionOf(
  docker: DockerPort,
  containerId: string,
  exe: Observed<string>,
  helper: { execPath: string; version: string },
  user: string,
  signal: AbortSignal,
): Promise<Observed<string>> {
  if (!exe.ok) return unobserved(`the app's executable is not known: ${exe.why}`);
  if (exe.value.endsWith(' (deleted)')) return unobserved(`the app's executable was replaced on disk after it started (${exe.value}): its version cannot be asked`);
  if (exe.value === helper.execPath) return observed(helper.version);
  const asked = await docker.exec(containerId, { argv: [exe.value, '-p', 'process.version'], user, signal, timeoutMs: 15_000 });
  const answer = asked.stdout.trim();
  if (asked.exitCode === 0 && /^v\d+\.\d+\.\d+/.test(answer)) return observed(answer);
  return unobserved(`${exe.value} -p process.version answered no version (exit ${asked.exitCode}: ${(asked.stderr || asked.stdout).trim().split('\n')[0]?.slice(0, 200) ?? ''})`);
}
