// The Docker port implemented with dockerode: the only module that imports it.
import Docker from 'dockerode';
import { posix as pathPosix } from 'node:path';
import type { Readable } from 'node:stream';
import * as tarStream from 'tar-stream';
import { BuildFailedError, DaemonUnreachableError, DockerApiError, ImageNotFoundError } from '../errors.js';
import { withinMs } from '../wait.js';
import { parseBuildStream } from './build-stream.js';
import { demuxLogs } from './logs.js';
import type {
  BuildRequest,
  BuildResult,
  ContainerSpec,
  ContainerState,
  DockerPort,
  ImageInfo,
  LayerHistory,
  PathStat,
  ProcessRow,
} from './port.js';

/** Calls other than builds and waits answer within this, or we say the daemon stopped answering. */
const CALL_BOUND_MS = 30_000;
const PING_BOUND_MS = 8_000;

type DockerodeError = Error & { statusCode?: number; code?: string; json?: { message?: string } | string };

function daemonAddress(): string {
  return process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
}

function apiMessage(err: DockerodeError): string {
  if (typeof err.json === 'object' && err.json?.message) return err.json.message;
  if (typeof err.json === 'string' && err.json.trim()) return err.json.trim();
  return err.message.replace(/^\(HTTP code \d+\) [a-z ]+ - /, '');
}

function isConnectionError(err: DockerodeError): boolean {
  return ['ECONNREFUSED', 'ENOENT', 'EACCES', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE'].includes(
    err.code ?? '',
  );
}

function toAuditError(err: unknown, what: string): Error {
  const e = err as DockerodeError;
  if (isConnectionError(e)) {
    return new DaemonUnreachableError(`Docker daemon stopped answering at ${daemonAddress()} (${e.code}) while ${what}`);
  }
  return new DockerApiError(`Docker refused ${what}: ${apiMessage(e) || `HTTP ${e.statusCode}`}`, e.statusCode);
}

async function bounded<T>(promise: Promise<T>, what: string, ms = CALL_BOUND_MS): Promise<T> {
  let result: { value: T } | undefined;
  try {
    result = await withinMs(promise, ms);
  } catch (err) {
    throw toAuditError(err, what);
  }
  if (!result) throw new DaemonUnreachableError(`Docker daemon did not answer within ${ms / 1000} s while ${what}`);
  return result.value;
}

/** An image call whose 404 means the image is not there (inspect and history run side by side). */
async function imageCall<T>(ref: string, call: Promise<T>, what: string): Promise<T> {
  try {
    return await bounded(call, what);
  } catch (err) {
    if (err instanceof DockerApiError && err.statusCode === 404) {
      throw new ImageNotFoundError(`Image not found in the daemon: ${ref}`, [
        'Build it first, or give a build context directory instead (nothing is pulled).',
      ]);
    }
    throw err;
  }
}

