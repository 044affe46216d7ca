// The one port over the Docker daemon, in our own types. Only src/docker/dockerode-port.ts implements it
// with dockerode; unit tests may put a fake behind it.
import type { Readable } from 'node:stream';

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
  /** Absent when the image declares no HEALTHCHECK (or `HEALTHCHECK NONE`). */
  healthcheck?: HealthcheckConfig;
}

export interface ImageInfo {
  id: string;
  tags: string[];
  sizeBytes: number;
  config: ImageConfig;
}

export interface LayerHistory {
  createdBy: string;
  sizeBytes: number;
  created: string;
}

export interface BuildRequest {
  /** Called once per attempt: a fallback to the classic builder needs a fresh stream. */
  context: () => Readable;
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
}

export interface BuildResult {
  imageId: string;
  builder: 'buildkit' | 'classic';
  log: string[];
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
}

export interface PathStat {
  name: string;
  sizeBytes: number;
  isDirectory: boolean;
  linkTarget: string;
}

export interface DockerPort {
  /** Answers within a bound or throws DaemonUnreachableError. */
  ping(): Promise<void>;
  build(request: BuildRequest): Promise<BuildResult>;
  /** Throws ImageNotFoundError when the daemon has no such image. */
  inspectImage(ref: string): Promise<ImageInfo>;
  imageHistory(ref: string): Promise<LayerHistory[]>;
  createContainer(spec: ContainerSpec): Promise<string>;
  startContainer(id: string): Promise<void>;
  inspectContainer(id: string): Promise<ContainerState>;
  /** Sends a signal; a container that already stopped is not an error. */
  signal(id: string, signal: string): Promise<void>;
  /** Resolves with the exit code once the container stops; callers bound the wait. */
  waitForExit(id: string): Promise<number>;
  processes(id: string): Promise<ProcessRow[]>;
  /** undefined when the path does not exist in the container's filesystem. */
  statPath(id: string, path: string): Promise<PathStat | undefined>;
  /** A regular file's content (symlinks followed), or undefined when there is none. */
  readFile(id: string, path: string): Promise<Buffer | undefined>;
  /** Total size of the regular files below a path (0 when it does not exist). */
  treeSizeBytes(id: string, path: string): Promise<number>;
  /** The last lines of stdout and stderr, interleaved as written. */
  logs(id: string, tailLines: number): Promise<string[]>;
  /** Force-removes; a container already gone is not an error. */
  removeContainer(id: string): Promise<void>;
  /** Every container (stopped ones too), or those with the label ("key" or "key=value"). */
  listContainers(labelFilter?: string): Promise<string[]>;
  /** Every repo:tag the daemon has. */
  listImageTags(): Promise<string[]>;
}
