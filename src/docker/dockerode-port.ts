// The Docker port implemented with dockerode: the only module that imports it.
import Docker from 'dockerode';
import path, { posix as pathPosix } from 'node:path';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { pipeline as pipeStreams, Transform, Writable, type Readable } from 'node:stream';
import * as tarStream from 'tar-stream';
import { BuildFailedError, DaemonUnreachableError, DockerApiError, ImageNotFoundError, NotADockerDaemonError } from '../errors.js';
import { withinMs } from '../wait.js';
import { pipeline } from 'node:stream/promises';
import { parseBuildStream, SharedStepFailedError, type BuildOutcome } from './build-stream.js';
import { openBuildKitSession, type BuildKitSession, type SessionModem } from './buildkit/session.js';
import { demuxLogs, frameReader } from './logs.js';
import { chunksOf, type ChunkSource } from './chunk-source.js';
import { rawGet, type RawEndpoint, type RawResponse } from './raw-http.js';
import { parseGroup, parsePasswd } from '../etc-files.js';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Agent as HttpsAgent } from 'node:https';
import { describeEngine, modemOptions, selectEngine, type Engine } from './engine.js';
import type {
  CallOptions,
  ContainerEvent,
  DaemonInfo,
  ExecRequest,
  ExecResult,
  BuildRequest,
  BuildResult,
  ContainerSpec,
  ContainerState,
  DockerPort,
  ImageInfo,
  LayerHistory,
  PathStat,
  FilesystemChange,
  MemoryStats,
  ProcessRow,
} from './port.js';

/** Calls other than builds and waits answer within this, or we say the daemon stopped answering. */
const CALL_BOUND_MS = 30_000;
const PING_BOUND_MS = 8_000;

export interface DockerodePortOptions {
  /**
   * How long the build path waits for a sign of life from the daemon: the BuildKit session switched to
   * h2c, the build request answered (its response headers), the classic builder reading the context and
   * answering once it has it all. Default CALL_BOUND_MS. Once the build's answer began there is no such
   * bound (a step may print nothing for long): only the build timeout.
   */
  answerBoundMs?: number;
}

type DockerodeError = Error & { statusCode?: number; code?: string; json?: { message?: string } | string };

interface PingAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The engine the calls in progress talk to, for messages: set by the port of an engine (enginePort), so
 * several engines in one process (a fleet) each name their own. */
const engineInUse = new AsyncLocalStorage<Engine>();

function daemonAddress(): string {
  const engine = engineInUse.getStore();
  if (engine) return engine.source === 'default' || engine.source === 'DOCKER_HOST' || engine.name === engine.host ? engine.host : `${engine.host} (${engine.name})`;
  return process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
}

/** The address as the user set it: "DOCKER_HOST=tcp://…", "context second (unix:///…)", or the default socket. */
function daemonSetting(): string {
  const engine = engineInUse.getStore();
  if (engine) return engine.source === 'default' ? engine.host : describeEngine(engine);
  return process.env.DOCKER_HOST ? `DOCKER_HOST=${process.env.DOCKER_HOST}` : 'unix:///var/run/docker.sock';
}

/** Every HTTP status is an answer to read (docker-modem rejects the ones a statusCodes map does not hold). */
const ANY_STATUS = new Proxy({}, { get: () => true });

/** A short, single-line, printable excerpt of what a server said. */
function excerpt(text: string, maxChars = 80): string {
  // eslint-disable-next-line no-control-regex
  const line = text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').replace(/\s+/g, ' ').trim();
  return line.length > maxChars ? `${line.slice(0, maxChars - 1)}…` : line;
}

/**
 * Aborts its signal when `ms` pass without a kick: a request that must show signs of life (a session
 * opened, a response begun, the context read) ends at the bound instead of at the build timeout.
 */
class Watchdog {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  /** What was awaited when it fired. */
  fired: string | undefined;
  constructor(
    private readonly ms: number,
    /** What is awaited now, for the message ("opening the BuildKit session (POST /session)"). */
    public awaiting: string,
  ) {
    this.kick();
  }
  get signal(): AbortSignal {
    return this.controller.signal;
  }
  kick(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.fired = this.awaiting;
      this.controller.abort(new Error(`no answer within ${this.ms} ms while ${this.awaiting}`));
    }, this.ms);
  }
  stop(): void {
    clearTimeout(this.timer);
  }
  error(): DaemonUnreachableError {
    return new DaemonUnreachableError(`Docker daemon at ${daemonAddress()} did not answer within ${this.ms / 1000} s while ${this.fired}`, [
      'It answered the ping, then stopped answering: check the daemon, or whatever DOCKER_HOST points at.',
    ]);
  }
}

/**
 * A build's requests until its answer begins, each watched by a Watchdog of its own: a daemon that answers
 * the ping and then nothing (or a stuck proxy) ends there, not at the build timeout.
 */
class AnswerWatch {
  /** The request watched now, or last. */
  current: Watchdog | undefined;
  constructor(
    private readonly ms: number,
    private readonly abortSignal: AbortSignal,
  ) {}

  async call<T>(awaiting: string, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const dog = (this.current = new Watchdog(this.ms, awaiting));
    const pending = call(AbortSignal.any([this.abortSignal, dog.signal]));
    // Given up on, not only aborted (a call that ignores its signal still ends here); what it may still
    // bring (a session, a stream) is closed.
    const givenUp = new Promise<never>((_, reject) => dog.signal.addEventListener('abort', () => reject(dog.signal.reason), { once: true }));
    givenUp.catch(() => undefined);
    pending.then(
      (late) => {
        if (!dog.fired) return;
        const value = late as { close?: () => void; destroy?: () => void } | undefined;
        if (typeof value?.close === 'function') value.close();
        else if (typeof value?.destroy === 'function') value.destroy();
      },
      () => undefined,
    );
    try {
      return await Promise.race([pending, givenUp]);
    } finally {
      dog.stop();
    }
  }
}

