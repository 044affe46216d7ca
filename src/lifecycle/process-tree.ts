// The container's process table as a tree rooted at its PID 1, and the chain from PID 1 to the app.
import type { ProcessRow } from '../docker/port.js';
import { basename } from '../facts/command.js';

export interface ProcessNode {
  /** Host pid: `ps` runs on the host. */
  hostPid: number;
  uid: number;
  gid: number;
  args: string;
  /** Program name without path, e.g. "dumb-init", "node", "sh"; package-manager CLIs by their name ("npm"). */
  program: string;
}

export interface ProcessTree {
  pid1: ProcessNode;
  /** PID 1 first, then each child down to the app; only PID 1 when no app process was found. */
  chainToApp: ProcessNode[];
  app?: ProcessNode;
  all: ProcessNode[];
}

const PACKAGE_MANAGERS = ['npm', 'npx', 'yarn', 'yarnpkg', 'pnpm', 'pnpx', 'corepack'];

/**
 * What a process is. npm rewrites its title to "npm start", but before it does (and for yarn and pnpm,
 * which do not) it shows as "node /usr/local/bin/npm start": that is npm, not the app.
 */
export function programOf(args: string): string {
  const words = args.trim().split(/\s+/);
  const strip = (word: string) => basename(word).replace(/(-cli)?\.(c|m)?js$/, '');
  const first = basename(words[0] ?? '');
  if ((first === 'node' || first === 'nodejs') && words[1] && PACKAGE_MANAGERS.includes(strip(words[1]))) return strip(words[1]);
  if (PACKAGE_MANAGERS.includes(strip(first))) return strip(first);
  return first;
}

export const isPackageManager = (node: ProcessNode) => PACKAGE_MANAGERS.includes(node.program);
const isNode = (node: ProcessNode) => node.program === 'node' || node.program === 'nodejs';

export function buildProcessTree(rows: ProcessRow[], pid1HostPid: number): ProcessTree | undefined {
  const nodes = rows.map((row) => ({ hostPid: row.pid, uid: row.uid, gid: row.gid, args: row.args, program: programOf(row.args) }));
  const parentOf = new Map(rows.map((row) => [row.pid, row.ppid]));
  const pid1 = nodes.find((n) => n.hostPid === pid1HostPid) ?? nodes.find((n) => !parentOf.has(parentOf.get(n.hostPid) ?? -1));
  if (!pid1) return undefined;

  const childrenOf = (pid: number) => nodes.filter((n) => parentOf.get(n.hostPid) === pid && n.hostPid !== pid);
  // The app is the deepest node process below PID 1 (PID 1 itself when node is PID 1 with no node
  // child): `npm start` → `sh -c node server.js` → `node server.js` makes the last one the app.
  let best: ProcessNode[] | undefined;
  const walk = (chain: ProcessNode[]) => {
    const last = chain[chain.length - 1];
    if (isNode(last) && (!best || chain.length > best.length)) best = chain;
    for (const child of childrenOf(last.hostPid)) if (!chain.includes(child)) walk([...chain, child]);
  };
  walk([pid1]);
  if (best) return { pid1, chainToApp: best, app: best[best.length - 1], all: nodes };
  return { pid1, chainToApp: [pid1], all: nodes };
}
