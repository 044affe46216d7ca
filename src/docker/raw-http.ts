// One GET over the daemon's unix socket or plain TCP, its body read into a single reused buffer: the way
// in for the two large streams of an audit (the image export, a node_modules archive). Node's http client hands every
// socket read over in a fresh buffer that only a garbage collection frees: streaming a 700 MB archive that
// way took a process from 43 to 89 MiB of RSS, this way to 50 MiB (bench/http-stream-rss.mjs,
// docs/bench.md). The body's chunks are therefore lent (chunk-source.ts). HTTP/1.1 as the daemon answers
// it: a status line, headers, then a body framed by chunked encoding, a Content-Length, or the close.
import net from 'node:net';
import type { ChunkSource, OnChunk, Pending } from './chunk-source.js';

const HEAD_MAX_BYTES = 64 * 1024;
/** A chunk-size or trailer line longer than this is not HTTP. */
const LINE_MAX_BYTES = 4 * 1024;
const READ_BUFFER_BYTES = 64 * 1024;
/** An error's body is read whole up to this (Docker's are a line of JSON). */
const ERROR_BODY_MAX_BYTES = 64 * 1024;
/** ...and within this: the daemon writes an error's body with its head. */
const TEXT_BOUND_MS = 30_000;
/** A body nobody started to read within this is dropped (its socket closed), so no caller can leak one. */
const UNREAD_BOUND_MS = 30_000;
/** A daemon that sends nothing for this long while its body is read has stopped (not our consumer: its waits pause the clock). */
const IDLE_BOUND_MS = 120_000;

/** Where the daemon listens: a unix socket, or a TCP port without TLS (`tcp://host:2375`). */
export type RawEndpoint = { socketPath: string } | { host: string; port: number };

export interface ResponseHead {
  status: number;
  /** By lower-cased name; a repeated header keeps its last value. */
  headers: Map<string, string>;
}

type BodyState = 'size' | 'data' | 'data-end' | 'trailer';

/**
 * One HTTP/1.1 response parsed as its bytes are pushed in, in order: `onHead` once the head is complete,
 * then `onBody` with each part of the body (slices of the input: lent). Either may return a promise to
 * make the rest wait; `write` then returns a promise too. `end` says the connection ended.
 */
export class ResponseParser {
  head?: ResponseHead;
  /** The body was read to its end (as its framing says). */
  complete = false;
  private headParts: Buffer[] = [];
  private headBytes = 0;
  private framing: 'chunked' | 'length' | 'close' = 'close';
  private state: BodyState = 'size';
  private remaining = 0;
  private line = '';

  constructor(
    private readonly onHead: (head: ResponseHead) => Pending,
    private readonly onBody: OnChunk,
  ) {}

  write(chunk: Buffer): Pending {
    if (this.complete) return;
    if (!this.head) return this.readHead(chunk);
    let at = 0;
    while (at < chunk.length && !this.complete) {
      if (this.framing !== 'chunked' || this.state === 'data') {
        const n = this.framing === 'close' ? chunk.length - at : Math.min(this.remaining, chunk.length - at);
        const part = chunk.subarray(at, at + n);
        at += n;
        this.remaining -= n;
        if (this.framing !== 'close' && this.remaining === 0) {
          if (this.framing === 'length') this.complete = true;
          else this.state = 'data-end';
        }
        const fed = this.onBody(part);
        if (fed) return fed.then(() => this.write(chunk.subarray(at)));
        continue;
      }
      // A line of the chunked framing: a chunk's size, the CRLF after its data, or a trailer.
      const newline = chunk.indexOf(10, at);
      const stop = newline === -1 ? chunk.length : newline;
      this.line += chunk.toString('latin1', at, stop);
      at = stop;
      if (this.line.length > LINE_MAX_BYTES) throw new Error('the daemon sent a malformed chunked body (a line too long)');
      if (newline === -1) continue;
      at++;
      const line = this.line.replace(/\r$/, '');
      this.line = '';
      this.framingLine(line);
    }
  }

  /** The connection ended: a head or a body cut short is an error. */
  end(): void {
    if (!this.head) throw new Error('the daemon closed the connection before answering');
    if (this.framing !== 'close' && !this.complete) throw new Error('ended before its end (premature close)');
    this.complete = true;
  }