/** The build's query: what to build, with which builder ('2' is BuildKit). */
function buildQuery(builder: 'buildkit' | 'classic', request: BuildRequest): Record<string, unknown> {
  return {
    dockerfile: request.dockerfile,
    buildargs: request.buildArgs,
    t: request.tag,
    rm: true,
    // A failed classic build leaves its intermediate container unless forcerm is set.
    forcerm: true,
    ...(request.target ? { target: request.target } : {}),
    ...(builder === 'buildkit' ? { version: '2' } : {}),
  };
}

/** The build's answer read to its end; an abort after it began ends the stream we read, not only the request. */
async function readBuildStream(stream: Readable, builder: 'buildkit' | 'classic', onProgress: BuildRequest['onProgress'], abortSignal: AbortSignal): Promise<BuildOutcome> {
  const onAbort = () => stream.destroy(new Error('build cancelled'));
  abortSignal.addEventListener('abort', onAbort, { once: true });
  try {
    return await parseBuildStream(stream, builder, onProgress);
  } finally {
    abortSignal.removeEventListener('abort', onAbort);
  }
}

/** What a build that threw says: the daemon went silent, the build was cancelled or timed out, or refused. */
function buildError(err: unknown, watch: AnswerWatch, timeout: AbortSignal, timeoutMs: number, abortSignal: AbortSignal): Error {
  if (watch.current?.fired && !abortSignal.aborted) return watch.current.error();
  if (abortSignal.aborted) {
    const why = timeout.aborted ? `did not finish within ${Math.round(timeoutMs / 1000)} s and was cancelled` : 'was cancelled';
    return new BuildFailedError(`Build ${why}`, undefined, []);
  }
  const e = err as DockerodeError;
  if (isConnectionError(e)) return toAuditError(err, 'building');
  return new DockerApiError(`Docker refused the build: ${apiMessage(e)}`, e.statusCode);
}

/** A build read to its end: its image, or the step that failed with its output. */
function buildResult(outcome: BuildOutcome, builder: 'buildkit' | 'classic'): BuildResult {
  if (outcome.error !== undefined) {
    const step = outcome.failingStep ? ` at ${outcome.failingStep}` : '';
    // A step BuildKit shared with a concurrent build failed there: the policy may build once more.
    const Failure = outcome.failedElsewhere ? SharedStepFailedError : BuildFailedError;
    throw new Failure(`Build failed${step}: ${outcome.error}`, outcome.failingStep, outcome.failingOutput);
  }
  if (!outcome.imageId) throw new BuildFailedError('Build ended without an image id', undefined, outcome.log.slice(-20));
  return { imageId: outcome.imageId, builder, log: outcome.log, steps: outcome.steps };
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

async function bounded<T>(promise: Promise<T>, what: string, ms = CALL_BOUND_MS, signal?: AbortSignal): Promise<T> {
  let result: { value: T } | undefined;
  try {
    result = await withinMs(promise, ms, signal);
  } catch (err) {
    if (signal?.aborted) throw abortError(signal);
    throw toAuditError(err, what);
  }
  if (!result) throw new DaemonUnreachableError(`Docker daemon did not answer within ${ms / 1000} s while ${what}`);
  return result.value;
}

/** An image call whose 404 means the image is not there (inspect and history run side by side). */
async function imageCall<T>(ref: string, call: Promise<T>, what: string, ms = CALL_BOUND_MS): Promise<T> {
  try {
    return await bounded(call, what, ms);
  } catch (err) {
    if (err instanceof DockerApiError && err.statusCode === 404) throw imageNotFound(ref);
    throw err;
  }
}

function imageNotFound(ref: string): ImageNotFoundError {
  return new ImageNotFoundError(`Image not found in the daemon: ${ref}`, ['Build it first, or give a build context directory instead (nothing is pulled).']);
}

/** What an aborted call rejects with: the caller's reason when it is an error, else an AbortError. */
export function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('The operation was aborted', 'AbortError');
}

