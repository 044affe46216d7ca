// The one port over the Docker daemon, in our own types. Only src/docker/dockerode-port.ts implements it
// with dockerode; unit tests may put a fake behind it.
import type { Readable } from 'node:stream';
import type { ChunkSource } from './chunk-source.js';

export interface HealthcheckConfig {
  /** e.g. ['CMD', 'node', 'healthcheck.js'] or ['CMD-SHELL', 'curl -f localhost'] */
  test: string[];
  intervalNs: number;
  timeoutNs: number;
  startPeriodNs: number;
  retries: number;
}

export interface ImageConfig {
  user: string;
  entrypoint: string[];
  cmd: string[];
  workingDir: string;
  env: string[];
  stopSignal: string;
  /** EXPOSE as the config records it, e.g. ["3000/tcp"]. */
  exposedPorts: string[];
  labels: Record<string, string>;
  /** Absent when the image declares no HEALTHCHECK (or `HEALTHCHECK NONE`). */
  healthcheck?: HealthcheckConfig;
}

export interface ImageInfo {
  id: string;
  tags: string[];
  sizeBytes: number;
  config: ImageConfig;
  /** The layers' diffIDs (RootFS.Layers), base first, when the engine gives them. */
  layers?: string[];
}

export interface LayerHistory {
  createdBy: string;
  sizeBytes: number;
  created: string;
}

export interface BuildRequest {
  /** Called once per attempt: a fallback to the classic builder needs a fresh stream. */
  context: () => Readable;
  /**
   * The context's directory, when there is one: BuildKit then reads it through a session, as with the
   * docker CLI (and applies .dockerignore itself); the tar of `context` goes only to the classic builder.
   */
  contextDir?: string;
  /** The Dockerfile's path relative to the context, with forward slashes. */
  dockerfile: string;
  buildArgs: Record<string, string>;
  target?: string;
  /** Name given to the built image, e.g. node-image-audit/my-service:latest */
  tag: string;
  /** The build is cancelled after this long. */
  timeoutMs: number;
  /** 'auto' (default): BuildKit, the classic builder only where BuildKit is unavailable. */
  builder?: 'auto' | 'classic';
  onProgress?: (line: string) => void;
  /** The caller's abort: cancels the build. */
  signal?: AbortSignal;
}

export interface BuildResult {
  imageId: string;
  builder: 'buildkit' | 'classic';
  log: string[];
  /** Each completed step and whether it came from the cache, when the stream said so. */
  steps?: Array<{ name: string; cached: boolean }>;
}

export interface ContainerSpec {
  image: string;
  env: string[];
  labels: Record<string, string>;
  /** Overrides merged by the daemon with the image's own: an empty test keeps the image's command. */
  healthcheck?: Partial<HealthcheckConfig>;
  /** Replaces the image's entrypoint and cmd (used for file-reading containers that never start). */
  entrypoint?: string[];
  cmd?: string[];
  /** Host-protecting limits; 0 or undefined means none. Init is always off: PID 1 is what the image says. */
  memoryBytes?: number;
  pidsLimit?: number;
  /** 'bridge' (default), 'none', or a network name. */
  network?: string;
  /** As Kubernetes would run it (--manifest): the user ("uid[:gid]"), working directory, read-only root and tmpfs mounts (path → options). */
  user?: string;
  workingDir?: string;
  readOnlyRootfs?: boolean;
  tmpfs?: Record<string, string>;
}

/** One change to a container's filesystem against its image (`docker diff`). */
export interface FilesystemChange {
  path: string;
  kind: 'modified' | 'added' | 'deleted';
}

/** One reading of the stats endpoint: the cgroup's memory figures, in bytes. */
export interface MemoryStats {
  /** usage as the daemon reports it (cgroup v2: memory.current). */
  usageBytes: number;
  /** usage minus the inactive page cache, as `docker stats` shows it. */
  workingSetBytes: number;
  /** The cgroup's high-water mark, where the engine gives one (cgroup v1 max_usage). */
  maxUsageBytes?: number;
  limitBytes: number;
}

/** What the daemon is: a user-namespaced or rootless daemon shows host uids that are not the container's. */
export interface DaemonInfo {
  serverVersion: string;
  /** Security options as /info lists them, e.g. ["name=seccomp,profile=default", "name=userns"]. */
  securityOptions: string[];
  userns: boolean;
  rootless: boolean;
  /** "docker" or "podman" (from the version's components). */
  engine: 'docker' | 'podman';
  /** The engine's CPU count (NCPU of /info), when it says: a fleet's default parallelism on it. */
  cpus?: number;
}

/** One container event, with the daemon's own timestamp. */
export interface ContainerEvent {
  /** e.g. "start", "die", "kill", "health_status: healthy", "exec_start: node -e …" */
  action: string;
  /** Milliseconds since the epoch, on the daemon's clock. */
  timeMs: number;
  attributes: Record<string, string>;
}

