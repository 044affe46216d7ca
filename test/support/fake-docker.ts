// A scripted stand-in behind the Docker port, for the lifecycle's pure logic only: every check also
// has integration tests on the real daemon.
import type { ContainerState, DockerPort, ProcessRow } from '../../src/docker/port.js';

export interface Script {
  /** Health statuses returned by successive inspects while running ('' for no health). */
  health?: string[];
  /** The container stops by itself at this inspect (0-based), with this code. */
  exitsAtInspect?: { index: number; code: number };
  processes?: ProcessRow[];
  /** How the app reacts to the stop signal: exits with a code, or ignores it. */
  onStopSignal: { exitCode: number } | 'ignore';
  startError?: string;
}

export function fakeDocker(script: Script): DockerPort & { signals: string[]; removed: string[] } {
  let inspects = 0;
  let running = false;
  let exitCode = 0;
  let resolveExit: ((code: number) => void) | undefined;
  const exited = new Promise<number>((resolve) => (resolveExit = resolve));
  const stop = (code: number) => {
    running = false;
    exitCode = code;
    resolveExit!(code);
  };
  const signals: string[] = [];
  const removed: string[] = [];
  const unused = () => {
    throw new Error('not used by the lifecycle');
  };
  return {
    signals,
    removed,
    ping: async () => {},
    build: unused,
    inspectImage: unused,
    imageHistory: unused,
    createContainer: async () => 'c1',
    startContainer: async () => {
      if (script.startError) throw new Error(`Docker refused starting the container: ${script.startError}`);
      running = true;
    },
    inspectContainer: async (): Promise<ContainerState> => {
      const index = inspects++;
      if (running && script.exitsAtInspect && index >= script.exitsAtInspect.index) stop(script.exitsAtInspect.code);
      const status = script.health?.[Math.min(index, script.health.length - 1)];
      return {
        status: running ? 'running' : 'exited',
        running,
        pid: running ? 100 : 0,
        exitCode,
        oomKilled: false,
        error: '',
        startedAt: new Date().toISOString(),
        finishedAt: new Date().toISOString(),
        health: status ? { status, failingStreak: 0, log: [] } : undefined,
      };
    },
    signal: async (_id, signal) => {
      signals.push(signal);
      if (signal === 'SIGKILL') stop(137);
      else if (script.onStopSignal !== 'ignore') stop(script.onStopSignal.exitCode);
    },
    waitForExit: () => exited,
    processes: async () => script.processes ?? [],
    statPath: async () => undefined,
    readFile: async () => undefined,
    treeSizeBytes: async () => 0,
    logs: async () => ['listening on 3000'],
    removeContainer: async (id) => {
      removed.push(id);
    },
    listContainers: async () => [],
    listImageTags: async () => [],
  };
}

/** A clock whose sleeps take no real time. */
export function instantClock() {
  let now = 0;
  return { now: () => now, sleep: async (ms: number) => void (now += ms) };
}
