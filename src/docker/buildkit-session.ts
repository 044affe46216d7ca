// A BuildKit session, opened as the docker CLI opens one, so that BuildKit reads the build context from
// the directory itself (`remote=client-session`) instead of from an uploaded tar. Over a hijacked
// `POST /session` (h2c) the daemon becomes a gRPC client of ours and calls back only the methods the
// X-Docker-Expose-Session-Grpc-Method headers list:
//   - grpc.health.v1.Health/Check, which it polls every second (a failed check ends the session);
//   - moby.filesync.v1.FileSync/DiffCopy, through which its Dockerfile frontend asks for the folder of
//     the Dockerfile ("dockerfile": the Dockerfile, by followpaths), for .dockerignore ("context", by
//     followpaths), and for the context ("context", with .dockerignore as exclude patterns and the
//     COPY/ADD sources as followpaths). BuildKit, not we, reads and applies .dockerignore.
// DiffCopy is the sender side of tonistiigi/fsutil's protocol (send.go): one STAT packet per entry in
// walk order, then an empty STAT; each REQ (ID = index of a STAT sent) is answered with the file's bytes
// in DATA packets and an empty DATA; a FIN is answered with a FIN. The walk and its filters are ports of
// fsutil's (fs.go, filter.go, followlinks.go, stat.go, hardlinks.go) and moby/patternmatcher, so that
// what reaches BuildKit is what `docker build` sends. Messages are encoded with protobufjs reflection
// (no .proto file is read at run time).
import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { constants as fsConstants, type BigIntStats } from 'node:fs';
import { lstat, open, readdir, readlink, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import grpc from '@grpc/grpc-js';
import type { Metadata, MethodDefinition, ServerDuplexStream, ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { goClean } from './go-path.js';

/** One folder the daemon may ask for by its name ("context", "dockerfile"). */
export interface SyncedDir {
  name: string;
  dir: string;
  /** Send uid and gid 0 (the docker CLI does so for the context, whoever owns the files). */
  resetOwner?: boolean;
}

export interface BuildKitSession {
  /** The value of the build's `session` parameter. */
  id: string;
  /** Ends the session: calls in flight are cancelled, the connection is closed. Idempotent. */
  close(): void;
}

/** docker-modem's dial, the part we use. */
export interface SessionModem {
  dial(options: object, callback: (err: unknown, data: unknown) => void): void;
}

const HEALTH_CHECK = '/grpc.health.v1.Health/Check';
const DIFF_COPY = '/moby.filesync.v1.FileSync/DiffCopy';
/** The methods we serve: the daemon calls no other (it asks session.Supports first). */
const SERVED_METHODS = [HEALTH_CHECK, DIFF_COPY];

/**
 * Opens the session: resolves once the daemon switched the connection to h2c and our gRPC server serves
 * it. A daemon without the endpoint (Podman: 404) rejects with docker-modem's error, as dockerode's own
 * session did, so the caller's handling of that answer is unchanged.
 */
export async function openBuildKitSession(
  modem: SessionModem,
  options: { dirs: SyncedDir[]; name?: string; sharedKey?: string; signal?: AbortSignal },
): Promise<BuildKitSession> {
  const id = randomUUID();
  const contextDir = options.dirs.find((d) => d.name === 'context')?.dir ?? options.dirs[0]?.dir ?? '';
  // As the CLI: the name is the context folder's; the shared key lets the daemon reuse what it received
  // for this folder in an earlier build and ask only for the files whose stat changed.
  const name = options.name ?? path.basename(contextDir);
  const sharedKey = options.sharedKey ?? createHash('sha256').update(`${os.hostname()}:${contextDir}`).digest('hex');
  const socket = await new Promise<Duplex>((resolve, reject) => {
    modem.dial(
      {
        path: '/session',
        method: 'POST',
        hijack: true,
        // A body of length 0, not docker-modem's chunked default: nothing may follow the request on the
        // connection before the daemon's HTTP/2 preface.
        file: Buffer.alloc(0),
        headers: {
          Upgrade: 'h2c',
          'X-Docker-Expose-Session-Uuid': id,
          'X-Docker-Expose-Session-Name': name,
          'X-Docker-Expose-Session-Sharedkey': sharedKey,
          'X-Docker-Expose-Session-Grpc-Method': SERVED_METHODS,
        },
        abortSignal: options.signal,
        statusCodes: { 200: true, 500: 'server error' },
      },
      (err, data) => (err ? reject(err) : resolve(data as Duplex)),
    );
  });
  // The connection's own errors (a reset when the daemon goes) end the session, they are not thrown.
  socket.on('error', () => undefined);

  const dirs = new Map(options.dirs.map((d) => [d.name, d]));
  const calls = new Set<AbortController>();
  const server = new grpc.Server();
  const types = messageTypes();
  server.addService(
    { Check: methodDefinition(HEALTH_CHECK, types.HealthCheckRequest, types.HealthCheckResponse, false, false) },
    {
      Check: (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => callback(null, { status: SERVING }),
    },
  );
  server.addService(
    { DiffCopy: methodDefinition(DIFF_COPY, types.Packet, types.Packet, true, true) },
    {
      DiffCopy: (call: ServerDuplexStream<Packet, Packet>) => {
        const cancel = new AbortController();
        calls.add(cancel);
        serveDiffCopy(call, dirs, cancel.signal)
          .catch(() => undefined)
          .finally(() => calls.delete(cancel));
      },
    },
  );
  const before = new Set(http2ServersOf(server));
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  // Before grpc-js reads a call's headers: keep the raw lines of the keys DiffCopy reads (keepRawMetadata).
  for (const h2 of http2ServersOf(server)) if (!before.has(h2)) h2.prependListener('stream', keepRawMetadata);
  injector.injectConnection(socket);

  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    for (const call of calls) call.abort(new Error('the BuildKit session was closed'));
    // Closes the injector's HTTP/2 server and session, and so the socket.
    server.forceShutdown();
    socket.destroy();
  };
  // The daemon may drop the session first (a restart): what we serve goes with it.
  socket.once('close', close);
  return { id, close };
}

// ---------------------------------------------------------------------------------------------------
// Messages: fsutil.types.Packet and Stat (types/wire.proto, types/stat.proto), grpc.health.v1. Stat's
// path and linkname are proto strings, declared bytes here (the same wire type) so that a name that is
// not UTF-8 keeps its bytes, as Go's strings do.

interface Packet {
  type?: number;
  stat?: Record<string, unknown>;
  ID?: number;
  data?: Uint8Array;
}

const PACKET_STAT = 0;
const PACKET_REQ = 1;
const PACKET_DATA = 2;
const PACKET_FIN = 3;
const PACKET_ERR = 4;
const SERVING = 1;

let types: { Packet: protobuf.Type; HealthCheckRequest: protobuf.Type; HealthCheckResponse: protobuf.Type } | undefined;

function messageTypes(): NonNullable<typeof types> {
  if (types) return types;
  const root = protobuf.Root.fromJSON({
    nested: {
      fsutil: {
        nested: {
          types: {
            nested: {
              Stat: {
                fields: {
                  path: { type: 'bytes', id: 1 },
                  mode: { type: 'uint32', id: 2 },
                  uid: { type: 'uint32', id: 3 },
                  gid: { type: 'uint32', id: 4 },
                  size: { type: 'int64', id: 5 },
                  modTime: { type: 'int64', id: 6 },
                  linkname: { type: 'bytes', id: 7 },
                  devmajor: { type: 'int64', id: 8 },
                  devminor: { type: 'int64', id: 9 },
                  // xattrs (10) are not sent: Node cannot read them.
                },
              },
              Packet: {
                fields: {
                  type: { type: 'PacketType', id: 1 },
                  stat: { type: 'Stat', id: 2 },
                  ID: { type: 'uint32', id: 3 },
                  data: { type: 'bytes', id: 4 },
                },
                nested: {
                  PacketType: { values: { PACKET_STAT, PACKET_REQ, PACKET_DATA, PACKET_FIN, PACKET_ERR } },
                },
              },
            },
          },
        },
      },
      grpc: {
        nested: {
          health: {
            nested: {
              v1: {
                nested: {
                  HealthCheckRequest: { fields: { service: { type: 'string', id: 1 } } },
                  HealthCheckResponse: {
                    fields: { status: { type: 'ServingStatus', id: 1 } },
                    nested: { ServingStatus: { values: { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } } },
                  },
                },
              },
            },
          },
        },
      },
    },
  });
  types = {
    Packet: root.lookupType('fsutil.types.Packet'),
    HealthCheckRequest: root.lookupType('grpc.health.v1.HealthCheckRequest'),
    HealthCheckResponse: root.lookupType('grpc.health.v1.HealthCheckResponse'),
  };
  return types;
}

function methodDefinition<Req, Res>(
  methodPath: string,
  request: protobuf.Type,
  response: protobuf.Type,
  requestStream: boolean,
  responseStream: boolean,
): MethodDefinition<Req, Res> {
  const encode = (type: protobuf.Type) => (value: unknown) => Buffer.from(type.encode(value as Record<string, unknown>).finish());
  const decode = (type: protobuf.Type) => (bytes: Buffer) => type.decode(bytes) as unknown;
  return {
    path: methodPath,
    requestStream,
    responseStream,
    requestSerialize: encode(request),
    requestDeserialize: decode(request) as (bytes: Buffer) => Req,
    responseSerialize: encode(response),
    responseDeserialize: decode(response) as (bytes: Buffer) => Res,
  };
}

/** A 64-bit integer as protobufjs writes it without the long package: two 32-bit halves. */
function int64(value: bigint): { low: number; high: number; unsigned: boolean } {
  const bits = BigInt.asUintN(64, value);
  return { low: Number(bits & 0xffffffffn) | 0, high: Number(bits >> 32n) | 0, unsigned: false };
}

// ---------------------------------------------------------------------------------------------------
// DiffCopy: the sender side of fsutil's protocol.

/** The CLI's per-file buffer is 32 KiB; larger chunks cost fewer messages and stay far below gRPC's 4 MiB. */
const CHUNK_BYTES = 128 * 1024;
/** fsutil's sender serves requested files with 4 workers. */
const FILE_WORKERS = 4;

// The daemon sends each pattern as one header line of its key. Node joins the lines of one key with
// ", " and reads their bytes as latin1, and grpc-js then drops a value with a byte that is not printable
// ASCII: one non-ASCII line of .dockerignore would lose every exclude pattern. So the raw lines are kept,
// before grpc-js reads the headers, as binary metadata of our own (base64, one value per line).
const METADATA_KEYS = ['dir-name', 'include-patterns', 'exclude-patterns', 'followpaths', 'override-excludes'];
const RAW_MARK = 'x-image-audit-raw';
const rawKey = (key: string) => `${RAW_MARK}-${key}-bin`;

function http2ServersOf(server: object): EventEmitter[] {
  // grpc-js keeps the HTTP/2 server of each injector in this (private) map; without it we read its metadata.
  const map = (server as { http2Servers?: unknown }).http2Servers;
  return map instanceof Map ? [...map.keys()].filter((s): s is EventEmitter => s instanceof EventEmitter) : [];
}

function keepRawMetadata(_stream: unknown, headers: Record<string, unknown>, _flags: unknown, rawHeaders: unknown): void {
  if (!Array.isArray(rawHeaders)) return;
  for (const key of METADATA_KEYS) {
    const lines: string[] = [];
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      if (String(rawHeaders[i]).toLowerCase() === key) lines.push(Buffer.from(String(rawHeaders[i + 1]), 'latin1').toString('base64'));
    }
    if (lines.length) headers[rawKey(key)] = lines;
    // grpc-js would log the joined value as illegal (non-ASCII); we read the raw lines instead.
    delete headers[key];
  }
  headers[RAW_MARK] = '1';
}

function metadataValues(metadata: Metadata, key: string): string[] {
  if (metadata.get(RAW_MARK).length) return metadata.get(rawKey(key)).map((value) => Buffer.from(value as Buffer).toString('utf8'));
  // Without the raw lines: split what Node joined (a value holding ", " is then misread).
  return metadata.get(key).flatMap((value) => String(value).split(', '));
}

async function serveDiffCopy(call: ServerDuplexStream<Packet, Packet>, dirs: Map<string, SyncedDir>, signal: AbortSignal): Promise<void> {
  const dirName = metadataValues(call.metadata, 'dir-name')[0] ?? '';
  const synced = dirs.get(dirName);
  if (!synced) {
    call.emit('error', { code: grpc.status.NOT_FOUND, details: `no access allowed to dir "${dirName}"` });
    return;
  }
  const filter = {
    includePatterns: metadataValues(call.metadata, 'include-patterns'),
    // SyncedDir has no excludes of its own (the CLI gives none either): override-excludes changes nothing.
    excludePatterns: metadataValues(call.metadata, 'exclude-patterns'),
    followPaths: metadataValues(call.metadata, 'followpaths'),
  };
  const sender = new Sender(call, synced, signal);
  await sender.run(filter);
}

class Sender {
  /** Stat index → absolute path, for the entries whose data the receiver may request. */
  private readonly files = new Map<number, Buffer>();
  private readonly requested: number[] = [];
  private wakeWorkers: (() => void) | undefined;
  private finished = false;
  private readonly stop = new AbortController();
  private readonly handles = new Set<FileHandle>();

  constructor(
    private readonly call: ServerDuplexStream<Packet, Packet>,
    private readonly synced: SyncedDir,
    signal: AbortSignal,
  ) {
    const cancel = () => this.stop.abort(signal.reason ?? new Error('cancelled'));
    if (signal.aborted) cancel();
    else signal.addEventListener('abort', cancel, { once: true });
    call.on('cancelled', () => this.stop.abort(new Error('the daemon cancelled the transfer')));
    call.on('close', () => this.stop.abort(new Error('the transfer stream closed')));
  }

  async run(filter: { includePatterns: string[]; excludePatterns: string[]; followPaths: string[] }): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      this.call.on('data', (packet: Packet) => {
        switch (packet.type ?? PACKET_STAT) {
          case PACKET_ERR:
            reject(new Error(`error from receiver: ${Buffer.from(packet.data ?? []).toString('utf8')}`));
            break;
          case PACKET_REQ: {
            const id = packet.ID ?? 0;
            if (!this.files.has(id)) {
              reject(new Error(`invalid file id ${id}`));
              break;
            }
            this.requested.push(id);
            this.wakeWorkers?.();
            break;
          }
          case PACKET_FIN:
            resolve();
            break;
        }
      });
      this.call.on('end', () => reject(new Error('the receiver ended the transfer without FIN')));
      this.stop.signal.addEventListener('abort', () => reject(this.stop.signal.reason), { once: true });
    });
    done.catch(() => undefined);
    const walking = this.walk(filter).catch(async (err: Error) => {
      // As fsutil: the receiver is told why, then the call fails.
      await this.send({ type: PACKET_ERR, data: Buffer.from(err.message) }).catch(() => undefined);
      throw err;
    });
    walking.catch(() => undefined);
    const workers = Array.from({ length: FILE_WORKERS }, () => this.serveFiles());
    // A worker stopped by a cancel rejects before it is awaited below.
    for (const worker of workers) worker.catch(() => undefined);
    try {
      await Promise.race([done, walking.then(() => done)]);
      this.finished = true;
      this.wakeWorkers?.();
      await Promise.all(workers);
      await this.send({ type: PACKET_FIN });
      this.call.end();
    } catch (err) {
      this.stop.abort(err);
      this.wakeWorkers?.();
      await Promise.allSettled(workers);
      if (!this.call.destroyed && !this.call.writableEnded) {
        this.call.emit('error', { code: grpc.status.UNKNOWN, details: (err as Error).message ?? String(err) });
      }
    } finally {
      for (const handle of this.handles) await handle.close().catch(() => undefined);
    }
  }

  /** Writes one packet, waiting when the stream's buffer is full. */
  private async send(packet: Packet): Promise<void> {
    this.stop.signal.throwIfAborted();
    if (this.call.write(packet)) return;
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.call.off('drain', onDrain);
        reject(this.stop.signal.reason);
      };
      const onDrain = () => {
        this.stop.signal.removeEventListener('abort', onAbort);
        resolve();
      };
      this.call.once('drain', onDrain);
      this.stop.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private async walk(filter: { includePatterns: string[]; excludePatterns: string[]; followPaths: string[] }): Promise<void> {
    let index = 0;
    const hardlinks = new Map<string, Buffer>();
    for await (const entry of walkFiltered(this.synced.dir, filter, this.stop.signal)) {
      const stat = entryStat(entry, this.synced.resetOwner ?? false, hardlinks);
      if (fileCanRequestData(stat.mode as number) && !(stat.linkname as Buffer | undefined)?.length) {
        this.files.set(index, entry.absolute);
      }
      index++;
      await this.send({ type: PACKET_STAT, stat });
    }
    // The end of the stats: a STAT packet without a stat.
    await this.send({});
  }

  private async serveFiles(): Promise<void> {
    for (;;) {
      this.stop.signal.throwIfAborted();
      const id = this.requested.shift();
      if (id === undefined) {
        if (this.finished) return;
        await new Promise<void>((resolve) => {
          const previous = this.wakeWorkers;
          this.wakeWorkers = () => {
            this.wakeWorkers = undefined;
            previous?.();
            resolve();
          };
        });
        continue;
      }
      const file = this.files.get(id)!;
      this.files.delete(id);
      await this.sendFile(id, file);
    }
  }

  /** The file's bytes, then an empty DATA. A file that cannot be opened sends none (as fsutil's os.Open). */
  private async sendFile(id: number, file: Buffer): Promise<void> {
    let handle: FileHandle | undefined;
    try {
      // Never blocks on a FIFO (it may have replaced the file since the walk) and never follows a link.
      handle = await open(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | fsConstants.O_NOFOLLOW);
    } catch {
      handle = undefined;
    }
    if (handle) {
      this.handles.add(handle);
      try {
        if ((await handle.stat()).isFile()) {
          for (;;) {
            this.stop.signal.throwIfAborted();
            const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
            const { bytesRead } = await handle.read(chunk, 0, CHUNK_BYTES, null);
            if (bytesRead === 0) break;
            await this.send({ type: PACKET_DATA, ID: id, data: chunk.subarray(0, bytesRead) });
          }
        }
      } finally {
        this.handles.delete(handle);
        await handle.close().catch(() => undefined);
      }
    }
    await this.send({ type: PACKET_DATA, ID: id });
  }
}

