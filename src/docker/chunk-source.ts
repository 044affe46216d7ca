// How the port hands over a large body (an image export, a folder's archive): pushed chunk by chunk to
// one consumer, each chunk *lent*. A source may read the next bytes into the same memory, so a chunk is
// valid only until the consumer returns, or until the promise it returned settles; what must be kept is
// copied. That is what lets a source read a 1.8 GB export through one reused buffer (raw-http.ts).
import type { Readable } from 'node:stream';

/** What a consumer returns for a chunk: a promise asks the source to wait (no next chunk until it settles). */
export type Pending = void | Promise<void>;
export type OnChunk = (chunk: Buffer) => Pending;

/**
 * Reads the body to its end, each chunk lent to `onChunk` in order. Resolves at the end of the body;
 * rejects on a read error, an early end, the signal, or a consumer's throw or rejection. Read once.
 */
export type ChunkSource = (onChunk: OnChunk, signal?: AbortSignal) => Promise<void>;

/** Where nudgeScavenger's garbage goes, so that no compiler can prove it unused and drop it. */
let scavengerNudge: unknown;

/**
 * A Readable hands over each chunk in a fresh 64 KB buffer (external memory, behind a tiny JS object),
 * and so does any copy of a lent chunk. V8 frees dead ones when its young generation fills or external
 * memory grew by ~64 MB; a consumer that allocates almost nothing per chunk (the tar walk) lets dead
 * chunks pile up towards that limit.
 * Measured on the compliant image's export (`--only secrets`): peak RSS 107–117 MB without this, 78–83 MB
 * with it. Short-lived garbage of a quarter of each chunk's size makes a scavenge every few MB.
 */
export function nudgeScavenger(bytes: number): void {
  scavengerNudge = new Array(bytes >> 5);
}

/**
 * A Readable as a chunk source (the dockerode path, tests). It is read in flowing mode, chunk by chunk as
 * they arrive, paused only while the consumer asks to wait. (An async iterator reads in paused mode, where
 * `read()` concatenates what is buffered: a copy of every byte, measured at +15–30 MB of peak RSS.)
 * `what` names the stream in the error of an early end ("the image export ended before its end").
 */
export function chunksOf(stream: Readable, what: string): ChunkSource {
  let taken = false;
  return (onChunk, signal) =>
    new Promise<void>((resolve, reject) => {
      if (taken) return reject(new Error(`internal: ${what} was read twice`));
      taken = true;
      let settled = false;
      let ended = false;
      const done = (err?: unknown) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        stream.off('data', onData);
        if (err === undefined) return resolve();
        stream.destroy();
        reject(signal?.aborted ? (signal.reason ?? err) : err);
      };
      const onAbort = () => done(signal?.reason ?? new Error('aborted'));
      // A chunk that asked to wait: later chunks (and the end) wait for it, in order.
      let waiting: Promise<void> | undefined;
      const write = (chunk: Buffer): Pending => {
        if (settled) return;
        const wrote = onChunk(chunk);
        if (!wrote) return;
        stream.pause();
        const current: Promise<void> = wrote.then(() => {
          if (waiting === current) waiting = undefined;
          if (!settled) stream.resume();
        });
        waiting = current;
        current.catch(done);
        return current;
      };
      const onData = (chunk: Buffer) => {
        nudgeScavenger(chunk.length);
        if (waiting) {
          const next: Promise<void> = waiting.then(() => write(chunk));
          waiting = next;
          next.then(() => {
            if (waiting === next) waiting = undefined;
          }, done);
          return;
        }
        try {
          write(chunk);
        } catch (err) {
          done(err);
        }
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      stream.on('data', onData);
      stream.once('error', done);
      // 'end' may come while a chunk still waits (a paused stream that had nothing left still ends).
      stream.once('end', () => {
        ended = true;
        Promise.resolve(waiting).then(() => done(), done);
      });
      stream.once('close', () => {
        if (!ended) done(new Error(`${what} ended before its end (premature close)`));
      });
    });
}
