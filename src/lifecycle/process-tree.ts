// The container's process table as a tree rooted at its PID 1, and the chain from PID 1 to the app.
import type { ProcessRow } from '../docker/port.js';
import { basename } from '../facts/command.js';
import { observed, unobserved, type Observed } from '../observed.js';

export interface ProcessNode {
  /** Host pid: `ps` runs on the host. */
  hostPid: number;
  uid: number;
  gid: number;
  args: string;
  /**
   * The executable (/proc/<pid>/exe, read by the host's ps): what the process is, whatever it calls
   * itself. Not observed when the engine's listing has no executables or ps could not read the link.
   */
  exe: Observed<string>;
  /**
   * Program name without path, e.g. "dumb-init", "node", "sh"; package-manager CLIs by their name
   * ("npm"). A process whose executable is node is "node" even when it retitled itself (process.title).
   */
  program: string;
  /** Levels below PID 1 (0 for PID 1 itself); undefined for a process exec'd into the container. */
  depth?: number;
}

export interface ProcessTree {
  pid1: ProcessNode;
  /** PID 1 first, then each child down to the app; only PID 1 when no app process was found. */
  chainToApp: ProcessNode[];
  app?: ProcessNode;
  all: ProcessNode[];
  /**
   * Processes below PID 1 (PID 1 included) whose executable was not read and whose command line does
   * not say node: any of them may be a node that retitled itself, so "no node process" is not observed
   * while this is not empty.
   */
  unidentified: ProcessNode[];
}

const PACKAGE_MANAGERS = ['npm', 'npx', 'yarn', 'yarnpkg', 'pnpm', 'pnpx', 'corepack'];
const NODE_PROGRAMS = ['node', 'nodejs'];

/**
 * What a process is by its command line. npm rewrites its title to "npm start", but before it does (and
 * for yarn and pnpm, which do not) it shows as "node /usr/local/bin/npm start": that is npm, not the app.
 */
export function programOf(args: string): string {
  const words = args.trim().split(/\s+/);
  const strip = (word: string) => basename(word).replace(/(-cli)?\.(c|m)?js$/, '');
  const first = basename(words[0] ?? '');
  if ((first === 'node' || first === 'nodejs') && words[1] && PACKAGE_MANAGERS.includes(strip(words[1]))) return strip(words[1]);
  if (PACKAGE_MANAGERS.includes(strip(first))) return strip(first);
  return first;
}

/** The executable's file name: "/usr/local/bin/node (deleted)" is node too (its binary was replaced on disk). */
const exeName = (exe: string) => basename(exe.replace(/ \(deleted\)$/, ''));

/**
 * What a process is: its executable decides whether it is node (a title says nothing), its command line
 * which package manager a node is running (npm's executable is node as well).
 */
export function programOfProcess(args: string, exe: Observed<string>): string {
  const byArgs = programOf(args);
  if (!exe.ok) return byArgs;
  const name = exeName(exe.value);
  if (NODE_PROGRAMS.includes(name)) return PACKAGE_MANAGERS.includes(byArgs) ? byArgs : name;
  // Not node, whatever its command line says (e.g. bun installed as `node`).
  return NODE_PROGRAMS.includes(byArgs) ? name : byArgs;
}

function exeOf(row: ProcessRow): Observed<string> {
  if (typeof row.exe === 'string' && row.exe && row.exe !== '-') return observed(row.exe);
  if (row.exe === undefined) return unobserved("the engine's process listing gives no executables (Podman, or a ps without the `exe` column)");
  return unobserved(`ps could not read /proc/${row.pid}/exe`);
}

export const isPackageManager = (node: ProcessNode) => PACKAGE_MANAGERS.includes(node.program);
const isNode = (node: ProcessNode) => NODE_PROGRAMS.includes(node.program);
const isZombie = (node: ProcessNode) => /<defunct>\s*$/.test(node.args);

export function buildProcessTree(rows: ProcessRow[], pid1HostPid: number): ProcessTree | undefined {
  const nodes: ProcessNode[] = rows.map((row) => {
    const exe = exeOf(row);
    return { hostPid: row.pid, uid: row.uid, gid: row.gid, args: row.args, exe, program: programOfProcess(row.args, exe) };
  });
  const parentOf = new Map(rows.map((row) => [row.pid, row.ppid]));
  const pid1 = nodes.find((n) => n.hostPid === pid1HostPid) ?? nodes.find((n) => !parentOf.has(parentOf.get(n.hostPid) ?? -1));
  if (!pid1) return undefined;

  const childrenOf = (pid: number) => nodes.filter((n) => parentOf.get(n.hostPid) === pid && n.hostPid !== pid);
  // The app is the deepest node process below PID 1 (PID 1 itself when node is PID 1 with no node
  // child): `npm start` → `sh -c node server.js` → `node server.js` makes the last one the app.
  let best: ProcessNode[] | undefined;
  const below: ProcessNode[] = [];
  const walk = (chain: ProcessNode[]) => {
    const last = chain[chain.length - 1];
    last.depth = chain.length - 1;
    below.push(last);
    if (isNode(last) && (!best || chain.length > best.length)) best = chain;
    for (const child of childrenOf(last.hostPid)) if (!chain.includes(child)) walk([...chain, child]);
  };
  walk([pid1]);
  const unidentified = below.filter((n) => !n.exe.ok && !isNode(n) && !isPackageManager(n) && !isZombie(n));
  if (best) return { pid1, chainToApp: best, app: best[best.length - 1], all: nodes, unidentified };
  return { pid1, chainToApp: [pid1], all: nodes, unidentified };
}