// ---------------------------------------------------------------------------------------------------
// Stats: Go's os.FileMode bits, as fsutil's mkstat sends them.

const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;
const MODE_DEVICE = 2 ** 26;
const MODE_NAMED_PIPE = 2 ** 25;
const MODE_SOCKET = 2 ** 24;
const MODE_SETUID = 2 ** 23;
const MODE_SETGID = 2 ** 22;
const MODE_CHAR_DEVICE = 2 ** 21;
const MODE_STICKY = 2 ** 20;
const MODE_IRREGULAR = 2 ** 19;
const MODE_TYPE = MODE_DIR + MODE_SYMLINK + MODE_NAMED_PIPE + MODE_SOCKET + MODE_DEVICE + MODE_CHAR_DEVICE + MODE_IRREGULAR;

/** Go's os.FileMode of an lstat, as a uint32. */
export function goFileMode(st: BigIntStats): number {
  const m = Number(st.mode);
  let mode = m & 0o777;
  switch (m & fsConstants.S_IFMT) {
    case fsConstants.S_IFBLK:
      mode += MODE_DEVICE;
      break;
    case fsConstants.S_IFCHR:
      mode += MODE_DEVICE + MODE_CHAR_DEVICE;
      break;
    case fsConstants.S_IFDIR:
      mode += MODE_DIR;
      break;
    case fsConstants.S_IFIFO:
      mode += MODE_NAMED_PIPE;
      break;
    case fsConstants.S_IFLNK:
      mode += MODE_SYMLINK;
      break;
    case fsConstants.S_IFSOCK:
      mode += MODE_SOCKET;
      break;
  }
  if (m & 0o2000) mode += MODE_SETGID;
  if (m & 0o4000) mode += MODE_SETUID;
  if (m & 0o1000) mode += MODE_STICKY;
  return mode;
}

