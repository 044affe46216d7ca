// What every check is: an id (public contract), a title, what observations it needs, and a pure `run`.
import type { FileFacts, ImageBasics } from '../facts/image-facts.js';
import type { LifecycleObservation } from '../lifecycle/observe.js';
import type { CheckId, CheckStatus } from '../types.js';

export type Need = 'image' | 'files' | 'lifecycle';

export interface CheckSettings {
  sizeBudgetBytes: number;
  shutdownBudgetMs: number;
  acceptedInits: string[];
}

export interface CheckInput {
  basics: ImageBasics;
  files?: FileFacts;
  lifecycle?: LifecycleObservation;
  settings: CheckSettings;
}

export interface Verdict {
  status: CheckStatus;
  message: string;
  evidence: Record<string, unknown>;
}

export interface Check {
  id: CheckId;
  title: string;
  needs: Need[];
  run(input: CheckInput): Verdict;
}

export const verdict = (status: CheckStatus, message: string, evidence: Record<string, unknown> = {}): Verdict => ({
  status,
  message,
  evidence,
});

/** Lifecycle checks get `lifecycle` and `files` when they declare the need; this narrows it once. */
export function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`internal: ${what} was not gathered`);
  return value;
}

/** The app's own words when it stopped early: its last log lines, quoted in messages. */
export function lastLogLine(lifecycle: LifecycleObservation): string {
  const line = [...lifecycle.logs].reverse().find((l) => l.trim());
  return line ? `; last log line: "${line.trim().slice(0, 200)}"` : '; it printed nothing';
}

/** When the lifecycle could not be observed at all, say why (shared by the runtime checks). */
export function notObserved(lifecycle: LifecycleObservation): string | undefined {
  if (lifecycle.startError) return `the container could not start: ${lifecycle.startError}`;
  if (lifecycle.exitedEarly) {
    const { exitCode, afterMs } = lifecycle.exitedEarly;
    return `the app exited by itself with code ${exitCode} after ${(afterMs / 1000).toFixed(1)} s${lastLogLine(lifecycle)}`;
  }
  return undefined;
}
