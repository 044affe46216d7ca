// "Up" for an image without a HEALTHCHECK: a node process is in the table, the table is unchanged
// between two samples, the app sleeps in both (an event loop with nothing to do waits in epoll; a node
// still starting runs, or waits on the disk), and at least a second has passed — bounded by the settle
// bound and the health cap. Without the idle rule a loaded host could be told "up" before node ran the
// app's first line: a SIGTERM then ends a node that has no handler yet, and a slow drain looks instant.
import { sleep } from '../wait.js';
import type { ContainerWatch } from './events.js';
import type { ProcessTable } from './process-table.js';

const SETTLE = { minMs: 1000, maxMs: 10_000, pollMs: 250 };

/** How the audit decided the app was up when there is no HEALTHCHECK. */
export interface SettleObservation {
  settledAfterMs: number;
  appSeen: boolean;
  /** The app's ps state when the bound ended the wait with the app not idle yet (e.g. "R": running). */
  busyAtBound?: string;
  /** Why the app's idleness was not part of the rule (the engine's process listing has no states). */
  idleUnobserved?: string;
  cappedAtMs?: number;
}

export interface SettleWaitOptions {
  table: ProcessTable;
  pid1: number;
  watch: ContainerWatch;
  /** ms since the container started (the timeline's clock). */
  elapsedMs: () => number;
  /** The --health-timeout cap on the whole wait. */
  capMs: number;
  signal: AbortSignal;
  onStatus: (line: string) => void;
}

export async function waitUntilSettled(opts: SettleWaitOptions): Promise<SettleObservation> {
  const { table, pid1, watch, elapsedMs: at, capMs } = opts;
  const bound = Math.min(SETTLE.maxMs, capMs);
  const capped = capMs < SETTLE.maxMs ? { cappedAtMs: capMs } : {};
  for (;;) {
    if (watch.died) return { settledAfterMs: at(), appSeen: false };
    table.sampleInBackground(pid1);
    const stable = await table.stable(pid1).catch(() => undefined);
    const app = stable?.stable ? stable.tree.app : undefined;
    const idle = app && table.idle(app.hostPid);
    const unobserved = idle && idle.idle === undefined ? { idleUnobserved: idle.why } : {};
    if (idle && idle.idle !== false && at() >= SETTLE.minMs) return { settledAfterMs: at(), appSeen: true, ...unobserved };
    if (at() >= bound) {
      if (!idle) return { settledAfterMs: at(), appSeen: false, ...capped };
      return { settledAfterMs: at(), appSeen: true, ...(idle.idle === false ? { busyAtBound: idle.state } : unobserved), ...capped };
    }
    opts.onStatus(`waiting for the app to settle, ${(at() / 1000).toFixed(1)} s of ${(bound / 1000).toFixed(0)} s`);
    await sleep(SETTLE.pollMs, opts.signal);
  }
}