  private framingLine(line: string): void {
    if (this.state === 'data-end') {
      if (line !== '') throw new Error('the daemon sent a malformed chunked body (no CRLF after a chunk)');
      this.state = 'size';
    } else if (this.state === 'size') {
      // Chunk extensions (";name=value") are allowed and ignored.
      const hex = line.split(';')[0].trim();
      if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw new Error(`the daemon sent a malformed chunked body (chunk size "${hex.slice(0, 20)}")`);
      const size = parseInt(hex, 16);
      if (size === 0) this.state = 'trailer';
      else {
        this.remaining = size;
        this.state = 'data';
      }
    } else if (line === '') this.complete = true;
  }

  private readHead(chunk: Buffer): Pending {
    const before = this.headBytes;
    // A copy (concat copies): the chunk is lent.
    const seen = Buffer.concat([...this.headParts, chunk.subarray(0, Math.min(chunk.length, HEAD_MAX_BYTES))]);
    this.headBytes += chunk.length;
    const end = seen.indexOf('\r\n\r\n');
    if (end === -1) {
      if (this.headBytes >= HEAD_MAX_BYTES) throw new Error(`the daemon's answer has no end of its head within ${HEAD_MAX_BYTES} bytes`);
      this.headParts = [seen];
      return;
    }
    this.headParts = [];
    const lines = seen.toString('latin1', 0, end).split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0]);
    if (!status) throw new Error(`the daemon did not answer in HTTP/1.1 ("${lines[0].slice(0, 40)}")`);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    this.head = { status: Number(status[1]), headers };
    const length = headers.get('content-length');
    if (/\bchunked\b/i.test(headers.get('transfer-encoding') ?? '')) this.framing = 'chunked';
    else if (length !== undefined) {
      if (!/^\d+$/.test(length)) throw new Error(`the daemon sent a bad Content-Length ("${length.slice(0, 20)}")`);
      this.framing = 'length';
      this.remaining = Number(length);
      this.complete = this.remaining === 0;
    } else if (this.head.status === 204 || this.head.status === 304) this.complete = true;
    // The body starts right after the head, in this chunk.
    const rest = chunk.subarray(end + 4 - before);
    const headed = this.onHead(this.head);
    if (headed) return headed.then(() => this.write(rest));
    return this.write(rest);
  }
}

export interface RawResponse extends ResponseHead {
  /** The body, read once, into the one buffer: each chunk lent. */
  body: ChunkSource;
  /** The body whole as text, up to 64 KB (an error's message). */
  text(): Promise<string>;
}

/**
 * GET `path` on the endpoint and resolve once the response's head is read; the body waits, unread,
 * for `body` or `text` (within UNREAD_BOUND_MS, or the request ends). `answer` bounds the wait for the
 * head: its abort ends the request. Once the body is read, a daemon silent for IDLE_BOUND_MS while we
 * wait for its bytes ends it too. `what` names the body in errors ("the image export ended before its end").
 */