export interface ExecRequest {
  argv: string[];
  /** Defaults to the image's USER. */
  user?: string;
  env?: string[];
  workingDir?: string;
  /** The exec is abandoned (its stream destroyed) when this aborts; the process may linger until the container stops. */
  signal?: AbortSignal;
  /** Bound on the whole exec: it rejects with a timeout error past it. */
  timeoutMs: number;
  /** Each complete stdout line as it arrives (for long-running helpers that report events). */
  onStdoutLine?: (line: string) => void;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface HealthProbe {
  start: string;
  end: string;
  exitCode: number;
  output: string;
}

export interface ContainerState {
  status: string;
  running: boolean;
  /** Host pid of the container's PID 1 (0 when not running). */
  pid: number;
  exitCode: number;
  oomKilled: boolean;
  error: string;
  startedAt: string;
  finishedAt: string;
  health?: { status: string; failingStreak: number; log: HealthProbe[] };
}

/** One row of the container's process table, as `ps` on the host sees it (host pids). */
export interface ProcessRow {
  pid: number;
  ppid: number;
  uid: number;
  gid: number;
  args: string;
  /**
   * The executable (/proc/<pid>/exe as the host's ps reads it, a path inside the container): undefined
   * when the engine's listing has no such column (Podman, a ps without `exe`), null when ps could not read it.
   */
  exe?: string | null;
  /**
   * ps's state of the process (its main thread): `S` sleeping (an idle event loop waits in epoll), `R`
   * running or runnable, `D` in a disk wait, … ; undefined when the engine's listing has no such column (a psgo
   * without the `state` descriptor, a test's fake).
   */
  state?: string;
}

export interface PathStat {
  name: string;
  sizeBytes: number;
  isDirectory: boolean;
  linkTarget: string;
}

/** Every call that waits accepts the caller's AbortSignal; an aborted call rejects with an AbortError. */
export interface CallOptions {
  signal?: AbortSignal;
}

export interface DockerPort {
  /** Answers within a bound or throws DaemonUnreachableError. */
  ping(): Promise<void>;
  info(): Promise<DaemonInfo>;
  build(request: BuildRequest): Promise<BuildResult>;
  /** Throws ImageNotFoundError when the daemon has no such image. */
  inspectImage(ref: string): Promise<ImageInfo>;
  imageHistory(ref: string): Promise<LayerHistory[]>;
  createContainer(spec: ContainerSpec): Promise<string>;
  startContainer(id: string): Promise<void>;
  inspectContainer(id: string, options?: CallOptions): Promise<ContainerState>;
  /** Sends a signal: 'sent', or 'not-running' when the container had already stopped (409). */
  signal(id: string, signal: string): Promise<'sent' | 'not-running'>;
  /** Resolves with the exit code once the container stops; bounded by the caller's signal. */
  waitForExit(id: string, options?: CallOptions): Promise<number>;
  /** The container's events from `sinceMs` (daemon clock) on, until the signal aborts. */
  containerEvents(id: string, sinceMs: number, options: CallOptions): AsyncIterable<ContainerEvent>;
  processes(id: string, options?: CallOptions): Promise<ProcessRow[]>;
  /** Runs a program in the running container (no shell involved). */
  exec(id: string, request: ExecRequest): Promise<ExecResult>;
  /**
   * Starts a created container and follows its output until it exits (for helper containers that
   * report events on stdout): its exit code and output, like an exec's.
   */
  runToExit(id: string, request: Pick<ExecRequest, 'signal' | 'timeoutMs' | 'onStdoutLine'>): Promise<ExecResult>;
  /** The image as `docker save` writes it (a tar of layer tars), streamed: each chunk lent (chunk-source.ts). */
  exportImage(ref: string, options?: CallOptions & { sizeBytes?: number }): Promise<ChunkSource>;
  /** Removes an image (by id or tag); one that is gone or in use is not an error. */
  removeImage(ref: string): Promise<void>;
  /** undefined when the path does not exist in the container's filesystem. */
  statPath(id: string, path: string, options?: CallOptions): Promise<PathStat | undefined>;
  /** A regular file's content (symlinks followed), or undefined when there is none. */
  readFile(id: string, path: string, options?: CallOptions): Promise<Buffer | undefined>;
  /** The tar of a path (the archive endpoint), streamed, each chunk lent; undefined when it does not exist. */
  archive(id: string, path: string, options?: CallOptions): Promise<ChunkSource | undefined>;
  /** The last lines of stdout and stderr, interleaved as written. */
  logs(id: string, tailLines: number, options?: CallOptions): Promise<string[]>;
  /** What the container changed in its filesystem against the image (GET /containers/{id}/changes). */
  containerChanges(id: string, options?: CallOptions): Promise<FilesystemChange[]>;
  /** One stats reading (no stream) of a running container. */
  memoryStats(id: string, options?: CallOptions): Promise<MemoryStats>;
  /** Force-removes; a container already gone is not an error. */
  removeContainer(id: string): Promise<void>;
  /** Every container (stopped ones too), or those with the label ("key" or "key=value"). */
  listContainers(labelFilter?: string): Promise<string[]>;
  /** Containers with the label, with all their labels. */
  listLabelledContainers(labelFilter: string): Promise<Array<{ id: string; labels: Record<string, string>; state: string }>>;
  /** Every repo:tag the daemon has. */
  listImageTags(): Promise<string[]>;
}