function nsToNumber(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** A process listing: its rows and, for each column asked for by name, its index (-1: absent). */
interface TopTable {
  rows: string[][];
  at: number[];
}

/** Docker's rows (`ps` on the host) as ProcessRows: PID, PPID, UID, GID, COMMAND, EXE, STAT, by index. */
function dockerProcessRows({ rows, at }: TopTable): ProcessRow[] {
  const [pid, ppid, uid, gid, args, exe, stat] = at;
  return rows.map((row) => {
    let command = row[args >= 0 ? args : row.length - 1];
    let executable: string | null | undefined = exe >= 0 ? row[exe] : undefined;
    // The daemon splits ps's lines on spaces: a replaced binary's " (deleted)" lands in front of the args.
    if (executable && command.startsWith('(deleted) ')) {
      executable += ' (deleted)';
      command = command.slice('(deleted) '.length);
    }
    if (executable === '-' || executable === '') executable = null;
    return {
      pid: Number(row[pid]),
      ppid: Number(row[ppid]),
      uid: Number(row[uid]),
      gid: Number(row[gid]),
      args: command,
      ...(executable !== undefined ? { exe: executable } : {}),
      ...(stat >= 0 && row[stat] ? { state: row[stat] } : {}),
    };
  });
}

export class DockerodePort implements DockerPort {
  private readonly docker: Docker;
  private readonly answerBoundMs: number;

  constructor(docker = new Docker(), options: DockerodePortOptions = {}) {
    // With no options dockerode reads DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH itself.
    this.docker = docker;
    this.answerBoundMs = options.answerBoundMs ?? CALL_BOUND_MS;
  }

  /**
   * Is a Docker (or Podman) API answering? Docker answers GET /_ping with "OK" and an Api-Version header
   * (Podman too); anything else that answers over HTTP (a web server, a proxy's error page) is not one,
   * and is said to be so here, before a build or an inspect misreads its answers.
   */
  async ping(): Promise<void> {
    // The request itself is aborted at the bound, so a silent daemon leaves no socket open behind us.
    const bound = AbortSignal.timeout(PING_BOUND_MS);
    const noAnswer = () =>
      new DaemonUnreachableError(`Docker daemon unreachable at ${daemonAddress()}: no answer within ${PING_BOUND_MS / 1000} s`);
    let answered: { value: PingAnswer } | undefined;
    try {
      answered = await withinMs(this.pingAnswer(bound), PING_BOUND_MS + 100);
    } catch (err) {
      if (bound.aborted) throw noAnswer();
      const e = err as DockerodeError;
      throw new DaemonUnreachableError(`Docker daemon unreachable at ${daemonAddress()}: ${e.code ?? apiMessage(e)}`, [
        'Start Docker (or scripts/ensure-docker.sh), or point DOCKER_HOST at a running engine.',
      ]);
    }
    if (!answered) throw noAnswer();
    const { status, headers, body } = answered.value;
    const apiVersion = headers['api-version'];
    if (status === 200 && body.trim() === 'OK' && apiVersion) return;
    if (apiVersion) {
      throw new DaemonUnreachableError(`Docker daemon at ${daemonAddress()} answered the ping with HTTP ${status}: ${excerpt(body) || '(no message)'}`);
    }
    throw new NotADockerDaemonError(
      `${daemonSetting()} does not answer as a Docker daemon: GET /_ping answered HTTP ${status} "${excerpt(body)}" (a Docker daemon answers "OK" with an Api-Version header)`,
      ['Point DOCKER_HOST at a Docker (or Podman) API endpoint, e.g. unix:///var/run/docker.sock or tcp://host:2375, or unset it.'],
    );
  }

  /** GET /_ping through the modem (so TLS and ssh DOCKER_HOSTs work as for every call): status, headers, the first KiB of the body. */
  private pingAnswer(signal: AbortSignal): Promise<PingAnswer> {
    return new Promise((resolve, reject) =>
      (this.docker.modem as unknown as SessionModem).dial(
        { path: '/_ping', method: 'GET', isStream: true, statusCodes: ANY_STATUS, abortSignal: signal },
        (err, data) => {
          if (err) return reject(err);
          const res = data as IncomingMessage;
          const chunks: Buffer[] = [];
          let size = 0;
          const done = () => {
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
            // Whatever more it sends is not read.
            res.destroy();
          };
          res.on('data', (chunk: Buffer) => {
            chunks.push(chunk);
            size += chunk.length;
            if (size >= 1024) done();
          });
          res.once('end', done);
          res.once('error', reject);
        },
      ),
    );
  }

  async info(): Promise<DaemonInfo> {
    // Podman is told by /libpod/_ping (asked once, and shared with the process listing), not by
    // /version: that costs the daemon ~35 ms of CPU per audit (measured), /libpod/_ping nothing.
    const [info, podman] = await Promise.all([
      bounded(this.docker.info() as Promise<{ SecurityOptions?: string[]; ServerVersion?: string; NCPU?: number }>, 'reading the daemon info'),
      this.isPodman(),
    ]);
    const securityOptions = info.SecurityOptions ?? [];
    const has = (name: string) => securityOptions.some((o) => o.split(',').includes(`name=${name}`));
    const cpus = typeof info.NCPU === 'number' && info.NCPU > 0 ? info.NCPU : undefined;
    return { serverVersion: info.ServerVersion ?? '', securityOptions, userns: has('userns'), rootless: has('rootless'), engine: podman ? 'podman' : 'docker', ...(cpus && { cpus }) };
  }

  /**
   * One build with the builder it is told ('auto' is BuildKit); the policy (fallback, retry, one deadline
   * over all attempts) is src/target/build.ts. Cancelled by request.signal or at request.timeoutMs.
   */
  async build(request: BuildRequest): Promise<BuildResult> {
    return this.buildWith(request.builder === 'classic' ? 'classic' : 'buildkit', request);
  }

  private async buildWith(builder: 'buildkit' | 'classic', request: BuildRequest): Promise<BuildResult> {
    const query = buildQuery(builder, request);
    // Aborting the request makes the daemon cancel the build (BuildKit and classic alike).
    const timeout = AbortSignal.timeout(request.timeoutMs);
    const abortSignal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
    const watch = new AnswerWatch(this.answerBoundMs, abortSignal);
    const opened: { session?: BuildKitSession } = {};
    let outcome: BuildOutcome;
    try {
      abortSignal.throwIfAborted();
      const stream =
        builder === 'buildkit' && request.contextDir ? await this.startFromFolder(query, request, request.contextDir, watch, opened) : await this.startFromTar(query, request, watch);
      outcome = await readBuildStream(stream, builder, request.onProgress, abortSignal);
    } catch (err) {
      throw buildError(err, watch, timeout, request.timeoutMs, abortSignal);
    } finally {
      // Ended, failed or cancelled: the session goes with the build.
      opened.session?.close();
    }
    return buildResult(outcome, builder);
  }

  /**
   * As the docker CLI: BuildKit reads the context folder and the Dockerfile's folder through a session of
   * ours, and applies .dockerignore itself. The build request has no body. The session is handed over
   * in `opened` as soon as it is open, so that it is closed whatever happens next.
   */
  private async startFromFolder(query: Record<string, unknown>, request: BuildRequest, contextDir: string, watch: AnswerWatch, opened: { session?: BuildKitSession }): Promise<Readable> {
    const dockerfileDir = pathPosix.dirname(request.dockerfile);
    const session = await watch.call('opening the BuildKit session (POST /session)', (signal) =>
      openBuildKitSession(this.docker.modem as unknown as SessionModem, {
        dirs: [
          { name: 'context', dir: contextDir, resetOwner: true },
          { name: 'dockerfile', dir: path.join(contextDir, dockerfileDir) },
        ],
        signal,
      }),
    );
    opened.session = session;
    return watch.call('starting the build (POST /build)', (signal) =>
      this.dialBuild({ ...query, dockerfile: pathPosix.basename(request.dockerfile), remote: 'client-session', session: session.id }, signal),
    );
  }

  /**
   * The context as a tar in the request's body (the classic builder, or BuildKit without a folder).
   * dockerode opens a session of its own for version 2 (serving nothing we need): the tar carries all.
   * The upload must progress (the daemon reads it), and the answer come within the bound once it is sent.
   */
  private startFromTar(query: Record<string, unknown>, request: BuildRequest, watch: AnswerWatch): Promise<Readable> {
    return watch.call('sending the build context (POST /build)', (signal) => {
      const progress = new Transform({
        transform(chunk, _encoding, callback) {
          watch.current?.kick();
          callback(null, chunk);
        },
        flush(callback) {
          if (watch.current) {
            watch.current.awaiting = 'starting the build (POST /build), the context sent';
            watch.current.kick();
          }
          callback();
        },
      });
      // An error of the context stream reaches the request through `progress` (docker-modem listens).
      const context = pipeStreams(request.context(), progress, () => undefined);
      return this.docker.buildImage(context as unknown as NodeJS.ReadableStream, { ...query, abortSignal: signal }) as unknown as Promise<Readable>;
    });
  }

  /** POST /build without a body (the context comes through the session), answered with the progress stream. */
  private dialBuild(query: Record<string, unknown>, abortSignal: AbortSignal): Promise<Readable> {
    return new Promise((resolve, reject) =>
      (this.docker.modem as unknown as SessionModem).dial(
        {
          path: '/build?',
          method: 'POST',
          // _query goes to the URL (objects as JSON, as buildImage sends buildargs); an empty _body sends none.
          options: { _query: query, _body: {} },
          abortSignal,
          isStream: true,
          statusCodes: { 200: true, 500: 'server error' },
        },
        (err, data) => (err ? reject(err) : resolve(data as Readable)),
      ),
    );
  }

  async inspectImage(ref: string): Promise<ImageInfo> {
    const raw = await imageCall(ref, this.docker.getImage(ref).inspect(), `inspecting image ${ref}`);
    const config = raw.Config ?? ({} as Docker.ImageInspectInfo['Config']);
    let hc = (config as { Healthcheck?: Record<string, unknown> }).Healthcheck;
    if (!hc) {
      // Podman 4's Docker-compatible inspect leaves the HEALTHCHECK out of Config; its own endpoint has it
      // (Docker answers 404 there: the image has none).
      const libpod = await bounded(
        new Promise<unknown>((resolve, reject) =>
          (this.docker.modem as unknown as { dial(o: object, cb: (e: unknown, d: unknown) => void): void }).dial(
            { path: `/v4.0.0/libpod/images/${encodeURIComponent(ref)}/json`, method: 'GET', statusCodes: { 200: true, 400: 'not podman', 404: 'not podman' } },
            (err, data) => (err ? reject(err) : resolve(data)),
          ),
        ),
        `inspecting image ${ref}`,
      ).catch((err) => (err instanceof DockerApiError ? undefined : Promise.reject(err)));
      hc = (libpod as { Healthcheck?: Record<string, unknown> } | undefined)?.Healthcheck ?? undefined;
    }
    const test = Array.isArray(hc?.Test) ? (hc!.Test as string[]) : [];
    return {
      id: raw.Id,
      tags: raw.RepoTags ?? [],
      sizeBytes: raw.Size,
      layers: Array.isArray(raw.RootFS?.Layers) ? raw.RootFS.Layers : undefined,
      config: {
        user: config.User ?? '',
        entrypoint: (config.Entrypoint as string[] | null) ?? [],
        cmd: (config.Cmd as string[] | null) ?? [],
        workingDir: config.WorkingDir ?? '',
        env: config.Env ?? [],
        stopSignal: (config as { StopSignal?: string }).StopSignal || 'SIGTERM',
        exposedPorts: Object.keys((config as { ExposedPorts?: Record<string, unknown> }).ExposedPorts ?? {}),
        labels: (config as { Labels?: Record<string, string> | null }).Labels ?? {},
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
    const options: Docker.ContainerCreateOptions = {
      Image: spec.image,
      Env: spec.env,
      Labels: spec.labels,
      HostConfig: {
        // A daemon configured with "init": true would otherwise put docker-init at PID 1.
        Init: false,
        Privileged: false,
        NetworkMode: spec.network || 'bridge',
        ...(spec.memoryBytes ? { Memory: spec.memoryBytes } : {}),
        ...(spec.pidsLimit ? { PidsLimit: spec.pidsLimit } : {}),
        ...(spec.readOnlyRootfs ? { ReadonlyRootfs: true } : {}),
        ...(spec.tmpfs && Object.keys(spec.tmpfs).length ? { Tmpfs: spec.tmpfs } : {}),
      },
    };
    if (spec.user !== undefined) options.User = spec.user;
    if (spec.workingDir !== undefined) options.WorkingDir = spec.workingDir;
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

  async containerChanges(id: string, options: CallOptions = {}): Promise<FilesystemChange[]> {
    // docker-modem sometimes hands back a Buffer of stray bytes instead of the parsed list (seen right after
    // exec streams on the same agent): JSON text is parsed, anything else asked again, then an error.
    let raw: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      raw = await bounded(this.docker.getContainer(id).changes({ abortSignal: options.signal } as object) as Promise<unknown>, "listing the container's filesystem changes", CALL_BOUND_MS, options.signal);
      if (Buffer.isBuffer(raw)) {
        try {
          raw = JSON.parse(raw.toString('utf8'));
        } catch {
          // not JSON: ask again
        }
      }
      if (raw === null || Array.isArray(raw)) break;
    }
    if (raw !== null && !Array.isArray(raw)) throw new Error(`the daemon's list of filesystem changes was not a list (${Buffer.isBuffer(raw) ? `${raw.length} bytes` : typeof raw})`);
    const kinds = ['modified', 'added', 'deleted'] as const;
    return ((raw ?? []) as Array<{ Path: string; Kind: number }>).map((c) => ({ path: c.Path, kind: kinds[c.Kind] ?? 'modified' }));
  }

  async memoryStats(id: string, options: CallOptions = {}): Promise<MemoryStats> {
    type Stats = { memory_stats?: { usage?: number; max_usage?: number; limit?: number; stats?: Record<string, number> } };
    let raw: unknown;
    // As for changes: a Buffer is parsed when it is JSON, else asked for again.
    for (let attempt = 0; attempt < 3; attempt++) {
      raw = await bounded(this.docker.getContainer(id).stats({ stream: false, abortSignal: options.signal } as { stream: false }) as Promise<unknown>, "reading the container's stats", CALL_BOUND_MS, options.signal);
      if (Buffer.isBuffer(raw)) {
        try {
          raw = JSON.parse(raw.toString('utf8'));
        } catch {
          // not JSON: ask again
        }
      }
      if (raw && typeof raw === 'object' && !Buffer.isBuffer(raw)) break;
    }
    if (!raw || typeof raw !== 'object' || Buffer.isBuffer(raw)) throw new Error("the daemon's stats were not a JSON object");
    const m = (raw as Stats).memory_stats ?? {};
    const usage = m.usage ?? 0;
    // docker stats: cgroup v2 subtracts inactive_file, v1 total_inactive_file.
    const inactive = m.stats?.inactive_file ?? m.stats?.total_inactive_file ?? 0;
    return { usageBytes: usage, workingSetBytes: Math.max(0, usage - inactive), ...(m.max_usage ? { maxUsageBytes: m.max_usage } : {}), limitBytes: m.limit ?? 0 };
  }

  async startContainer(id: string): Promise<void> {
    await bounded(this.docker.getContainer(id).start(), 'starting the container');
  }

  async inspectContainer(id: string, options: CallOptions = {}): Promise<ContainerState> {
    const raw = await bounded(this.docker.getContainer(id).inspect({ abortSignal: options.signal } as object), 'inspecting the container', CALL_BOUND_MS, options.signal);
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

  async signal(id: string, signal: string): Promise<'sent' | 'not-running'> {
    try {
      await bounded(this.docker.getContainer(id).kill({ signal }), `sending ${signal}`);
      return 'sent';
    } catch (err) {
      // 409: the container is not running any more: the signal reached nothing.
      if (err instanceof DockerApiError && (err.statusCode === 409 || /is not running/i.test(err.message))) return 'not-running';
      throw err;
    }
  }

  async waitForExit(id: string, options: CallOptions = {}): Promise<number> {
    try {
      const result = (await this.docker.getContainer(id).wait({ abortSignal: options.signal } as object)) as { StatusCode: number };
      return result.StatusCode;
    } catch (err) {
      if (options.signal?.aborted) throw abortError(options.signal);
      throw toAuditError(err, 'waiting for the container to exit');
    }
  }

  async *containerEvents(id: string, sinceMs: number, options: CallOptions): AsyncIterable<ContainerEvent> {
    let stream: Readable;
    try {
      stream = (await this.docker.getEvents({
        since: Math.floor(sinceMs / 1000),
        filters: { type: ['container'], container: [id] },
        abortSignal: options.signal,
      } as object)) as unknown as Readable;
    } catch (err) {
      if (options.signal?.aborted) return;
      throw toAuditError(err, 'following the container events');
    }
    const abort = () => stream.destroy();
    options.signal?.addEventListener('abort', abort, { once: true });
    let pending = '';
    let lastHealth: string | undefined = 'starting'; // a container's health begins there without an event
    try {
      for await (const chunk of stream) {
        pending += chunk.toString();
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          if (!line.trim()) continue;
          const raw = JSON.parse(line) as { Action?: string; status?: string; timeNano?: number; time?: number; Actor?: { Attributes?: Record<string, string> } };
          let action = raw.Action ?? raw.status ?? '';
          if (action === 'health_status') {
            // Podman 4 sends a bare "health_status" after every probe, without the status Docker puts in
            // the action ("health_status: healthy", sent on changes only): read it, keep the changes.
            const state = await this.inspectContainer(id, options).catch(() => undefined);
            if (!state?.health?.status || state.health.status === lastHealth) continue;
            lastHealth = state.health.status;
            action = `health_status: ${state.health.status}`;
          }
          yield {
            action,
            timeMs: raw.timeNano ? raw.timeNano / 1e6 : (raw.time ?? 0) * 1000,
            attributes: raw.Actor?.Attributes ?? {},
          };
        }
      }
    } catch (err) {
      if (options.signal?.aborted) return;
      throw toAuditError(err, 'following the container events');
    } finally {
      options.signal?.removeEventListener('abort', abort);
      stream.destroy();
    }
  }

  async exec(id: string, request: ExecRequest): Promise<ExecResult> {
    const timeout = AbortSignal.timeout(request.timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
    const what = `running ${request.argv[0]} in the container`;
    const container = this.docker.getContainer(id);
    const exec = await bounded(
      container.exec({
        Cmd: request.argv,
        AttachStdout: true,
        AttachStderr: true,
        ...(request.user !== undefined ? { User: request.user } : {}),
        ...(request.env ? { Env: request.env } : {}),
        ...(request.workingDir ? { WorkingDir: request.workingDir } : {}),
      }),
      what,
      CALL_BOUND_MS,
      signal,
    );
    const stream = (await bounded(exec.start({ hijack: true, stdin: false, abortSignal: signal } as object) as Promise<unknown>, what, CALL_BOUND_MS, signal)) as Readable;
    const output = await followOutput(stream, request, signal, timeout, what, `${request.argv[0]} in the container`);
    const inspected = (await bounded(exec.inspect(), what, CALL_BOUND_MS, request.signal)) as { ExitCode: number | null };
    return { exitCode: inspected.ExitCode ?? -1, ...output };
  }

  async runToExit(id: string, request: Pick<ExecRequest, 'signal' | 'timeoutMs' | 'onStdoutLine'>): Promise<ExecResult> {
    const timeout = AbortSignal.timeout(request.timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
    const container = this.docker.getContainer(id);
    const what = 'running a helper container';
    await bounded(container.start(), what, CALL_BOUND_MS, signal);
    // Logs with follow start from the container's beginning and end when it exits.
    const stream = (await bounded(
      container.logs({ stdout: true, stderr: true, follow: true, abortSignal: signal } as never) as unknown as Promise<unknown>,
      what,
      CALL_BOUND_MS,
      signal,
    )) as Readable;
    const output = await followOutput(stream, request, signal, timeout, what, 'the helper container');
    const exitCode = await this.waitForExit(id, { signal });
    return { exitCode, ...output };
  }

  async exportImage(ref: string, options: CallOptions & { sizeBytes?: number } = {}): Promise<ChunkSource> {
    // dockerd 20.10 copies the whole image to a temporary folder before it answers: the bound grows with
    // the image (30 s, plus 30 s per GB), or a loaded daemon's large export reads as a dead one.
    const ms = CALL_BOUND_MS + Math.ceil((options.sizeBytes ?? 0) / 1e9) * 30_000;
    const what = `exporting ${ref}`;
    const raw = await this.rawBody(`/images/${ref.split('/').map(encodeURIComponent).join('/')}/get`, what, 'the image export', ms, options.signal);
    if (raw === 'not-found') throw imageNotFound(ref);
    if (raw) return raw;
    // Image.get takes a callback, not options: the abort destroys the stream instead.
    const stream = (await imageCall(ref, this.docker.getImage(ref).get() as unknown as Promise<unknown>, what, ms)) as Readable;
    if (options.signal) {
      const abort = () => stream.destroy(abortError(options.signal!));
      if (options.signal.aborted) abort();
      else options.signal.addEventListener('abort', abort, { once: true });
      stream.once('close', () => options.signal!.removeEventListener('abort', abort));
    }
    return chunksOf(stream, 'the image export');
  }

  /**
   * A large body (an export, an archive) read through the engine's unix socket or plain TCP port into one
   * reused buffer (raw-http.ts): 'not-found' for a 404, the daemon's refusal for another error status.
   * Undefined when the engine is reached through TLS or SSH: then dockerode streams it.
   */
  private async rawBody(apiPath: string, what: string, body: string, ms: number, signal?: AbortSignal): Promise<ChunkSource | 'not-found' | undefined> {
    const modem = this.docker.modem as unknown as { getSocketPath?: () => Promise<string> | undefined; protocol?: string; host?: string; port?: number | string; version?: string };
    const socketPath = await modem.getSocketPath?.();
    const endpoint: RawEndpoint | undefined = socketPath
      ? { socketPath }
      : modem.protocol === 'http' && modem.host && Number(modem.port) > 0
        ? { host: modem.host, port: Number(modem.port) }
        : undefined;
    if (!endpoint) return undefined;
    const bound = AbortSignal.timeout(ms);
    let response: RawResponse;
    try {
      response = await rawGet(endpoint, `${modem.version ? `/${modem.version}` : ''}${apiPath}`, signal ? AbortSignal.any([signal, bound]) : bound, body);
    } catch (err) {
      if (signal?.aborted) throw abortError(signal);
      if (bound.aborted) throw new DaemonUnreachableError(`Docker daemon did not answer within ${ms / 1000} s while ${what}`);
      // No code: the connection closed before a whole head came (a daemon restarted, killed) or what
      // came was not HTTP; either way the daemon is not answering, as Node's client said "socket hang up".
      if (!(err as DockerodeError).code) throw new DaemonUnreachableError(`Docker daemon stopped answering at ${daemonAddress()} while ${what}: ${excerpt((err as Error).message, 120)}`);
      throw toAuditError(err, what);
    }
    if (response.status < 300) return response.body;
    // An error's body is read whole (it also ends the request).
    const text = await response.text().catch(() => '');
    if (response.status === 404) return 'not-found';
    let json: unknown = text;
    try {
      json = JSON.parse(text);
    } catch {
      // Not JSON: the text is the message.
    }
    throw toAuditError(Object.assign(new Error(text), { statusCode: response.status, json }), what);
  }

  async removeImage(ref: string): Promise<void> {
    try {
      // Removing deletes the layers from disk: on a loaded daemon that takes longer than an answer.
      await bounded(this.docker.getImage(ref).remove({ noprune: false }), `removing image ${ref}`, 4 * CALL_BOUND_MS);
    } catch (err) {
      if (err instanceof DockerApiError && (err.statusCode === 404 || err.statusCode === 409)) return;
      throw err;
    }
  }

  /**
   * Whether the engine knows a listing's optional column, by the ps_args that ask for it (learnt from the
   * first listing): `exe` in the host's ps (procps 4 does), `state` in Podman's psgo (4.3 does).
   */
  private readonly optionalColumns = new Map<string, boolean>();
  /** processes() on Podman: each container's user and group names, read once. */
  private readonly podmanNames = new Map<string, Promise<{ users: Map<string, number>; groups: Map<string, number> }>>();
  private podman?: Promise<boolean>;

  /** Whether the engine is Podman, asked once: Podman answers /libpod/_ping, Docker 404. */
  private isPodman(): Promise<boolean> {
    this.podman ??= bounded(
      new Promise<unknown>((resolve, reject) =>
        (this.docker.modem as unknown as { dial(o: object, cb: (e: unknown, d: unknown) => void): void }).dial(
          { path: '/libpod/_ping', method: 'GET', statusCodes: { 200: true, 404: 'not podman', 400: 'not podman' } },
          (err, data) => (err ? reject(err) : resolve(data)),
        ),
      ),
      'asking whether the engine is Podman',
    ).then(
      () => true,
      (err) => (err instanceof DockerApiError ? false : Promise.reject(err)),
    );
    // A failed question (the daemon did not answer) is asked again next time.
    this.podman.catch(() => (this.podman = undefined));
    return this.podman;
  }

  async processes(id: string, options: CallOptions = {}): Promise<ProcessRow[]> {
    // Podman's top does not run `ps` on the host: it reads /proc itself with psgo descriptors (an `-eo …`
    // it does not know makes it exec `ps` inside the container, which most slim images lack, and then it
    // answers 200 with an empty body).
    if (!(await this.isPodman())) {
      // `ps` runs on the host; -e is needed because docker filters the rows by the container's pids. The
      // executable says what a process is when it retitled itself (process.title); a ps without the
      // `exe` column (procps before 4) makes the daemon answer 500: the table is then read without it.
      const table = await this.topTable(
        id,
        { withIt: '-eo pid,ppid,uid,gid,stat,exe,args', without: '-eo pid,ppid,uid,gid,stat,args' },
        ['PID', 'PPID', 'UID', 'GID', 'COMMAND', 'EXE', 'STAT'],
        (err) => err instanceof DockerApiError && err.statusCode === 500,
        options,
      );
      return dockerProcessRows(table);
    }
    // psgo: PID/PPID are the container's pids, HPID the host's; USER/GROUP are names from the container's
    // /etc/passwd and /etc/group (the number when there is none). Rows get host pids, as on Docker.
    const table = await this.topTable(
      id,
      { withIt: 'pid,ppid,hpid,user,group,state,args', without: 'pid,ppid,hpid,user,group,args' },
      ['PID', 'PPID', 'HPID', 'USER', 'GROUP', 'COMMAND', 'STATE'],
      // A psgo without `state` hands the descriptors to a `ps` in the container: no table comes back.
      (err) => err instanceof DockerApiError,
      options,
    );
    return this.podmanProcessRows(id, table, options);
  }

  /**
   * The engine's process table with the named columns' indexes (-1: absent), asked with an optional
   * column (`withIt`) until the engine refused it once (`refused` tells a refusal from another failure),
   * then without it; once answered with it, a failure is a failure.
   */
  private async topTable(
    id: string,
    psArgs: { withIt: string; without: string },
    names: string[],
    refused: (err: unknown) => boolean,
    options: CallOptions,
  ): Promise<TopTable> {
    const top = async (args: string) => {
      const answer = (await bounded(
        this.docker.getContainer(id).top({ ps_args: args, abortSignal: options.signal } as object),
        'listing the container processes',
        CALL_BOUND_MS,
        options.signal,
      )) as { Titles?: string[]; Processes?: string[][] | null } | string;
      if (typeof answer !== 'object' || !Array.isArray(answer.Titles)) {
        throw new DockerApiError('The engine answered the process listing without a table (ps_args not understood?)');
      }
      const at = names.map((name) => answer.Titles!.findIndex((t) => t.trim().toUpperCase() === name));
      return { rows: answer.Processes ?? [], at };
    };
    const known = this.optionalColumns.get(psArgs.withIt);
    if (known !== false) {
      try {
        const table = await top(psArgs.withIt);
        this.optionalColumns.set(psArgs.withIt, true);
        return table;
      } catch (err) {
        if (known === true || !refused(err)) throw err;
        this.optionalColumns.set(psArgs.withIt, false);
      }
    }
    return top(psArgs.without);
  }

  /** Podman's rows (psgo: container pids, user and group names) as host pids and numeric ids. */
  private async podmanProcessRows(id: string, { rows, at }: TopTable, options: CallOptions): Promise<ProcessRow[]> {
    const [pid, ppid, hpid, user, group, args, state] = at;
    if (at.slice(0, 6).some((i) => i < 0)) throw new DockerApiError(`Podman's process listing lacks a column: ${JSON.stringify(rows[0] ?? [])}`);
    const hostPid = new Map(rows.map((row) => [row[pid], Number(row[hpid])]));
    const resolve = async (name: string, kind: 'users' | 'groups'): Promise<number> => {
      if (/^\d+$/.test(name)) return Number(name);
      const found = (await this.podmanNameTables(id, options))[kind].get(name);
      if (found === undefined) throw new DockerApiError(`Podman listed a process of ${kind === 'users' ? 'user' : 'group'} "${name}", which the container's /etc/${kind === 'users' ? 'passwd' : 'group'} does not name`);
      return found;
    };
    const out: ProcessRow[] = [];
    for (const row of rows) {
      out.push({
        pid: Number(row[hpid]),
        // PID 1's parent is outside the container (0 in its namespace).
        ppid: hostPid.get(row[ppid]) ?? 0,
        uid: await resolve(row[user], 'users'),
        gid: await resolve(row[group], 'groups'),
        args: row[args],
        ...(state >= 0 && row[state] ? { state: row[state] } : {}),
      });
    }
    return out;
  }

  /** The container's user and group names (its /etc/passwd and /etc/group), read once per container. */
  private podmanNameTables(id: string, options: CallOptions): Promise<{ users: Map<string, number>; groups: Map<string, number> }> {
    let pending = this.podmanNames.get(id);
    if (!pending) {
      const text = async (path: string) => (await this.readFile(id, path, options))?.toString('utf8') ?? '';
      // Reversed into the map: the first entry of a name wins, as in getpwnam.
      const byName = (entries: Array<{ name: string; id: number }>) => new Map(entries.reverse().map((e) => [e.name, e.id] as const));
      pending = Promise.all([text('/etc/passwd'), text('/etc/group')]).then(([passwd, group]) => ({
        users: byName(parsePasswd(passwd).map((e) => ({ name: e.name, id: e.uid }))),
        groups: byName(parseGroup(group).map((e) => ({ name: e.name, id: e.gid }))),
      }));
      this.podmanNames.set(id, pending);
      pending.catch(() => this.podmanNames.delete(id));
    }
    return pending;
  }

  async statPath(id: string, path: string, options: CallOptions = {}): Promise<PathStat | undefined> {
    let response: { headers?: Record<string, string>; resume?: () => void };
    try {
      response = (await bounded(
        this.docker.getContainer(id).infoArchive({ path, abortSignal: options.signal } as object) as Promise<unknown>,
        `reading ${path} from the image`,
        CALL_BOUND_MS,
        options.signal,
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

  async archive(id: string, path: string, options: CallOptions = {}): Promise<ChunkSource | undefined> {
    const what = `reading ${path} from the image`;
    const raw = await this.rawBody(`/containers/${encodeURIComponent(id)}/archive?path=${encodeURIComponent(path)}`, what, `the archive of ${path}`, CALL_BOUND_MS, options.signal);
    if (raw === 'not-found') return undefined;
    if (raw) return raw;
    const stream = await this.archiveStream(id, path, options);
    return stream && chunksOf(stream, `the archive of ${path}`);
  }

  /** The archive through dockerode: a small file's (readFile), or a large one's on an engine reached without a socket. */
  private async archiveStream(id: string, path: string, options: CallOptions = {}): Promise<Readable | undefined> {
    try {
      return (await bounded(
        this.docker.getContainer(id).getArchive({ path, abortSignal: options.signal } as object) as Promise<unknown>,
        `reading ${path} from the image`,
        CALL_BOUND_MS,
        options.signal,
      )) as Readable;
    } catch (err) {
      if (err instanceof DockerApiError && err.statusCode === 404) return undefined;
      throw err;
    }
  }

  async readFile(id: string, path: string, options: CallOptions = {}): Promise<Buffer | undefined> {
    let current = path;
    for (let hops = 0; hops < 8; hops++) {
      const stream = await this.archiveStream(id, current, options);
      if (!stream) return undefined;
      const entry = await firstTarEntry(stream, options.signal);
      if (!entry) return undefined;
      if (entry.type === 'file') return entry.content;
      if (entry.type !== 'symlink' || !entry.linkname) return undefined;
      current = pathPosix.resolve(pathPosix.dirname(current), entry.linkname);
    }
    return undefined;
  }

  async logs(id: string, tailLines: number, options: CallOptions = {}): Promise<string[]> {
    const raw = (await bounded(
      this.docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false, tail: tailLines, abortSignal: options.signal } as never) as unknown as Promise<unknown>,
      'reading the container logs',
      CALL_BOUND_MS,
      options.signal,
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

  async listLabelledContainers(labelFilter: string): Promise<Array<{ id: string; labels: Record<string, string>; state: string }>> {
    const rows = await bounded(this.docker.listContainers({ all: true, filters: { label: [labelFilter] } }), 'listing containers');
    return rows.map((row) => ({ id: row.Id, labels: row.Labels ?? {}, state: row.State }));
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

async function firstTarEntry(stream: Readable, signal?: AbortSignal): Promise<TarEntry | undefined> {
  const extract = tarStream.extract();
  let first: TarEntry | undefined;
  extract.on('entry', (header, content, next) => {
    if (first) {
      content.on('end', next);
      content.resume();
      return;
    }
    drain(content as unknown as Readable).then((buffer) => {
      first = { type: header.type ?? 'file', linkname: header.linkname ?? undefined, content: buffer };
      next();
    }, (err) => extract.destroy(err));
  });
  const bound = AbortSignal.timeout(60_000);
  try {
    await pipeline(stream, extract, { signal: signal ? AbortSignal.any([signal, bound]) : bound });
  } catch (err) {
    if (signal?.aborted) throw abortError(signal);
    throw toAuditError(err, 'reading a file from the image');
  }
  return first;
}

/**
 * Reads a multiplexed output stream (an exec's, a followed container's) to its end: stdout and stderr
 * as text, and each complete stdout line to `onStdoutLine` as it arrives. The caller's abort and the
 * timeout are told apart in the error.
 */
async function followOutput(
  stream: Readable,
  request: Pick<ExecRequest, 'signal' | 'timeoutMs' | 'onStdoutLine'>,
  signal: AbortSignal,
  timeout: AbortSignal,
  what: string,
  who: string,
): Promise<{ stdout: string; stderr: string }> {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  let partial = '';
  const onStdout = (chunk: Buffer) => {
    stdout.push(chunk);
    if (!request.onStdoutLine) return;
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) request.onStdoutLine(line);
  };
  try {
    await pipeline(stream, demuxStream(onStdout, (chunk) => stderr.push(chunk)), { signal });
  } catch (err) {
    if (request.signal?.aborted) throw abortError(request.signal);
    if (timeout.aborted) throw new DockerApiError(`${who} did not finish within ${request.timeoutMs / 1000} s`);
    throw toAuditError(err, what);
  }
  if (partial && request.onStdoutLine) request.onStdoutLine(partial);
  return { stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
}

/** Splits Docker's multiplexed stream (8-byte frame headers) into stdout and stderr chunks. */
function demuxStream(onStdout: (chunk: Buffer) => void, onStderr: (chunk: Buffer) => void): Writable {
  const feed = frameReader((stream, payload) => (stream === 2 ? onStderr : onStdout)(payload));
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      feed(chunk);
      callback();
    },
  });
}

/**
 * The port of one engine (src/docker/engine.ts: a context, a URL, DOCKER_HOST): its own dockerode, and
 * every call through it names that engine in its messages, whichever engines the process also talks to.
 */
export function enginePort(engine: Engine, options: DockerodePortOptions = {}): DockerPort {
  const { rejectUnauthorized, ...modem } = modemOptions(engine);
  const docker = new Docker({
    ...(modem as Docker.DockerOptions),
    ...(rejectUnauthorized === false && { agent: new HttpsAgent({ rejectUnauthorized: false }) }),
  });
  const port = new DockerodePort(docker, options);
  return new Proxy(port, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => engineInUse.run(engine, () => (value as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
}

/** The port of the engine a single audit uses when none is given (src/docker/engine.ts selectEngine). */
export function currentEnginePort(options: DockerodePortOptions = {}): DockerPort {
  return enginePort(selectEngine().engine, options);
}