export function rawGet(
  endpoint: RawEndpoint,
  path: string,
  answer: AbortSignal,
  what: string,
  bounds: { unreadMs: number; idleMs: number } = { unreadMs: UNREAD_BOUND_MS, idleMs: IDLE_BOUND_MS },
): Promise<RawResponse> {
  const { unreadMs, idleMs } = bounds;
  return new Promise<RawResponse>((resolveHead, rejectHead) => {
    let consumer: { onChunk: OnChunk; resolve: () => void; reject: (err: unknown) => void } | undefined;
    let attach: (() => void) | undefined;
    let failure: unknown;
    let finished = false;
    let waiting: Promise<void> | undefined;
    let headed = false;

    /** The request ends: read to its end (`failed` false), or not, for `err`. */
    const end = (failed: boolean, err?: unknown) => {
      if (finished) return;
      finished = true;
      answer.removeEventListener('abort', onAnswerAbort);
      clearTimeout(unread);
      socket.destroy();
      if (!failed) return consumer?.resolve();
      failure = err ?? new Error(`${what} was not read to its end`);
      if (!headed) rejectHead(failure);
      else consumer?.reject(failure);
    };
    const finish = () => end(false);
    const fail = (err: unknown) => end(true, err);
    const onAnswerAbort = () => fail(answer.reason);

    let unread: NodeJS.Timeout | undefined;
    const parser = new ResponseParser(
      (head) => {
        headed = true;
        answer.removeEventListener('abort', onAnswerAbort);
        const waitForConsumer = new Promise<void>((resolve) => (attach = resolve));
        unread = setTimeout(() => fail(new Error(`${what} was not read within ${unreadMs / 1000} s`)), unreadMs).unref();
        resolveHead({ ...head, body, text });
        return waitForConsumer;
      },
      // Nothing more reaches a consumer once the request ended (an abort while it waited on a chunk).
      (chunk) => (finished ? undefined : consumer!.onChunk(chunk)),
    );

    const body: ChunkSource = (onChunk, signal) =>
      new Promise<void>((resolve, reject) => {
        if (consumer) return reject(new Error(`internal: ${what} was read twice`));
        if (finished && failure !== undefined) return reject(failure);
        const onAbort = () => fail(signal?.reason ?? new Error('aborted'));
        const settle = <A extends unknown[]>(then: (...args: A) => void) => (...args: A) => {
          signal?.removeEventListener('abort', onAbort);
          then(...args);
        };
        consumer = { onChunk, resolve: settle(resolve), reject: settle(reject) };
        clearTimeout(unread);
        if (signal?.aborted) return onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
        attach?.();
      });

    const text = async (): Promise<string> => {
      const parts: Buffer[] = [];
      let bytes = 0;
      await body((chunk) => {
        if (bytes < ERROR_BODY_MAX_BYTES) parts.push(Buffer.from(chunk.subarray(0, ERROR_BODY_MAX_BYTES - bytes)));
        bytes += chunk.length;
      }, AbortSignal.timeout(TEXT_BOUND_MS));
      return Buffer.concat(parts).toString('utf8');
    };

    /** After each read: a finished body ends the request; a wait pauses the socket until it settles. */
    const afterWrite = (wrote: Pending): boolean => {
      if (!wrote) {
        if (parser.complete) finish();
        return true;
      }
      // The consumer's wait is not the daemon's silence: the idle clock stops while it waits.
      socket.setTimeout(0);
      waiting = wrote.then(() => {
        waiting = undefined;
        if (parser.complete) finish();
        else if (!finished) {
          if (consumer) socket.setTimeout(idleMs);
          socket.resume();
        }
      });
      waiting.catch(fail);
      return false;
    };

    const socket = net.connect({
      // A bracketed IPv6 literal (as a URL writes it) is the address without its brackets.
      ...('socketPath' in endpoint ? { path: endpoint.socketPath } : { host: endpoint.host.replace(/^\[(.*)\]$/, '$1'), port: endpoint.port }),
      onread: {
        buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES),
        callback: (bytes: number, buffer: Uint8Array) => {
          if (finished) return false;
          try {
            return afterWrite(parser.write((buffer as Buffer).subarray(0, bytes)));
          } catch (err) {
            fail(err);
            return false;
          }
        },
      },
    });
    socket.on('timeout', () => fail(Object.assign(new Error(`${what}: the daemon sent nothing for ${idleMs / 1000} s`), { code: 'ETIMEDOUT' })));
    const host = 'socketPath' in endpoint ? 'docker' : `${endpoint.host}:${endpoint.port}`;
    socket.on('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: image-audit\r\nConnection: close\r\n\r\n`));
    // A reset after the head names the body it cut (the code is kept).
    socket.on('error', (err: NodeJS.ErrnoException) => fail(headed ? Object.assign(new Error(`${what} broke off: ${err.message}`), { code: err.code }) : err));
    // The end of the connection: what is still waiting is read first, then the body must be complete.
    socket.on('close', () => {
      // A wait that failed has failed the request already.
      void Promise.resolve(waiting).then(
        () => {
          try {
            parser.end();
            finish();
          } catch (err) {
            fail(headed ? new Error(`${what} ${(err as Error).message}`) : err);
          }
        },
        () => undefined,
      );
    });
    if (answer.aborted) return onAnswerAbort();
    answer.addEventListener('abort', onAnswerAbort, { once: true });
  });
}
