// A scripted daemon behind the Docker port, for the engine's logic only (every check also has integration
// tests on the real daemon). Time is the caller's: the script's moments are ms after the container
// started, scheduled with setTimeout, so tests may run it under vitest's fake timers or in real time.
import type {
  ContainerEvent,
  ContainerSpec,
  ContainerState,
  DaemonInfo,
  DockerPort,
  ExecRequest,
  ExecResult,
  HealthProbe,
  ImageConfig,
  ImageInfo,
  LayerHistory,
  ProcessRow,
} from '../../src/docker/port.js';
import { DockerApiError, ImageNotFoundError } from '../../src/errors.js';
import { analyseCommand } from '../../src/facts/command.js';
import type { ImageBasics } from '../../src/facts/image-facts.js';
import { auditHealthOverride, observeLifecycle, type ObserveOptions } from '../../src/lifecycle/observe.js';
import type { Clock } from '../../src/wait.js';

export interface Script {
  /** The image that inspectImage answers for any reference. */
  image?: Partial<Omit<ImageInfo, 'config'>> & { config?: Partial<ImageConfig> };
  history?: LayerHistory[];
  /** Other images the daemon has, by tag (for a gate's baseline). */
  images?: Record<string, Partial<Omit<ImageInfo, 'config'>> & { config?: Partial<ImageConfig> }>;
  daemon?: Partial<DaemonInfo>;
  /** Files of the image (read from a created container), by absolute path. */
  files?: Record<string, string>;
  /** The daemon refuses to start the container. */
  startError?: string;
  /** Events the daemon emits on its own, ms after start on its clock, e.g. "health_status: healthy". */
  events?: Array<{ atMs: number; action: string }>;
  /** The app stops by itself at this moment (a die event follows). */
  exits?: { atMs: number; exitCode: number; oomKilled?: boolean };
  /** The process table from each moment on (host pids); a plain list is the table at every moment. */
  processes?: ProcessRow[] | Array<{ fromMs: number; rows: ProcessRow[] }>;
  /** How the app answers the stop signal; default: exits 143 after 100 ms. */
  onStopSignal?: { exitCode: number; afterMs: number } | 'ignore';
  /** The app exits by itself with this code an instant before the stop signal reaches the daemon (409). */
  exitsJustBeforeSignal?: number;
  /** Events and exits reach us this much later than the daemon stamps them (a remote, slow daemon). */
  latencyMs?: number;
  /** The start call answers this long after the daemon stamped StartedAt (a loaded host). */
  startAnswersAfterMs?: number;
  /** The daemon's clock minus ours. */
  daemonSkewMs?: number;
  /**
   * The daemon stops answering (SIGSTOP of dockerd) `afterMs` after the first stop signal, for `forMs`:
   * calls wait, events are held, and an exit meanwhile is processed at the resume, as dockerd does: its
   * die event is stamped then, while FinishedAt keeps the moment the process exited (containerd's).
   */
  pauseAfterSignal?: { afterMs: number; forMs: number };
  /** A loaded daemon delivers the stop signal (and stamps its kill event) this long after the request. */
  stopSignalDeliveredLateMs?: number;
  /** The container was paused (`docker pause`): the kill endpoint answers 409 although it is running. */
  pausedByUser?: boolean;
  /** Inspect gives no finish time (FinishedAt "0001-01-01T00:00:00Z") and this exit code for an exited container. */
  finishedUnknown?: { exitCode: number };
  /** The daemon's last health probes, as inspect shows them. */
  healthLog?: HealthProbe[];
  logs?: string[];
  exec?: (request: ExecRequest) => ExecResult;
  /**
   * Helper containers run to their exit (a probe's sidecar): the lines it prints at once, and whether its
   * connections hold the exit of the container whose network it joins (`container:<id>`) past any stop
   * signal but SIGKILL, as a silent socket holds a `server.close()`. It ends when that container dies.
   */
  sidecar?: { stdoutLines: string[]; holdsExit?: boolean };
  /**
   * Containers of other auditors the daemon already has (or gets later): listed by label, with a create
   * still in flight until `registeredAfterMs` (listed, but removal answers 404, as dockerd does between
   * checkpointing a new container and registering it), appearing at `appearsAfterMs` (ms after this fake
   * was made).
   */
  foreign?: Array<{ id: string; labels: Record<string, string>; appearsAfterMs?: number; registeredAfterMs?: number }>;
}

