// Every container an audit creates carries our labels and is removed when the audit ends (finally),
// and also when our own process gets SIGINT/SIGTERM mid-audit.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
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

const active = new Set<ContainerReaper>();
let signalsInstalled = false;

let interruption: NodeJS.Signals | undefined;

/** The signal being handled, if any: the audit then fails on purpose and must not exit on its own. */
export function interruptedBy(): NodeJS.Signals | undefined {
  return interruption;
}

async function onSignal(signal: NodeJS.Signals): Promise<void> {
  interruption = signal;
  process.stderr.write(`\nimage-audit: ${signal}: removing the audit's containers\n`);
  await Promise.allSettled([...active].map((reaper) => reaper.release()));
  uninstallSignals();
  // Re-raise so the process ends the way it would have without us.
  process.kill(process.pid, signal);
}

const handlers = { SIGINT: () => void onSignal('SIGINT'), SIGTERM: () => void onSignal('SIGTERM') };

function installSignals(): void {
  if (signalsInstalled) return;
  signalsInstalled = true;
  process.on('SIGINT', handlers.SIGINT);
  process.on('SIGTERM', handlers.SIGTERM);
}

function uninstallSignals(): void {
  if (!signalsInstalled) return;
  signalsInstalled = false;
  process.off('SIGINT', handlers.SIGINT);
  process.off('SIGTERM', handlers.SIGTERM);
}

export class ContainerReaper {
  readonly auditId = randomUUID();
  private readonly containers = new Set<string>();

  constructor(
    private readonly docker: DockerPort,
    private readonly keep: boolean,
  ) {
    active.add(this);
    installSignals();
  }

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

  async removeAll(): Promise<void> {
    const ids = [...this.containers];
    this.containers.clear();
    await Promise.allSettled(ids.map((id) => this.docker.removeContainer(id)));
  }

  /** Ends the audit's hold on its containers: removes them unless kept. */
  async release(): Promise<void> {
    active.delete(this);
    if (active.size === 0) uninstallSignals();
    if (!this.keep) await this.removeAll();
  }
}
