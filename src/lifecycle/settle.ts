// "Up" for an image without a HEALTHCHECK: a node process is in the table, the table is unchanged
// between two samples, and at least a second has passed (bounded by the settle bound and the health cap).
import { sleep } from '../wait.js';
import type { ContainerWatch } from './events.js';
import type { ProcessTable } from './process-table.js';

const SETTLE = { minMs: 1000, maxMs: 10_000, pollMs: 250 };

/** How the audit decided the app was up when there is no HEALTHCHECK. */
export interface SettleObservation {
  settledAfterMs: number;
  appSeen: boolean;
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
  for (;;) {
    if (watch.died) return { settledAfterMs: at(), appSeen: false };
    table.sampleInBackground(pid1);
    const stable = await table.stable(pid1).catch(() => undefined);
    if (stable?.tree.app && stable.stable && at() >= SETTLE.minMs) return { settledAfterMs: at(), appSeen: true };
    if (at() >= bound) return { settledAfterMs: at(), appSeen: false, ...(capMs < SETTLE.maxMs ? { cappedAtMs: capMs } : {}) };
    opts.onStatus(`waiting for the app to settle, ${(at() / 1000).toFixed(1)} s of ${(bound / 1000).toFixed(0)} s`);
    await sleep(SETTLE.pollMs, opts.signal);
  }
}
