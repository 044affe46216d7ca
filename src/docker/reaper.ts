// Every container an audit creates carries our labels and is removed when the audit ends (finally).
// The library installs no signal handlers: a caller that wants Ctrl-C to clean up aborts the audit's
// signal (the CLI does), and the audit's `finally` removes what it made. Containers of auditors that
// died without cleaning up (SIGKILL, a daemon restart) are removed by the next audit on the same host:
// swept at its start and once more at its end, each sweep holding for a create still in flight.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { sleep } from '../wait.js';
import type { DockerPort } from './port.js';

export const LABEL = 'io.github.node-image-audit';
export const AUDIT_ID_LABEL = `${LABEL}.audit-id`;
/** The pid of the process that ran the audit: tells which containers a (dead) run left behind. */
export const PID_LABEL = `${LABEL}.pid`;
/** Which run made the container: IMAGE_AUDIT_SESSION when set (a test run sets it for all its workers), else host:pid. */
export const SESSION_LABEL = `${LABEL}.session`;
/** The host the auditing process runs on: a pid means something only there. */
export const HOST_LABEL = `${LABEL}.host`;

export function sessionId(): string {
  return process.env.IMAGE_AUDIT_SESSION || `${hostname()}:${process.pid}`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface SweepOptions {
  /**
   * How long a sweep keeps looking while a container it found is still listed (default 20 s): dockerd
   * lists a container it is still creating before it can remove it (the removal answers 404), so the
   * create of an auditor killed mid-call lands after the removal unless the sweep looks again.
   */
  holdMs?: number;
  pollMs?: number;
  /** Ends the hold early (an interrupted audit); the first pass always runs. */
  signal?: AbortSignal;
}

const SWEEP = { holdMs: 20_000, pollMs: 250 };

/**
 * Removes the containers of audits run on this host by processes that no longer exist; returns how many.
 * It holds while any is still listed after its removal (a create still in flight), up to `holdMs`.
 */
export async function reapAbandoned(docker: DockerPort, options: SweepOptions = {}): Promise<number> {
  const host = hostname();
  const { holdMs = SWEEP.holdMs, pollMs = SWEEP.pollMs, signal } = options;
  const abandoned = async () =>
    (await docker.listLabelledContainers(LABEL)).filter((c) => {
      const pid = Number(c.labels[PID_LABEL]);
      return c.labels[HOST_LABEL] === host && Number.isInteger(pid) && pid > 0 && !processAlive(pid);
    });
  const seen = new Set<string>();
  const until = Date.now() + holdMs;
  let left = await abandoned();
  while (left.length) {
    for (const c of left) seen.add(c.id);
    await Promise.allSettled(left.map((c) => docker.removeContainer(c.id)));
    // Still listed after its removal: the daemon could not take it yet. Look again shortly, bounded.
    left = await abandoned();
    if (!left.length || Date.now() >= until || signal?.aborted) break;
    if (!(await sleep(pollMs, signal).then(() => true, () => false))) break;
  }
  return seen.size;
}

export class ContainerReaper {
  readonly auditId = randomUUID();
  private readonly containers = new Set<string>();

  constructor(
    private readonly docker: DockerPort,
    private readonly keep: boolean,
  ) {}

  get labels(): Record<string, string> {
    return { [LABEL]: 'true', [AUDIT_ID_LABEL]: this.auditId, [PID_LABEL]: String(process.pid), [HOST_LABEL]: hostname(), [SESSION_LABEL]: sessionId() };
  }

  track(containerId: string): void {
    this.containers.add(containerId);
  }

  /** Containers left behind with --keep. */
  get kept(): string[] {
    return this.keep ? [...this.containers] : [];
  }

  /** Ends the audit's hold on its containers: removes them unless kept. */
  async release(): Promise<void> {
    if (this.keep) return;
    const ids = [...this.containers];
    this.containers.clear();
    await Promise.allSettled(ids.map((id) => this.docker.removeContainer(id)));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }
}
