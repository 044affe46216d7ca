// The process table as an observation: sampled until it stops changing (bounded), so the app is the
// deepest node process of a stable table, not npm's own process caught before it spawned the server.
import type { DockerPort, ProcessRow } from '../docker/port.js';
import { sleep } from '../wait.js';
import { buildProcessTree, type ProcessTree } from './process-tree.js';

const SAMPLE_GAP_MS = 150;
const MAX_SAMPLES = 20;

export interface ProcessSample {
  rows: ProcessRow[];
  pid1: number;
  /** Our clock, ms since start. */
  atMs: number;
}

/**
 * PID 1 and its descendants. Exec'd processes (the audit's own runtime read and zombie-reaping's, the
 * image's HEALTHCHECK) hang off the runtime's shim, not PID 1: they come and go without the app changing.
 */
function appRows(sample: ProcessSample): ProcessRow[] {
  // Without PID 1 in the listing there is no subtree to tell apart: compare every row, as before.
  if (!sample.rows.some((r) => r.pid === sample.pid1)) return sample.rows;
  const kept = new Set([sample.pid1]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const r of sample.rows) if (!kept.has(r.pid) && kept.has(r.ppid)) kept.add(r.pid), (grew = true);
  }
  return sample.rows.filter((r) => kept.has(r.pid));
}

const shape = (sample: ProcessSample) =>
  appRows(sample)
    .map((r) => `${r.pid} ${r.ppid} ${r.uid} ${r.args}`)
    .sort()
    .join('\n');

/** Two samples with the same processes below PID 1 (pid, parent, uid, command). */
export function sameTable(a: ProcessSample | undefined, b: ProcessSample | undefined): boolean {
  return a !== undefined && b !== undefined && a.pid1 === b.pid1 && shape(a) === shape(b);
}

/**
 * Samples taken while waiting for "up" are kept here; `stable()` returns the first tree whose sample
 * equals the one before it and shows the app, sampling more (bounded) when needed.
 */
export class ProcessTable {
  private samples: ProcessSample[] = [];
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly docker: DockerPort,
    private readonly containerId: string,
    private readonly atMs: () => number,
    private readonly signal: AbortSignal,
  ) {}

  /** One sample, unless one is being taken; errors (the container stopped) are left to the caller's next look. */
  sampleInBackground(pid1: number): void {
    if (this.inFlight) return;
    this.inFlight = this.take(pid1)
      .then(() => undefined, () => undefined)
      .finally(() => (this.inFlight = undefined));
  }

  private async take(pid1: number): Promise<ProcessSample> {
    const rows = await this.docker.processes(this.containerId, { signal: this.signal });
    const sample = { rows, pid1, atMs: this.atMs() };
    this.samples.push(sample);
    if (this.samples.length > 4) this.samples.shift();
    return sample;
  }

  /** The stable table, or the last one seen when it kept changing up to the bound (noted). */
  async stable(pid1: number): Promise<{ tree: ProcessTree; atMs: number; samples: number; stable: boolean } | undefined> {
    await this.inFlight;
    let taken = 0;
    for (;;) {
      const [previous, last] = this.samples.slice(-2);
      const tree = last && buildProcessTree(last.rows, last.pid1);
      if (tree && (tree.app || taken >= 5) && sameTable(previous, last) && last.atMs - previous.atMs >= SAMPLE_GAP_MS) {
        return { tree, atMs: last.atMs, samples: taken, stable: true };
      }
      if (taken >= MAX_SAMPLES) return tree ? { tree, atMs: last!.atMs, samples: taken, stable: false } : undefined;
      const gap = last ? SAMPLE_GAP_MS - (this.atMs() - last.atMs) : 0;
      if (gap > 0) await sleep(gap, this.signal);
      await this.take(pid1);
      taken++;
    }
  }

  /**
   * Whether `hostPid` slept (ps state S) in each of the last two samples: false with the state that says
   * otherwise, undefined with the reason when the engine's listing has no states.
   */
  idle(hostPid: number): { idle: boolean; state: string } | { idle: undefined; why: string } {
    const rows = this.samples.slice(-2).map((sample) => sample.rows.find((r) => r.pid === hostPid));
    if (rows.length < 2 || rows.some((r) => r === undefined)) return { idle: undefined, why: 'the app was not in the last two samples' };
    const states = rows.map((r) => r!.state);
    if (states.some((state) => state === undefined)) return { idle: undefined, why: "the engine's process listing shows no process states" };
    const busy = states.find((state) => !state!.startsWith('S'));
    return busy ? { idle: false, state: busy } : { idle: true, state: states[1]! };
  }

  get latest(): ProcessSample | undefined {
    return this.samples[this.samples.length - 1];
  }
}
