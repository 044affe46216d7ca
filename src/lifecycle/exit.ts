// An exit the audit did not cause (before the stop signal), as the engine reported it.
import type { ContainerState } from '../docker/port.js';
import { ContainerError } from '../errors.js';
import { observed, unobserved, type Observed } from '../observed.js';
import type { ContainerWatch } from './events.js';

/** An exit before the stop signal, as the engine reported it: a code or time it did not give is not observed. */
export interface EarlyExit {
  exitCode: Observed<number>;
  /** ms from the start to the exit (the engine's StartedAt → FinishedAt). */
  afterMs: Observed<number>;
  /** The kernel killed it for the container's memory limit (inspect's State.OOMKilled). */
  oomKilled: boolean;
  beforeSignal?: boolean;
}

/**
 * The exit code and time of an early exit as the engine gave them. Exit codes are 0-255: anything else
 * (a -1) is the engine not knowing. FinishedAt is "0001-01-01T00:00:00Z" when the engine recorded no
 * finish: no time is made up from it.
 */
export function earlyExit(state: Pick<ContainerState, 'exitCode' | 'finishedAt' | 'startedAt'>, startedAtMs: number): Pick<EarlyExit, 'exitCode' | 'afterMs'> {
  const exitCode = Number.isInteger(state.exitCode) && state.exitCode >= 0 && state.exitCode <= 255 ? observed(state.exitCode) : unobserved(`the engine reported exit code ${state.exitCode}, which no process exits with`);
  const finished = Date.parse(state.finishedAt);
  const afterMs =
    Number.isFinite(finished) && finished >= startedAtMs
      ? observed(Math.round(finished - startedAtMs))
      : unobserved(`the engine gave no finish time after the start (FinishedAt "${state.finishedAt}", StartedAt "${state.startedAt}")`);
  return { exitCode, afterMs };
}

/** Signals that stop a container (SIGHUP, SIGINT, SIGQUIT, SIGKILL, SIGTERM), by number as events give them. */
const STOPPING = new Set(['1', '2', '3', '9', '15', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGKILL', 'SIGTERM']);

/**
 * Before our own stop signal, a kill that stops the container was sent by someone else: the daemon
 * shutting down (a restart), or a person running `docker stop`. The exit that follows says nothing
 * about the app, so no verdict may be drawn from it.
 */
export function throwIfStoppedFromOutside(watch: ContainerWatch): void {
  const kill = watch.kills.find((k) => STOPPING.has(k.attributes.signal ?? ''));
  if (kill) {
    throw new ContainerError(`the audited container was stopped from outside the audit (signal ${kill.attributes.signal}: a daemon restart or a \`docker stop\`?); nothing can be concluded from its exit`);
  }
}