/** fsutil: only entries without a type bit (regular files, and sockets once their bit is cleared) have data. */
function fileCanRequestData(mode: number): boolean {
  return (mode & MODE_TYPE) === 0;
}

function entryStat(entry: WalkEntry, resetOwner: boolean, hardlinks: Map<string, Buffer>): Record<string, unknown> {
  const st = entry.stat;
  let mode = goFileMode(st);
  // fsutil clears the socket bit (archive/tar has no socket type): a socket goes as an empty regular file.
  if (mode & MODE_SOCKET) mode -= MODE_SOCKET;
  const isDir = st.isDirectory();
  const stat: Record<string, unknown> = {
    path: entry.relative,
    mode,
    uid: resetOwner ? 0 : Number(st.uid),
    gid: resetOwner ? 0 : Number(st.gid),
    modTime: int64(st.mtimeNs),
  };
  if (!isDir) {
    stat.size = int64(st.size);
    if (st.isBlockDevice() || st.isCharacterDevice()) {
      const rdev = st.rdev;
      stat.devmajor = int64((rdev >> 8n) & 0xfffn);
      stat.devminor = int64((rdev & 0xffn) | ((rdev >> 12n) & 0xfff00n));
    }
    if (st.isSymbolicLink()) {
      stat.linkname = entry.linkname;
    } else if (st.nlink > 1n) {
      // A hard link to a file already sent goes as a link to it (fsutil, after its filters).
      const key = `${st.dev}:${st.ino}`;
      const first = hardlinks.get(key);
      if (first) {
        stat.linkname = first;
        stat.size = int64(0n);
      } else {
        hardlinks.set(key, entry.relative);
      }
    }
  }
  return stat;
}

