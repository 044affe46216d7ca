// DiffCopy (moby.filesync.v1.FileSync/DiffCopy): the sender side of tonistiigi/fsutil's protocol
// (send.go), through which BuildKit's Dockerfile frontend asks for a folder. One STAT packet per entry in
// walk order (./walk.ts), then an empty STAT; each REQ (ID = index of a STAT sent) is answered with the
// file's bytes in DATA packets and an empty DATA; a FIN is answered with a FIN.
import { constants as fsConstants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import grpc from '@grpc/grpc-js';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { fileCanRequestData, sentMode } from './file-mode.js';
import { int64, PACKET_DATA, PACKET_ERR, PACKET_FIN, PACKET_REQ, PACKET_STAT, type Packet } from './messages.js';
import { metadataValues } from './raw-metadata.js';
import { walkFiltered, type WalkEntry } from './walk.js';

/** One folder the daemon may ask for by its name ("context", "dockerfile"). */
export interface SyncedDir {
  name: string;
  dir: string;
  /** Send uid and gid 0 (the docker CLI does so for the context, whoever owns the files). */
  resetOwner?: boolean;
}

/** The CLI's per-file buffer is 32 KiB; larger chunks cost fewer messages and stay far below gRPC's 4 MiB. */
const CHUNK_BYTES = 128 * 1024;
/** fsutil's sender serves requested files with 4 workers. */
const FILE_WORKERS = 4;

export async function serveDiffCopy(call: ServerDuplexStream<Packet, Packet>, dirs: Map<string, SyncedDir>, signal: AbortSignal): Promise<void> {
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

function entryStat(entry: WalkEntry, resetOwner: boolean, hardlinks: Map<string, Buffer>): Record<string, unknown> {
  const st = entry.stat;
  const mode = sentMode(st);
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
