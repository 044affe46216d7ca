// What the three live probes share: which node to exec in the container, how to tell "no node there"
// from a failure, and how a probe's outcome becomes a verdict when the probe could not observe.
import type { ExecResult } from '../../docker/port.js';
import type { LifecycleObservation } from '../../lifecycle/observe.js';
import type { LiveContext } from '../../lifecycle/probe.js';
import { helperBinary } from '../../lifecycle/runtime.js';
import { notObserved, verdict, type Verdict } from '../check.js';

/** A probe that cannot observe says so as a value (a `skip` for its check), never a pass. */
export interface Unavailable {
  kind: 'unavailable';
  reason: string;
}

export const unavailable = (reason: string): Unavailable => ({ kind: 'unavailable', reason });

/** The node to exec: the app's own binary when its command names a path, else `node` on the image's PATH. */
export function helperNode(context: Pick<LiveContext, 'processes'>): string {
  return context.processes.app ? helperBinary(context.processes.app) : 'node';
}

/** The exec could not start the program (exit 126/127 or the runtime's "not found"). */
export function programMissing(run: ExecResult): boolean {
  return run.exitCode === 126 || run.exitCode === 127 || (run.exitCode !== 0 && /executable file not found|no such file or directory/i.test(run.stdout + run.stderr));
}

export function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.slice(0, 200) ?? '';
}

/** Runs `node -e script args…` in the container; a missing node is `Unavailable`, any other failure throws. */
export async function execNode(context: LiveContext, script: string, args: string[], options: { user?: string; timeoutMs?: number } = {}): Promise<ExecResult | Unavailable> {
  const node = helperNode(context);
  const run = await context.exec([node, '-e', script, ...args], { ...(options.user ? { user: options.user } : {}), ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) });
  if (programMissing(run)) return unavailable(`there is no ${node} to exec in the container (${firstLine(run.stderr || run.stdout) || `exit ${run.exitCode}`})`);
  if (run.exitCode !== 0) throw new Error(`${node} -e in the container exited ${run.exitCode}: ${firstLine(run.stderr || run.stdout)}`);
  return run;
}

export const isUnavailable = (value: unknown): value is Unavailable => (value as Unavailable | undefined)?.kind === 'unavailable';

/**
 * The probe's value, or the verdict to give when there is none: `error` when the container could not be
 * observed or the probe failed, `skip` when the probe said it cannot observe here.
 */
export function probeValue<T>(life: LifecycleObservation, id: string): { value: T } | { verdict: Verdict } {
  const why = notObserved(life);
  if (why) return { verdict: verdict('error', `could not probe: ${why}`, { lastLogLines: life.logs.slice(-10) }) };
  const outcome = life.probes[id];
  if (!outcome) return { verdict: verdict('error', 'the probe did not run (the container stopped before it)', { timeline: life.timeline }) };
  if (!outcome.ran) return { verdict: verdict('error', `the probe could not run: ${outcome.reason}`, { durationMs: outcome.durationMs }) };
  if (isUnavailable(outcome.value)) return { verdict: verdict('skip', outcome.value.reason, { durationMs: outcome.durationMs }) };
  return { value: outcome.value as T };
}
