// The app process seen from inside its container: its pid there, cwd, argv, executable, Node version and
// NODE_ENV. One exec of the app's own node binary (no shell needed) reads /proc once for every check
// that needs it (engines-node, node-env, where the app lives, probes that signal it).
import type { DockerPort } from '../docker/port.js';
import type { ProcessNode } from './process-tree.js';

export interface AppRuntime {
  /** The app's pid inside the container's pid namespace. */
  pid: number;
  ppid: number;
  cwd: string;
  argv: string[];
  /** The app's executable, e.g. /usr/local/bin/node. */
  exe: string;
  /** process.version of that executable, e.g. "v20.20.2". */
  nodeVersion?: string;
  /** NODE_ENV as the app sees it; null when unset. Other variables are never read. */
  nodeEnv: string | null;
  /** What ran the exec'd helper (it must be the same binary as the app's for nodeVersion to be the app's). */
  helper: { argv0: string; execPath: string };
}

// Runs inside the container under the app's own uid (so /proc/<pid>/environ is readable). Prints one JSON line.
const SCRIPT = String.raw`
const fs = require('fs');
const want = process.argv[1];
const self = String(process.pid);
const found = [];
for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d) && d !== self)) {
  let cmdline;
  try { cmdline = fs.readFileSync('/proc/' + pid + '/cmdline', 'utf8'); } catch { continue; }
  const argv = cmdline.split('\0').filter((a, i, all) => i < all.length - 1 || a !== '');
  if (argv.join(' ') !== want) continue;
  const read = (f) => { try { return fs.readFileSync('/proc/' + pid + '/' + f, 'utf8'); } catch { return undefined; } };
  const link = (f) => { try { return fs.readlinkSync('/proc/' + pid + '/' + f); } catch { return undefined; } };
  const stat = read('stat') || '';
  const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  const environ = read('environ');
  const nodeEnv = environ === undefined ? undefined : (environ.split('\0').find((e) => e.startsWith('NODE_ENV=')) || '').slice(9) || null;
  found.push({ pid: Number(pid), ppid, cwd: link('cwd'), exe: link('exe'), argv, nodeEnv });
}
found.sort((a, b) => b.pid - a.pid);
process.stdout.write(JSON.stringify({ found, execPath: process.execPath, version: process.version }) + '\n');
`;

/** The binary to exec: the app's own node when its command names a path, else `node` on the image's PATH. */
export function helperBinary(app: ProcessNode): string {
  const first = app.args.trim().split(/\s+/)[0] ?? 'node';
  return first.startsWith('/') ? first : 'node';
}

export async function observeRuntime(
  docker: DockerPort,
  containerId: string,
  app: ProcessNode,
  signal: AbortSignal,
): Promise<AppRuntime> {
  const argv0 = helperBinary(app);
  const user = `${app.uid}:${app.gid}`;
  const run = await docker.exec(containerId, { argv: [argv0, '-e', SCRIPT, app.args.trim()], user, signal, timeoutMs: 15_000 });
  if (run.exitCode !== 0) {
    throw new Error(`${argv0} could not run in the container (exit ${run.exitCode}): ${(run.stderr || run.stdout).trim().split('\n')[0] ?? ''}`);
  }
  const out = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as {
    found: Array<{ pid: number; ppid: number; cwd?: string; exe?: string; argv: string[]; nodeEnv?: string | null }>;
    execPath: string;
    version: string;
  };
  const me = out.found[0];
  if (!me) throw new Error(`no process "${app.args.trim().slice(0, 80)}" found in the container's /proc`);
  let nodeVersion: string | undefined;
  if (me.exe && me.exe === out.execPath) nodeVersion = out.version;
  else if (me.exe) {
    const version = await docker.exec(containerId, { argv: [me.exe, '-p', 'process.version'], user, signal, timeoutMs: 15_000 });
    if (version.exitCode === 0 && /^v\d+\.\d+\.\d+/.test(version.stdout.trim())) nodeVersion = version.stdout.trim();
  }
  return {
    pid: me.pid,
    ppid: me.ppid,
    cwd: me.cwd ?? '',
    argv: me.argv,
    exe: me.exe ?? '',
    nodeVersion,
    nodeEnv: me.nodeEnv ?? null,
    helper: { argv0, execPath: out.execPath },
  };
}