// ---------------------------------------------------------------------------------------------------
// The walk: lexical order (Go's filepath.WalkDir sorts names bytewise), symlinks not followed, with
// fsutil's include/exclude filtering: a folder that is itself filtered out is still walked when a
// pattern may keep something inside it, and is then sent just before the first entry kept inside it.

interface WalkEntry {
  /** Relative, '/'-separated, as bytes. */
  relative: Buffer;
  absolute: Buffer;
  stat: BigIntStats;
  linkname?: Buffer;
}

interface VisitedDir {
  entry: WalkEntry;
  /** The relative path as text (for the matchers), with a trailing '/'. */
  pathWithSep: string;
  includeInfo?: MatchInfo;
  excludeInfo?: MatchInfo;
  emitted: boolean;
}

const SLASH = Buffer.from('/');

export async function* walkFiltered(
  root: string,
  filter: { includePatterns?: string[]; excludePatterns?: string[]; followPaths?: string[] },
  signal?: AbortSignal,
): AsyncGenerator<WalkEntry> {
  let includePatterns = filter.includePatterns?.length ? [...filter.includePatterns] : undefined;
  if (filter.followPaths?.length) {
    const targets = await followLinks(root, filter.followPaths);
    if (targets) includePatterns = dedupePaths([...(includePatterns ?? []), ...targets]);
  }
  const matcher = (patterns: string[] | undefined, what: string) => {
    if (!patterns?.length) return undefined;
    try {
      return new PatternMatcher(patterns);
    } catch (err) {
      // As fsutil words it (Go prints a []string as [a b]).
      throw new Error(`invalid ${what}: [${patterns.join(' ')}]: ${(err as Error).message}`);
    }
  };
  const include = matcher(includePatterns, 'includepatterns');
  const exclude = matcher(filter.excludePatterns, 'excludepatterns');
  const onlyPrefixIncludes = include ? include.patterns.every((p) => p.exclusion || !/[*[\]?^\\]/.test(withoutTrailingGlob(p))) : true;
  const onlyPrefixExcludeExceptions = exclude ? exclude.patterns.every((p) => !p.exclusion || !/[*[\]?^\\]/.test(withoutTrailingGlob(p))) : true;
  const parents: VisitedDir[] = [];

  async function* visit(absolute: Buffer, relative: Buffer | undefined, depth: number): AsyncGenerator<WalkEntry> {
    let names: Buffer[];
    try {
      names = (await readdir(absolute, { encoding: 'buffer' })).sort(Buffer.compare);
    } catch (err) {
      // A folder gone since it was listed is skipped (fsutil turns "not exist" into SkipDir).
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return;
      const parent = parents[depth - 1];
      // An unreadable folder that was filtered out is no error (fsutil: skip && ErrPermission).
      if (parent && !parent.emitted && (err as NodeJS.ErrnoException).code === 'EACCES') return;
      throw err;
    }
    for (const name of names) {
      signal?.throwIfAborted();
      const childAbsolute = Buffer.concat([absolute, SLASH, name]);
      const childRelative = relative ? Buffer.concat([relative, SLASH, name]) : name;
      let stat: BigIntStats;
      try {
        stat = await lstat(childAbsolute, { bigint: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      const entry: WalkEntry = { relative: childRelative, absolute: childAbsolute, stat };
      const isDir = stat.isDirectory();
      // Patterns are text: a name that is not UTF-8 is matched with its bytes decoded (as Go's regexp
      // reads invalid bytes as U+FFFD), but sent as bytes.
      const text = childRelative.toString('utf8');
      parents.length = depth;
      const parent = parents[depth - 1];
      const dir: VisitedDir | undefined = isDir ? { entry, pathWithSep: `${text}/`, emitted: false } : undefined;
      let skip = false;
      // fsutil's SkipDir: a folder no pattern can keep anything inside of is not walked at all.
      let skipDir = false;
      if (include) {
        const [matched, info] = include.matchesUsingParentResults(text, parent?.includeInfo);
        if (dir) dir.includeInfo = info;
        if (!matched) {
          if (isDir && onlyPrefixIncludes) {
            skipDir = !include.patterns.some((p) => !p.exclusion && `${withoutTrailingGlob(p)}/`.startsWith(`${text}/`));
          }
          skip = true;
        }
      }
      if (exclude && !skipDir) {
        const [matched, info] = exclude.matchesUsingParentResults(text, parent?.excludeInfo);
        if (dir) dir.excludeInfo = info;
        if (matched) {
          if (isDir && onlyPrefixExcludeExceptions) {
            skipDir = !(exclude.exclusions && exclude.patterns.some((p) => p.exclusion && `${withoutTrailingGlob(p)}/`.startsWith(`${text}/`)));
          }
          skip = true;
        }
      }
      if (skipDir) continue;

      if (!skip) {
        if (stat.isSymbolicLink()) {
          try {
            entry.linkname = await readlink(childAbsolute, { encoding: 'buffer' });
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
            throw err;
          }
        }
        // Folders filtered out themselves but holding this entry are sent first, outermost first.
        for (const p of parents) {
          if (p.emitted) continue;
          p.emitted = true;
          yield p.entry;
        }
        if (dir) dir.emitted = true;
        yield entry;
      }
      if (dir) {
        parents.push(dir);
        yield* visit(childAbsolute, childRelative, depth + 1);
        parents.length = depth;
      }
    }
  }

  yield* visit(Buffer.from(path.resolve(root)), undefined, 0);
}

// ---------------------------------------------------------------------------------------------------
// followpaths (fsutil followlinks.go): each path, with every symlink on its way resolved inside the
// folder, becomes an include pattern, so that a Dockerfile or a COPY source reached through a link is sent.

async function followLinks(root: string, paths: string[]): Promise<string[] | undefined> {
  const resolved = new Set<string>();
  const readSymlink = async (p: string, allowWildcard: boolean): Promise<string[] | undefined> => {
    const base = path.posix.basename(p);
    if (allowWildcard && containsWildcards(base)) {
      const parentDir = path.posix.dirname(p);
      let names: string[];
      try {
        names = await readdir(path.join(root, parentDir));
      } catch {
        return undefined;
      }
      const matcher = goMatcher(base);
      let out: string[] | undefined;
      for (const name of names.sort()) {
        if (!matcher(name)) continue;
        const targets = await readSymlink(path.posix.join(parentDir, name), false);
        if (targets) (out ??= []).push(...targets);
      }
      return out;
    }
    if (p === '.' || p === '/') return undefined;
    let linkname: string;
    try {
      const st = await lstat(path.join(root, p));
      if (!st.isSymbolicLink()) return undefined;
      linkname = await readlink(path.join(root, p));
    } catch {
      return undefined;
    }
    const link = goClean(linkname);
    if (link.startsWith('/')) return [link];
    return [path.posix.join('/', path.posix.join(path.posix.dirname(p), link))];
  };
  const append = async (input: string): Promise<void> => {
    let p = goClean(`./${input}`);
    let current = '.';
    for (;;) {
      const slash = p.indexOf('/');
      const head = slash >= 0 ? p.slice(0, slash) : p;
      current = goClean(`${current}/${head}`);
      const targets = await readSymlink(current, true);
      p = slash >= 0 ? p.slice(slash + 1) : '';
      if ((p === '' || targets) && resolved.has(current)) return;
      if (targets) {
        resolved.add(current);
        for (const target of targets) await append(goClean(`${target}/${p}`));
        return;
      }
      if (p === '') {
        resolved.add(current);
        return;
      }
    }
  };
  for (const p of paths) await append(p);
  return dedupePaths([...resolved].sort());
}

/** fsutil's dedupePaths: drops paths below one already listed; "." (everything) means no filter. */
function dedupePaths(sorted: string[]): string[] | undefined {
  const out: string[] = [];
  let last: string | undefined;
  for (const s of sorted) {
    if (s === '.') return undefined;
    if (last !== undefined && s.startsWith(`${last}/`)) continue;
    out.push(s);
    last = s;
  }
  return out;
}

function containsWildcards(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name[i];
    if (ch === '\\') i++;
    else if (ch === '*' || ch === '?' || ch === '[') return true;
  }
  return false;
}

/** Go's filepath.Match for one name (no '/'): * ? [class] [^class] and \ escapes. */
function goMatcher(pattern: string): (name: string) => boolean {
  let source = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*') source += '[^/]*';
    else if (ch === '?') source += '[^/]';
    else if (ch === '\\' && i + 1 < pattern.length) source += escapeRegExp(pattern[++i]);
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) return () => false;
      let body = pattern.slice(i + 1, end);
      const negated = body.startsWith('^');
      if (negated) body = body.slice(1);
      source += `[${negated ? '^' : ''}${body.replace(/[\]\\[]/g, (c) => `\\${c}`)}]`;
      i = end;
    } else source += escapeRegExp(ch);
  }
  try {
    const re = new RegExp(`${source}$`, 'u');
    return (name) => re.test(name);
  } catch {
    return () => false;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, (c) => `\\${c}`);
}