interface Container {
  spec: ContainerSpec;
  running: boolean;
  started: boolean;
  startedAtMs: number;
  finishedAtMs: number;
  exitCode: number;
  oomKilled: boolean;
  health?: string;
  /** Events delivered to us so far, and the followers waiting for more. */
  delivered: ContainerEvent[];
  wake: Set<() => void>;
  exitWaiters: Set<(code: number) => void>;
  timers: NodeJS.Timeout[];
  /** A sidecar's connections hold this container's exit (see Script.sidecar). */
  held?: boolean;
}

export interface FakeDocker extends DockerPort {
  readonly created: Array<{ id: string; spec: ContainerSpec }>;
  readonly removed: string[];
  /** Containers started, in order. */
  readonly started: string[];
  readonly signals: string[];
  /** Every signal sent, with the container it was sent to. */
  readonly signalled: Array<{ id: string; signal: string }>;
  /** How many times the process table was read. */
  readonly topCalls: () => number;
  /** Event streams still followed (each should end when its signal aborts). */
  readonly openFollowers: () => number;
}

const abortError = (signal: AbortSignal) => (signal.reason instanceof Error ? signal.reason : new DOMException('The operation was aborted', 'AbortError'));

export function fakeDocker(script: Script = {}): FakeDocker {
  const containers = new Map<string, Container>();
  const created: FakeDocker['created'] = [];
  const removed: string[] = [];
  const signals: string[] = [];
  const signalled: FakeDocker['signalled'] = [];
  const started: string[] = [];
  const madeAt = Date.now();
  const foreign = new Map((script.foreign ?? []).map((f) => [f.id, f]));
  const foreignListed = (f: NonNullable<Script['foreign']>[number]) => Date.now() - madeAt >= (f.appearsAfterMs ?? 0);
  let tops = 0;
  let followers = 0;
  const daemonNow = () => Date.now() + (script.daemonSkewMs ?? 0);
  const latency = script.latencyMs ?? 0;
  /** While the daemon is paused (pauseAfterSignal): ms until it answers again, else 0. */
  let pause: { from: number; until: number } | undefined;
  const pausedFor = () => (pause && Date.now() >= pause.from && Date.now() < pause.until ? pause.until - Date.now() : 0);
  const answersWhenResumed = async () => {
    const ms = pausedFor();
    if (ms) await new Promise((resolve) => setTimeout(resolve, ms));
  };

  const get = (id: string) => {
    const c = containers.get(id);
    if (!c) throw new DockerApiError(`Docker refused: No such container: ${id}`, 404);
    return c;
  };
  const later = (c: Container, ms: number, fn: () => void) => c.timers.push(setTimeout(fn, Math.max(0, ms)));
  /** The daemon stamps the event now; we hear of it `latency` later. */
  const emit = (c: Container, action: string, timeMs = daemonNow(), attributes: Record<string, string> = {}) =>
    later(c, Math.max(latency, pausedFor()), () => {
      c.delivered.push({ action, timeMs, attributes });
      for (const wake of [...c.wake]) wake();
    });
  const exit = (c: Container, exitCode: number, oomKilled = false, atDaemonMs = daemonNow()): void => {
    if (!c.running) return;
    const paused = pausedFor();
    if (paused) {
      // A paused dockerd processes the exit when it resumes: FinishedAt is the exit's moment, the die event the resume's.
      later(c, paused, () => {
        if (!c.running) return;
        c.running = false;
        c.exitCode = exitCode;
        c.oomKilled = oomKilled;
        c.finishedAtMs = atDaemonMs;
        emit(c, 'die', daemonNow(), { exitCode: String(exitCode) });
        later(c, latency, () => c.exitWaiters.forEach((resolve) => resolve(exitCode)));
      });
      return;
    }
    c.running = false;
    c.exitCode = exitCode;
    c.oomKilled = oomKilled;
    c.finishedAtMs = atDaemonMs;
    emit(c, 'die', atDaemonMs, { exitCode: String(exitCode) });
    later(c, latency, () => c.exitWaiters.forEach((resolve) => resolve(exitCode)));
  };
  const imageFor = (ref: string): ImageInfo => {
    const image = script.images?.[ref] ?? script.image ?? (script.images ? undefined : {});
    if (!image) throw new ImageNotFoundError(`Image not found in the daemon: ${ref}`);
    return {
      id: image.id ?? `sha256:${ref.replace(/\W/g, '')}`,
      tags: image.tags ?? [ref],
      sizeBytes: image.sizeBytes ?? 100e6,
      config: {
        user: 'node',
        entrypoint: ['dumb-init', '--'],
        cmd: ['node', 'server.js'],
        workingDir: '/app',
        env: [],
        stopSignal: 'SIGTERM',
        exposedPorts: [],
        labels: {},
        ...image.config,
      },
    };
  };
  const tableAt = (elapsedMs: number): ProcessRow[] => {
    const p = script.processes ?? [];
    if (!p.length || !('fromMs' in p[0])) return p as ProcessRow[];
    const phases = p as Array<{ fromMs: number; rows: ProcessRow[] }>;
    return [...phases].reverse().find((phase) => phase.fromMs <= elapsedMs)?.rows ?? [];
  };
  const notUsed = (what: string) => async (): Promise<never> => {
    throw new Error(`fake docker: ${what} is not used by this test (script it)`);
  };
  const isDir = (path: string) => Object.keys(script.files ?? {}).some((f) => f.startsWith(path.replace(/\/$/, '') + '/'));

  return {
    created,
    removed,
    started,
    signals,
    signalled,
    topCalls: () => tops,
    openFollowers: () => followers,
    ping: async () => undefined,
    info: async () => ({ serverVersion: '20.10.0', securityOptions: [], userns: false, rootless: false, engine: 'docker', ...script.daemon }),
    build: notUsed('build'),
    inspectImage: async (ref) => imageFor(ref),
    imageHistory: async (ref) => (imageFor(ref), script.history ?? [{ createdBy: 'COPY . .', sizeBytes: 1e6, created: '' }]),
    createContainer: async (spec) => {
      const id = `c${created.length + 1}`;
      created.push({ id, spec });
      containers.set(id, { spec, running: false, started: false, startedAtMs: 0, finishedAtMs: 0, exitCode: 0, oomKilled: false, delivered: [], wake: new Set(), exitWaiters: new Set(), timers: [] });
      return id;
    },
    startContainer: async (id) => {
      const c = get(id);
      started.push(id);
      if (script.startError) throw new DockerApiError(`Docker refused starting the container: ${script.startError}`, 400);
      c.running = c.started = true;
      c.startedAtMs = daemonNow();
      emit(c, 'start');
      for (const e of script.events ?? []) {
        later(c, e.atMs, () => {
          if (!c.running) return;
          const health = /^health_status: (\w+)/.exec(e.action);
          if (health) c.health = health[1];
          emit(c, e.action, c.startedAtMs + e.atMs);
        });
      }
      const ex = script.exits;
      if (ex) later(c, ex.atMs, () => exit(c, ex.exitCode, ex.oomKilled, c.startedAtMs + ex.atMs));
      if (script.startAnswersAfterMs) await new Promise((resolve) => setTimeout(resolve, script.startAnswersAfterMs));
    },
    inspectContainer: async (id, options = {}) => {
      options.signal?.throwIfAborted();
      await answersWhenResumed();
      const c = get(id);
      const iso = (ms: number) => (ms ? new Date(ms).toISOString() : '0001-01-01T00:00:00Z');
      const healthcheck = c.spec.healthcheck ?? (imageFor(c.spec.image).config.healthcheck ? {} : undefined);
      const state: ContainerState = {
        status: c.running ? 'running' : c.started ? 'exited' : 'created',
        running: c.running,
        pid: c.running ? 100 : 0,
        exitCode: c.exitCode,
        oomKilled: c.oomKilled,
        error: '',
        startedAt: iso(c.startedAtMs),
        finishedAt: iso(c.finishedAtMs),
      };
      if (script.finishedUnknown && !c.running && c.started) Object.assign(state, { finishedAt: iso(0), exitCode: script.finishedUnknown.exitCode });
      if (healthcheck) state.health = { status: c.health ?? 'starting', failingStreak: 0, log: script.healthLog ?? [] };
      return state;
    },
    signal: async (id, signal) => {
      await answersWhenResumed();
      const c = get(id);
      if (script.pauseAfterSignal && !pause && signal !== 'SIGKILL') {
        pause = { from: Date.now() + script.pauseAfterSignal.afterMs, until: Date.now() + script.pauseAfterSignal.afterMs + script.pauseAfterSignal.forMs };
      }
      if (c.running && script.pausedByUser) return 'not-running';
      if (c.running && script.exitsJustBeforeSignal !== undefined) exit(c, script.exitsJustBeforeSignal, false, daemonNow() - 5);
      if (!c.running) return 'not-running';
      signals.push(signal);
      signalled.push({ id, signal });
      const sentAt = daemonNow() + (signal === 'SIGKILL' ? 0 : script.stopSignalDeliveredLateMs ?? 0);
      emit(c, 'kill', sentAt, { signal });
      const reaction = signal === 'SIGKILL' ? { exitCode: 137, afterMs: 10 } : c.held ? 'ignore' : (script.onStopSignal ?? { exitCode: 143, afterMs: 100 });
      if (reaction !== 'ignore') later(c, reaction.afterMs, () => exit(c, reaction.exitCode, false, sentAt + reaction.afterMs));
      return 'sent';
    },
    waitForExit: (id, options = {}) =>
      new Promise<number>((resolve, reject) => {
        const c = get(id);
        const { signal } = options;
        if (signal?.aborted) return reject(abortError(signal));
        if (!c.running && c.started) return resolve(c.exitCode);
        const onAbort = () => {
          c.exitWaiters.delete(done);
          reject(abortError(signal!));
        };
        const done = (code: number) => {
          c.exitWaiters.delete(done);
          signal?.removeEventListener('abort', onAbort);
          resolve(code);
        };
        c.exitWaiters.add(done);
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
    containerEvents: (id, sinceMs, options) => ({
      async *[Symbol.asyncIterator]() {
        const c = get(id);
        const { signal } = options;
        let next = 0;
        followers++;
        try {
          while (!signal?.aborted) {
            while (next < c.delivered.length) {
              const event = c.delivered[next++];
              if (event.timeMs >= sinceMs) yield event;
            }
            // Sleeps until an event is delivered or the follower is aborted.
            await new Promise<void>((resolve) => {
              const wake = () => {
                c.wake.delete(wake);
                signal?.removeEventListener('abort', wake);
                resolve();
              };
              c.wake.add(wake);
              signal?.addEventListener('abort', wake, { once: true });
            });
          }
        } finally {
          followers--;
        }
      },
    }),
    processes: async (id, options = {}) => {
      options.signal?.throwIfAborted();
      await answersWhenResumed();
      const c = get(id);
      tops++;
      if (!c.running) throw new DockerApiError(`Docker refused listing the container processes: container ${id} is not running`, 409);
      return tableAt(daemonNow() - c.startedAtMs);
    },
    exec: async (id, request) => {
      if (!script.exec) throw new Error('fake docker: exec is not used by this test (script it)');
      if (!get(id).running) throw new DockerApiError(`container ${id} is not running`, 409);
      return script.exec(request);
    },
    exportImage: notUsed('exportImage'),
    runToExit: script.sidecar
      ? async (id, request) => {
          const helper = get(id);
          const joined = /^container:(.+)$/.exec(helper.spec.network ?? '')?.[1];
          const target = joined ? get(joined) : undefined;
          if (!target?.running) return { exitCode: 1, stdout: '', stderr: 'the joined container is not running' };
          if (script.sidecar!.holdsExit) target.held = true;
          for (const line of script.sidecar!.stdoutLines) request.onStdoutLine?.(line);
          const stdout = script.sidecar!.stdoutLines.join('\n');
          // Ends with the container whose network it shares (or at its bound).
          await new Promise<void>((resolve) => {
            const done = () => {
              target.exitWaiters.delete(done);
              request.signal?.removeEventListener('abort', done);
              resolve();
            };
            target.exitWaiters.add(done);
            request.signal?.addEventListener('abort', done, { once: true });
          });
          return { exitCode: 0, stdout, stderr: '' };
        }
      : notUsed('runToExit'),
    removeImage: notUsed('removeImage'),
    statPath: async (id, path) => {
      get(id);
      const content = script.files?.[path];
      if (content !== undefined) return { name: path.split('/').pop() ?? '', sizeBytes: content.length, isDirectory: false, linkTarget: '' };
      return isDir(path) ? { name: path.split('/').pop() ?? '', sizeBytes: 4096, isDirectory: true, linkTarget: '' } : undefined;
    },
    readFile: async (id, path) => {
      get(id);
      const content = script.files?.[path];
      return content === undefined ? undefined : Buffer.from(content);
    },
    archive: notUsed('archive'),
    logs: async (id) => (await answersWhenResumed(), get(id), script.logs ?? ['listening on 3000']),
    removeContainer: async (id) => {
      const f = foreign.get(id);
      if (f && foreignListed(f)) {
        // A create still in flight: listed, but not registered yet (dockerd answers 404, which the port takes for "gone").
        if (Date.now() - madeAt < (f.registeredAfterMs ?? 0)) return;
        foreign.delete(id);
        removed.push(id);
        return;
      }
      const c = containers.get(id);
      if (!c) return;
      c.timers.forEach(clearTimeout);
      c.running = false;
      containers.delete(id);
      removed.push(id);
    },
    listContainers: async () => [...containers.keys()],
    listLabelledContainers: async (filter) => {
      const [key, value] = filter.split('=');
      const matches = (labels: Record<string, string>) => key in labels && (value === undefined || labels[key] === value);
      const theirs = [...foreign.values()].filter((f) => foreignListed(f) && matches(f.labels)).map((f) => ({ id: f.id, labels: f.labels, state: 'created' }));
      const ours = [...containers.entries()].filter(([, c]) => matches(c.spec.labels)).map(([id, c]) => ({ id, labels: c.spec.labels, state: c.running ? 'running' : c.started ? 'exited' : 'created' }));
      return [...theirs, ...ours];
    },
    listImageTags: async () => Object.keys(script.images ?? {}),
    containerChanges: async () => [],
    memoryStats: async () => ({ usageBytes: 0, workingSetBytes: 0, limitBytes: 0 }),
  };
}

/** Rows of a process table, parents first: `row(pid, ppid, args)` as uid 1000, or `row(…, uid)`. */
export const row = (pid: number, ppid: number, args: string, uid = 1000): ProcessRow => ({ pid, ppid, uid, gid: uid, args });

/** Health timings in the image's units (ns). */
export const healthcheckOf = (o: { intervalMs: number; timeoutMs: number; startPeriodMs?: number; retries: number }) => ({
  test: ['CMD', 'node', 'healthcheck.js'],
  intervalNs: o.intervalMs * 1e6,
  timeoutNs: o.timeoutMs * 1e6,
  startPeriodNs: (o.startPeriodMs ?? 0) * 1e6,
  retries: o.retries,
});

/** Our clock under vitest's fake timers (Date is faked; the script's timers are too). */
export const dateClock: Clock = { now: () => Date.now() };

/** Advances fake time in steps until `work` settles; bounded so a hang fails the test instead of spinning. */
export async function settleInFakeTime<T>(advance: (ms: number) => Promise<unknown>, work: Promise<T>, limitMs = 900_000, stepMs = 50): Promise<T> {
  let settled = false;
  work.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let ms = 0; !settled && ms < limitMs; ms += stepMs) await advance(stepMs);
  if (!settled) throw new Error(`still running after ${limitMs} ms of fake time`);
  return work;
}

/** The container the lifecycle observes, created as the audit creates it (with the health override). */
export async function scriptedLifecycle(script: Script, over: Partial<ObserveOptions> = {}) {
  const docker = fakeDocker(script);
  const image = await docker.inspectImage('app');
  const basics: ImageBasics = { image, history: await docker.imageHistory('app'), command: analyseCommand(image.config.entrypoint, image.config.cmd) };
  const healthcheck = basics.image.config.healthcheck;
  const containerId = await docker.createContainer({ image: basics.image.id, env: [], labels: {}, healthcheck: healthcheck && auditHealthOverride(healthcheck) });
  const options: ObserveOptions = {
    containerId,
    basics,
    stopSignal: basics.image.config.stopSignal,
    healthcheck,
    shutdownBudgetMs: 5000,
    healthTimeoutMs: 120_000,
    runtime: false,
    probes: [],
    probeSettings: { shutdownBudgetMs: 5000, drainPath: '/' },
    signal: new AbortController().signal,
    clock: dateClock,
    ...over,
  };
  return { docker, basics, run: () => observeLifecycle(docker, options) };
}
