// The container's process table as a tree rooted at its PID 1, and the chain from PID 1 to the app.
import type { ProcessRow } from '../docker/port.js';
import { basename } from '../facts/command.js';

export interface ProcessNode {
  /** Host pid: `ps` runs on the host. */
  hostPid: number;
  uid: number;
  gid: number;
  args: string;
  /** Program name without path, e.g. "dumb-init", "node", "sh". */
  program: string;
}

export interface ProcessTree {
  pid1: ProcessNode;
  /** PID 1 first, then each child down to the app; only PID 1 when no app process was found. */
  chainToApp: ProcessNode[];
  app?: ProcessNode;
  all: ProcessNode[];
}

/** npm rewrites its title to "npm start", node scripts keep "node ..." */
export function programOf(args: string): string {
  const first = args.trim().split(/\s+/)[0] ?? '';
  return basename(first);
}

const isNode = (node: ProcessNode) => node.program === 'node' || node.program === 'nodejs';

export function buildProcessTree(rows: ProcessRow[], pid1HostPid: number): ProcessTree | undefined {
  const nodes = rows.map((row) => ({ hostPid: row.pid, uid: row.uid, gid: row.gid, args: row.args, program: programOf(row.args) }));
  const parentOf = new Map(rows.map((row) => [row.pid, row.ppid]));
  const pid1 = nodes.find((n) => n.hostPid === pid1HostPid) ?? nodes.find((n) => !parentOf.has(parentOf.get(n.hostPid) ?? -1));
  if (!pid1) return undefined;

  const childrenOf = (pid: number) => nodes.filter((n) => parentOf.get(n.hostPid) === pid && n.hostPid !== pid);
  // Breadth-first: the app is the node process nearest PID 1 (PID 1 itself when node is PID 1).
  const queue: ProcessNode[][] = [[pid1]];
  while (queue.length) {
    const chain = queue.shift()!;
    const last = chain[chain.length - 1];
    if (isNode(last)) return { pid1, chainToApp: chain, app: last, all: nodes };
    for (const child of childrenOf(last.hostPid)) queue.push([...chain, child]);
  }
  return { pid1, chainToApp: [pid1], all: nodes };
}