// ---------------------------------------------------------------------------------------------------
// moby/patternmatcher, the matcher fsutil applies to include and exclude patterns.

interface Pattern {
  cleaned: string;
  exclusion: boolean;
  kind?: 'exact' | 'prefix' | 'suffix' | 'regexp';
  regexp?: RegExp;
}

/** Whether each pattern matched the parent folder (patternmatcher.MatchInfo). */
interface MatchInfo {
  parentMatched: boolean[];
}

export class PatternMatcher {
  readonly patterns: Pattern[] = [];
  readonly exclusions: boolean = false;

  constructor(patterns: string[]) {
    for (const raw of patterns) {
      let p = raw.trim();
      if (!p) continue;
      p = goClean(p);
      let exclusion = false;
      if (p[0] === '!') {
        if (p.length === 1) throw new Error('illegal exclusion pattern: "!"');
        exclusion = true;
        p = p.slice(1);
        this.exclusions = true;
      }
      if (!validPattern(p)) throw new Error('syntax error in pattern');
      this.patterns.push({ cleaned: p, exclusion });
    }
  }

  /** MatchesOrParentMatches: does the path, or a folder above it, match (exceptions applied in order)? */
  matchesOrParentMatches(file: string): boolean {
    return this.matchesUsingParentResults(file, undefined)[0];
  }