function nsToNumber(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

export class DockerodePort implements DockerPort {
  private readonly docker: Docker;

  constructor(docker = new Docker()) {
    // With no options dockerode reads DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH itself.
    this.docker = docker;
  }

  async ping(): Promise<void> {
    let answered: { value: unknown } | undefined;
    try {
      answered = await withinMs(this.docker.ping(), PING_BOUND_MS);
    } catch (err) {
      const e = err as DockerodeError;
      throw new DaemonUnreachableError(`Docker daemon unreachable at ${daemonAddress()}: ${e.code ?? apiMessage(e)}`, [
        'Start Docker (or scripts/ensure-docker.sh), or point DOCKER_HOST at a running engine.',
      ]);
    }
    if (!answered) {
      throw new DaemonUnreachableError(
        `Docker daemon unreachable at ${daemonAddress()}: no answer within ${PING_BOUND_MS / 1000} s`,
      );
    }
  }

  async build(request: BuildRequest): Promise<BuildResult> {
    if (request.builder === 'classic') return this.buildWith('classic', request);
    try {
      return await this.buildWith('buildkit', request);
    } catch (err) {
      // Only a daemon without BuildKit sends us to the classic builder; a failing Dockerfile does not.
      if (err instanceof BuildFailedError || !/buildkit|session/i.test((err as Error).message)) throw err;
      request.onProgress?.(`BuildKit unavailable (${(err as Error).message}); using the classic builder`);
      return this.buildWith('classic', request);
    }
  }

  private async buildWith(builder: 'buildkit' | 'classic', request: BuildRequest, retried = false): Promise<BuildResult> {
    const options: Record<string, unknown> = {
      dockerfile: request.dockerfile,
      buildargs: request.buildArgs,
      t: request.tag,
      rm: true,
      // A failed classic build leaves its intermediate container unless forcerm is set.
      forcerm: true,
    };
    if (request.target) options.target = request.target;
    if (builder === 'buildkit') options.version = '2';
    // A build that hangs (a step waiting on a network that never answers) is cancelled at the bound.
    const abort = new AbortController();
    options.abortSignal = abort.signal;
    const timer = setTimeout(() => abort.abort(), request.timeoutMs);
    let outcome: Awaited<ReturnType<typeof parseBuildStream>>;
    try {
      const stream = await this.docker.buildImage(request.context() as unknown as NodeJS.ReadableStream, options);
      outcome = await parseBuildStream(stream as unknown as Readable, builder, request.onProgress);
    } catch (err) {
      if (abort.signal.aborted) {
        throw new BuildFailedError(`Build did not finish within ${Math.round(request.timeoutMs / 1000)} s and was cancelled`, undefined, []);
      }
      const e = err as DockerodeError;
      if (isConnectionError(e)) throw toAuditError(err, 'building');
      throw new DockerApiError(`Docker refused the build: ${apiMessage(e)}`);
    } finally {
      clearTimeout(timer);
    }
    if (outcome.error !== undefined && outcome.failedElsewhere && !retried) {
      // The failing step ran in a concurrent build that BuildKit shared with ours; failures are not
      // cached, so one more build runs it here and shows its output.
      return this.buildWith(builder, request, true);
    }
    if (outcome.error !== undefined) {
      const step = outcome.failingStep ? ` at ${outcome.failingStep}` : '';
      throw new BuildFailedError(`Build failed${step}: ${outcome.error}`, outcome.failingStep, outcome.failingOutput);
    }
    if (!outcome.imageId) throw new BuildFailedError('Build ended without an image id', undefined, outcome.log.slice(-20));
    return { imageId: outcome.imageId, builder, log: outcome.log };
  }

  async inspectImage(ref: string): Promise<ImageInfo> {
    const raw = await imageCall(ref, this.docker.getImage(ref).inspect(), `inspecting image ${ref}`);
    const config = raw.Config ?? ({} as Docker.ImageInspectInfo['Config']);
    const hc = (config as { Healthcheck?: Record<string, unknown> }).Healthcheck;
    const test = Array.isArray(hc?.Test) ? (hc!.Test as string[]) : [];
    return {
      id: raw.Id,
      tags: raw.RepoTags ?? [],
      sizeBytes: raw.Size,
      config: {
        user: config.User ?? '',
        entrypoint: (config.Entrypoint as string[] | null) ?? [],
        cmd: (config.Cmd as string[] | null) ?? [],
        workingDir: config.WorkingDir ?? '',
        env: config.Env ?? [],
        stopSignal: (config as { StopSignal?: string }).StopSignal || 'SIGTERM',
        healthcheck:
          test.length > 0 && test[0] !== 'NONE'
            ? {
                test,
                intervalNs: nsToNumber(hc!.Interval),
                timeoutNs: nsToNumber(hc!.Timeout),
                startPeriodNs: nsToNumber(hc!.StartPeriod),
                retries: nsToNumber(hc!.Retries),
              }
            : undefined,
      },
    };
  }

  async imageHistory(ref: string): Promise<LayerHistory[]> {
    const rows = (await imageCall(ref, this.docker.getImage(ref).history(), `reading the history of ${ref}`)) as Array<{
      CreatedBy: string;
      Size: number;
      Created: number;
    }>;
    return rows.map((row) => ({
      createdBy: row.CreatedBy,
      sizeBytes: row.Size,
      created: new Date(row.Created * 1000).toISOString(),
    }));
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    const options: Docker.ContainerCreateOptions = { Image: spec.image, Env: spec.env, Labels: spec.labels };
    if (spec.entrypoint) options.Entrypoint = spec.entrypoint;
    if (spec.cmd) options.Cmd = spec.cmd;
    if (spec.healthcheck) {
      const h = spec.healthcheck;
      options.Healthcheck = {
        Test: h.test,
        Interval: h.intervalNs,
        Timeout: h.timeoutNs,
        StartPeriod: h.startPeriodNs,
        Retries: h.retries,
      };
    }
    const container = await bounded(this.docker.createContainer(options), `creating a container of ${spec.image}`);
    return container.id;
  }

  async startContainer(id: string): Promise<void> {
    await bounded(this.docker.getContainer(id).start(), 'starting the container');
  }

  async inspectContainer(id: string): Promise<ContainerState> {
    const raw = await bounded(this.docker.getContainer(id).inspect(), 'inspecting the container');
    const s = raw.State as Docker.ContainerInspectInfo['State'] & {
      Health?: { Status: string; FailingStreak: number; Log: Array<Record<string, unknown>> | null };
    };
    return {
      status: s.Status,
      running: s.Running,
      pid: s.Pid,
      exitCode: s.ExitCode,
      oomKilled: s.OOMKilled,
      error: s.Error,
      startedAt: s.StartedAt,
      finishedAt: s.FinishedAt,
      health: s.Health
        ? {
            status: s.Health.Status,
            failingStreak: s.Health.FailingStreak,
            log: (s.Health.Log ?? []).map((probe) => ({
              start: String(probe.Start),
              end: String(probe.End),
              exitCode: Number(probe.ExitCode),
              output: String(probe.Output ?? ''),
            })),
          }
        : undefined,
    };
  }

  async signal(id: string, signal: string): Promise<void> {
    try {
      await bounded(this.docker.getContainer(id).kill({ signal }), `sending ${signal}`);
    } catch (err) {
      // 409: the container is not running any more, which is what a signal aims at anyway.
      if (err instanceof DockerApiError && (err.statusCode === 409 || /is not running/i.test(err.message))) return;
      throw err;
    }
  }

  async waitForExit(id: string): Promise<number> {
    try {
      const result = (await this.docker.getContainer(id).wait()) as { StatusCode: number };
      return result.StatusCode;
    } catch (err) {
      throw toAuditError(err, 'waiting for the container to exit');
    }
  }

  async processes(id: string): Promise<ProcessRow[]> {
    // `ps` runs on the host; -e is needed because docker filters the rows by the container's pids.
    const top = (await bounded(
      this.docker.getContainer(id).top({ ps_args: '-eo pid,ppid,uid,gid,args' }),
      'listing the container processes',
    )) as { Titles: string[]; Processes: string[][] | null };
    const col = (name: string) => top.Titles.findIndex((t) => t.trim().toUpperCase() === name);
    const [pid, ppid, uid, gid, args] = ['PID', 'PPID', 'UID', 'GID', 'COMMAND'].map(col);
    return (top.Processes ?? []).map((row) => ({
      pid: Number(row[pid]),
      ppid: Number(row[ppid]),
      uid: Number(row[uid]),
      gid: Number(row[gid]),
      args: row[args >= 0 ? args : row.length - 1],
    }));
  }

  async statPath(id: string, path: string): Promise<PathStat | undefined> {
    let response: { headers?: Record<string, string>; resume?: () => void };
    try {
      response = (await bounded(
        this.docker.getContainer(id).infoArchive({ path }) as Promise<unknown>,
        `reading ${path} from the image`,
      )) as typeof response;
    } catch (err) {
      if (err instanceof DockerApiError && err.statusCode === 404) return undefined;
      throw err;
    }
    response.resume?.();
    const header = response.headers?.['x-docker-container-path-stat'];
    if (!header) return undefined;
    const stat = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as {
      name: string;
      size: number;
      mode: number;
      linkTarget: string;
    };
    // Go's os.ModeDir is the top bit of a uint32.
    return { name: stat.name, sizeBytes: stat.size, isDirectory: (stat.mode & 0x80000000) !== 0, linkTarget: stat.linkTarget };
  }

  private async archive(id: string, path: string): Promise<Readable | undefined> {
    try {
      return (await bounded(
        this.docker.getContainer(id).getArchive({ path }) as Promise<unknown>,
        `reading ${path} from the image`,
      )) as Readable;
    } catch (err) {
      if (err instanceof DockerApiError && err.statusCode === 404) return undefined;
      throw err;
    }
  }

  async readFile(id: string, path: string): Promise<Buffer | undefined> {
    let current = path;
    for (let hops = 0; hops < 8; hops++) {
      const stream = await this.archive(id, current);
      if (!stream) return undefined;
      const entry = await firstTarEntry(stream);
      if (!entry) return undefined;
      if (entry.type === 'file') return entry.content;
      if (entry.type !== 'symlink' || !entry.linkname) return undefined;
      current = pathPosix.resolve(pathPosix.dirname(current), entry.linkname);
    }
    return undefined;
  }

  async treeSizeBytes(id: string, path: string): Promise<number> {
    const stream = await this.archive(id, path);
    if (!stream) return 0;
    const extract = tarStream.extract();
    let total = 0;
    const done = new Promise<void>((resolve, reject) => {
      extract.on('entry', (header, content, next) => {
        if (header.type === 'file') total += header.size ?? 0;
        content.on('end', next);
        content.resume();
      });
      extract.on('finish', resolve);
      extract.on('error', reject);
    });
    stream.pipe(extract);
    await bounded(done, `measuring ${path}`, 120_000);
    return total;
  }

  async logs(id: string, tailLines: number): Promise<string[]> {
    const raw = (await bounded(
      this.docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false, tail: tailLines }) as Promise<unknown>,
      'reading the container logs',
    )) as Buffer;
    return demuxLogs(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)));
  }

  async removeContainer(id: string): Promise<void> {
    try {
      await bounded(this.docker.getContainer(id).remove({ force: true, v: true }), 'removing the container');
    } catch (err) {
      // 404: already gone; 409 "removal already in progress": someone else is removing it.
      if (err instanceof DockerApiError && (err.statusCode === 404 || /already in progress/i.test(err.message))) return;
      throw err;
    }
  }

  async listContainers(labelFilter?: string): Promise<string[]> {
    const rows = await bounded(
      this.docker.listContainers({ all: true, ...(labelFilter ? { filters: { label: [labelFilter] } } : {}) }),
      'listing containers',
    );
    return rows.map((row) => row.Id);
  }

  async listImageTags(): Promise<string[]> {
    const rows = await bounded(this.docker.listImages(), 'listing images');
    return rows.flatMap((row) => row.RepoTags ?? []).filter((tag) => tag !== '<none>:<none>');
  }
}

interface TarEntry {
  type: string;
  linkname?: string;
  content: Buffer;
}

async function firstTarEntry(stream: Readable): Promise<TarEntry | undefined> {
  const extract = tarStream.extract();
  let first: TarEntry | undefined;
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, content, next) => {
      if (first) {
        content.on('end', next);
        content.resume();
        return;
      }
      drain(content as unknown as Readable).then((buffer) => {
        first = { type: header.type ?? 'file', linkname: header.linkname ?? undefined, content: buffer };
        next();
      }, reject);
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  stream.pipe(extract);
  await bounded(done, 'reading a file from the image', 60_000);
  return first;
}