  matchesUsingParentResults(file: string, parent: MatchInfo | undefined): [boolean, MatchInfo] {
    const parentMatched = parent?.parentMatched ?? [];
    let matched = false;
    const info: MatchInfo = { parentMatched: new Array<boolean>(this.patterns.length).fill(false) };
    this.patterns.forEach((pattern, i) => {
      let match = parentMatched.length ? parentMatched[i] : false;
      if (!match) {
        if (pattern.exclusion !== matched) return;
        match = matchPattern(pattern, file);
        if (!match && !parentMatched.length) {
          const parentPath = path.posix.dirname(file);
          if (parentPath !== '.') {
            const dirs = parentPath.split('/');
            for (let j = 0; j < dirs.length && !match; j++) match = matchPattern(pattern, dirs.slice(0, j + 1).join('/'));
          }
        }
      }
      info.parentMatched[i] = match;
      if (match) matched = !pattern.exclusion;
    });
    return [matched, info];
  }
}

function withoutTrailingGlob(p: Pattern): string {
  let s = p.cleaned;
  if (s.endsWith('/**')) s = s.slice(0, -3);
  if (s.endsWith('/*')) s = s.slice(0, -2);
  return s;
}

/** What filepath.Match rejects as ErrBadPattern: an unfinished class or escape. */
function validPattern(p: string): boolean {
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '\\') {
      if (i + 1 >= p.length) return false;
      i++;
    } else if (p[i] === '[') {
      let j = i + 1;
      if (p[j] === '^') j++;
      if (p[j] === ']' || j >= p.length) return false;
      for (; j < p.length && p[j] !== ']'; j++) if (p[j] === '\\') j++;
      if (j >= p.length) return false;
      i = j;
    }
  }
  return true;
}

function matchPattern(pattern: Pattern, file: string): boolean {
  if (!pattern.kind) compilePattern(pattern);
  const p = pattern.cleaned;
  switch (pattern.kind) {
    case 'exact':
      return file === p;
    case 'prefix':
      return file.startsWith(p.slice(0, -2));
    case 'suffix': {
      const suffix = p.slice(2);
      if (file.endsWith(suffix)) return true;
      return suffix[0] === '/' && file === suffix.slice(1);
    }
    case 'regexp':
      if (!pattern.regexp) throw new Error(`syntax error in pattern: ${p}`);
      return pattern.regexp.test(file);
    default:
      return false;
  }
}

const REGEXP_ESCAPED = new Set('.+()|{}$');

function compilePattern(pattern: Pattern): void {
  let source = '^';
  let kind: Pattern['kind'] = 'exact';
  const chars = [...pattern.cleaned];
  let inClass = false;
  for (let i = 0, at = 0; at < chars.length; i++) {
    const ch = chars[at++];
    if (ch === '*') {
      if (chars[at] === '*') {
        at++;
        // "**/" is "**": the slash is eaten.
        if (chars[at] === '/') at++;
        if (at >= chars.length) {
          // "**" at the end: everything below (as .gitignore).
          if (kind === 'exact') kind = 'prefix';
          else {
            source += '.*';
            kind = 'regexp';
          }
        } else {
          source += '(.*/)?';
          kind = 'regexp';
        }
        if (i === 0) kind = 'suffix';
      } else {
        source += '[^/]*';
        kind = 'regexp';
      }
    } else if (ch === '?') {
      source += '[^/]';
      kind = 'regexp';
    } else if (REGEXP_ESCAPED.has(ch)) {
      source += `\\${ch}`;
    } else if (ch === '\\') {
      if (at < chars.length) {
        const next = chars[at++];
        source += /[A-Za-z0-9]/.test(next) ? next : `\\${next}`;
        kind = 'regexp';
      } else {
        source += '\\\\';
      }
    } else if (ch === '[' || ch === ']') {
      // A ] outside a class is a plain character to Go's regexp; a JavaScript one with the u flag refuses it.
      source += ch === ']' && !inClass ? '\\]' : ch;
      if (ch === '[' && !inClass) inClass = true;
      else if (ch === ']' && inClass) inClass = false;
      kind = 'regexp';
    } else {
      source += ch;
    }
  }
  if (kind === 'regexp') {
    try {
      pattern.regexp = new RegExp(`${source}$`, 'u');
    } catch {
      pattern.regexp = undefined;
    }
  }
  pattern.kind = kind;
}
