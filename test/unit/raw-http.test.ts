// The raw HTTP read of the daemon's large bodies (src/docker/raw-http.ts). ResponseParser: whole responses
// and every way of cutting them into pieces give the same body; its errors; a callback's promise holds the
// rest back. rawGet against real servers on a unix socket in a temporary folder (and once on a port of 127.0.0.1, as
// a tcp:// engine without TLS is read; never another address): a large chunked
// body read through the one lent buffer, error statuses, early ends, aborts, a throwing consumer. Every
// connection a server accepts must have ended when its test does (afterEach).
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rawGet, ResponseParser, type ResponseHead } from '../../src/docker/raw-http.js';

const CRLF = '\r\n';
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A seeded generator (mulberry32): the same splits on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const between = (random: () => number, lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));

function bytesOf(n: number, seed: number): Buffer {
  const random = prng(seed);
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(random() * 256);
  return out;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A status line, header lines, the blank line, then `rest` as it is. */
function response(statusLine: string, headers: string[], rest: Buffer | string = ''): Buffer {
  return Buffer.concat([Buffer.from([statusLine, ...headers, '', ''].join(CRLF), 'latin1'), Buffer.from(rest)]);
}

/** A chunked body: each part as a chunk (size in hex, an optional extension), the last chunk, trailers. */
function chunked(parts: Array<Buffer | string>, options: { ext?: (i: number) => string; upper?: boolean; lastExt?: string; trailers?: string[] } = {}): Buffer {
  const out: Buffer[] = [];
  parts.forEach((part, i) => {
    const data = Buffer.from(part);
    const size = options.upper ? data.length.toString(16).toUpperCase() : data.length.toString(16);
    out.push(Buffer.from(`${size}${options.ext?.(i) ?? ''}${CRLF}`, 'latin1'), data, Buffer.from(CRLF));
  });
  out.push(Buffer.from(`0${options.lastExt ?? ''}${CRLF}${(options.trailers ?? []).map((t) => t + CRLF).join('')}${CRLF}`, 'latin1'));
  return Buffer.concat(out);
}

/** `buf` cut at these offsets (sorted, deduplicated, empty pieces dropped). */
function cutAt(buf: Buffer, offsets: number[]): Buffer[] {
  const points = [...new Set(offsets.filter((o) => o > 0 && o < buf.length))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of [...points, buf.length]) {
    out.push(buf.subarray(from, p));
    from = p;
  }
  return out;
}

const fixedPieces = (buf: Buffer, size: number) => cutAt(buf, Array.from({ length: Math.ceil(buf.length / size) }, (_, i) => i * size));

function randomPieces(buf: Buffer, seed: number, maxPiece: number): Buffer[] {
  const random = prng(seed);
  const offsets: number[] = [];
  for (let at = 0; at < buf.length; at += between(random, 1, maxPiece)) offsets.push(at);
  return cutAt(buf, offsets);
}

/** Every offset of `needle` in `buf`. */
function offsetsOf(buf: Buffer, needle: string): number[] {
  const out: number[] = [];
  for (let at = buf.indexOf(needle); at !== -1; at = buf.indexOf(needle, at + 1)) out.push(at);
  return out;
}

/** The named ways of cutting a response, besides the two-piece cut at every offset. */
function splittings(raw: Buffer): Array<[string, Buffer[]]> {
  const headEnd = raw.indexOf('\r\n\r\n');
  const lineStarts = offsetsOf(raw, '\n').map((o) => o + 1);
  return [
    ['whole', [raw]],
    ['1-byte pieces', fixedPieces(raw, 1)],
    ...[2, 3, 5, 7, 13, 64].map((n): [string, Buffer[]] => [`${n}-byte pieces`, fixedPieces(raw, n)]),
    ...[1, 2, 3].map((d): [string, Buffer[]] => [`cut ${d} bytes into the head's \\r\\n\\r\\n`, cutAt(raw, [headEnd + d])]),
    ['cut inside \\r\\n\\r\\n at every offset at once', cutAt(raw, [headEnd + 1, headEnd + 2, headEnd + 3])],
    ['cut between every CR and its LF', cutAt(raw, offsetsOf(raw, '\r\n').map((o) => o + 1))],
    // After the head, the first byte of a line is a chunk size's first digit, the first byte of a trailer...
    ['cut one byte into every line', cutAt(raw, lineStarts.map((o) => o + 1))],
    ['cut at every line start and one byte in', cutAt(raw, lineStarts.flatMap((o) => [o, o + 1]))],
    ...Array.from({ length: 8 }, (_, i): [string, Buffer[]] => [`random pieces of 1..${i < 4 ? 9 : 700} bytes (seed ${i})`, randomPieces(raw, 1000 + i, i < 4 ? 9 : 700)]),
  ];
}

interface Fed {
  head?: ResponseHead;
  headCalls: number;
  /** An onBody came before onHead. */
  bodyFirst: boolean;
  body: Buffer;
  /** `complete` after the last write, before `end`. */
  complete: boolean;
  /** A write returned something (with callbacks that never wait, it must not). */
  waited: boolean;
  endError?: unknown;
  completeAfterEnd: boolean;
}

/**
 * Feeds the pieces the way the socket lends them: each is copied into one buffer that is overwritten
 * once `write` returned, so a parser keeping a view of its input (not a copy) would read garbage.
 */
function feed(pieces: Buffer[]): Fed {
  const parts: Buffer[] = [];
  const fed: Fed = { headCalls: 0, bodyFirst: false, body: Buffer.alloc(0), complete: false, waited: false, completeAfterEnd: false };
  const parser = new ResponseParser(
    (head) => {
      fed.headCalls++;
      fed.head = head;
    },
    (chunk) => {
      if (fed.headCalls === 0) fed.bodyFirst = true;
      parts.push(Buffer.from(chunk));
    },
  );
  const lent = Buffer.alloc(Math.max(1, ...pieces.map((p) => p.length)));
  for (const piece of pieces) {
    piece.copy(lent);
    if (parser.write(lent.subarray(0, piece.length)) !== undefined) fed.waited = true;
    lent.fill(0xa5);
  }
  fed.body = Buffer.concat(parts);
  fed.complete = parser.complete;
  try {
    parser.end();
  } catch (err) {
    fed.endError = err;
  }
  fed.completeAfterEnd = parser.complete;
  return fed;
}

interface Case {
  name: string;
  raw: Buffer;
  status: number;
  headers?: Record<string, string>;
  body: Buffer | string;
  /** Framed by the close: complete only once the connection ended. */
  closeFramed?: boolean;
}

/** A body that looks like framing: the head's end, a last chunk, a status line, then binary bytes. */
const tricky = Buffer.concat([Buffer.from('\r\n\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n5\r\n', 'latin1'), bytesOf(1500, 7)]);
const slices = (buf: Buffer, sizes: number[]) => cutAt(buf, sizes.reduce<number[]>((acc, n) => [...acc, (acc.at(-1) ?? 0) + n], []));

const cases: Case[] = [
  {
    name: 'a chunked body (sizes of 1 to 700 bytes, upper-case hex, a body that looks like framing)',
    raw: response(
      'HTTP/1.1 200 OK',
      ['Content-Type: application/x-tar', 'Transfer-Encoding: chunked', 'X-Dup: first', 'x-DUP:   second  ', 'Api-Version: 1.45'],
      chunked(slices(tricky, [1, 16, 255, 256, 700]), { upper: true }),
    ),
    status: 200,
    headers: { 'content-type': 'application/x-tar', 'transfer-encoding': 'chunked', 'x-dup': 'second', 'api-version': '1.45' },
    body: tricky,
  },
  {
    name: 'chunk extensions (5;x=y)',
    raw: response('HTTP/1.1 200 OK', ['Transfer-Encoding: chunked'], chunked(['hello', ', ', 'world', tricky.subarray(0, 300)], { ext: (i) => [';x=y', ';name="quoted;value"', ';a;b=c', ' ; spaced=1'][i], lastExt: ';final=1' })),
    status: 200,
    body: Buffer.concat([Buffer.from('hello, world'), tricky.subarray(0, 300)]),
  },
  {
    name: 'trailers after the last chunk',
    raw: response('HTTP/1.1 200 OK', ['Transfer-Encoding: chunked'], chunked(['hel', 'lo'], { trailers: ['X-Checksum: abc', 'X-Other: 5', 'X-Empty:'] })),
    status: 200,
    body: 'hello',
  },
  {
    name: 'an empty chunked body',
    raw: response('HTTP/1.1 200 OK', ['Transfer-Encoding: chunked'], chunked([])),
    status: 200,
    body: '',
  },
  {
    name: 'a Content-Length body',
    raw: response('HTTP/1.1 200 OK', ['Content-Type: application/octet-stream', `Content-Length: ${tricky.length}`], tricky),
    status: 200,
    headers: { 'content-length': String(tricky.length) },
    body: tricky,
  },
  {
    name: 'bytes past the Content-Length (not the body)',
    raw: response('HTTP/1.1 200 OK', ['Content-Length: 5'], 'helloHTTP/1.1 500 Oops\r\n\r\nmore'),
    status: 200,
    body: 'hello',
  },
  {
    name: 'a close-framed body',
    raw: response('HTTP/1.1 200 OK', ['Content-Type: application/x-tar'], tricky),
    status: 200,
    body: tricky,
    closeFramed: true,
  },
  {
    name: 'Content-Length: 0',
    raw: response('HTTP/1.1 200 OK', ['Content-Length: 0']),
    status: 200,
    body: '',
  },
  {
    name: 'a 204',
    raw: response('HTTP/1.1 204 No Content', ['Api-Version: 1.45', 'Date: Mon, 01 Jan 2024 00:00:00 GMT']),
    status: 204,
    headers: { 'api-version': '1.45', date: 'Mon, 01 Jan 2024 00:00:00 GMT' },
    body: '',
  },
  {
    name: 'a 304',
    raw: response('HTTP/1.1 304 Not Modified', ['ETag: "x"']),
    status: 304,
    body: '',
  },
  {
    name: 'an HTTP/1.0 status line without a reason phrase',
    raw: response('HTTP/1.0 404', ['Content-Length: 30'], '{"message":"No such image: x"}'),
    status: 404,
    body: '{"message":"No such image: x"}',
  },
];

describe('ResponseParser', () => {
  it.each(cases)('$name: the same head and body however the response is cut', (c) => {
    const expected = Buffer.from(c.body);
    const ways = splittings(c.raw);
    for (let at = 1; at < c.raw.length; at++) ways.push([`two pieces cut at ${at}`, cutAt(c.raw, [at])]);
    const failures: string[] = [];
    for (const [way, pieces] of ways) {
      expect(Buffer.concat(pieces).equals(c.raw)).toBe(true);
      const fed = feed(pieces);
      const wrong = (what: string) => failures.push(`${way}: ${what}`);
      if (fed.headCalls !== 1) wrong(`onHead called ${fed.headCalls} times`);
      if (fed.bodyFirst) wrong('onBody before onHead');
      if (fed.waited) wrong('write returned a promise though no callback did');
      if (fed.head?.status !== c.status) wrong(`status ${fed.head?.status}`);
      for (const [name, value] of Object.entries(c.headers ?? {})) if (fed.head?.headers.get(name) !== value) wrong(`header ${name}: ${fed.head?.headers.get(name)}`);
      if (!fed.body.equals(expected)) wrong(`body of ${fed.body.length} bytes (${fed.body.toString('latin1', 0, 40)}...) instead of ${expected.length}`);
      // Close framing cannot know its end before the close; every other framing knows it.
      if (fed.complete !== !c.closeFramed) wrong(`complete is ${fed.complete} after the last write`);
      if (fed.endError !== undefined) wrong(`end() threw ${String(fed.endError)}`);
      if (!fed.completeAfterEnd) wrong("complete is false after end()");
    }
    expect(failures).toEqual([]);
    expect(ways.length).toBeGreaterThan(c.raw.length);
  });

  it('keeps no view of its input: the head read in 1-byte pieces from a reused buffer is intact', () => {
    const raw = response('HTTP/1.1 200 OK', ['Content-Type: application/json', 'Content-Length: 2'], '{}');
    const fed = feed(fixedPieces(raw, 1));
    expect(fed.head?.status).toBe(200);
    expect([...fed.head!.headers]).toEqual([
      ['content-type', 'application/json'],
      ['content-length', '2'],
    ]);
    expect(fed.body.toString()).toBe('{}');
  });

  describe('errors', () => {
    const ok = 'HTTP/1.1 200 OK';
    const te = ['Transfer-Encoding: chunked'];
    const errors: Array<{ name: string; raw: Buffer; at: 'write' | 'end'; message: RegExp }> = [
      { name: 'a malformed chunk size', raw: response(ok, te, '5\r\nhello\r\nzz\r\nabc\r\n0\r\n\r\n'), at: 'write', message: /malformed chunked body \(chunk size "zz"\)/ },
      { name: 'a negative chunk size', raw: response(ok, te, '-5\r\nhello\r\n0\r\n\r\n'), at: 'write', message: /malformed chunked body \(chunk size "-5"\)/ },
      { name: 'an empty chunk-size line', raw: response(ok, te, '\r\nhello\r\n0\r\n\r\n'), at: 'write', message: /malformed chunked body \(chunk size ""\)/ },
      { name: 'a chunk size of 13 hex digits', raw: response(ok, te, '1000000000000\r\nhello\r\n'), at: 'write', message: /malformed chunked body \(chunk size "1000000000000"\)/ },
      { name: 'a missing CRLF after chunk data', raw: response(ok, te, '5\r\nhello5\r\nworld\r\n0\r\n\r\n'), at: 'write', message: /malformed chunked body \(no CRLF after a chunk\)/ },
      { name: 'chunk data longer than its size', raw: response(ok, te, '3\r\nhello\r\n0\r\n\r\n'), at: 'write', message: /no CRLF after a chunk/ },
      { name: 'a chunk-size line over 4 KB', raw: response(ok, te, `5${' '.repeat(5000)}\r\nhello\r\n0\r\n\r\n`), at: 'write', message: /malformed chunked body \(a line too long\)/ },
      { name: 'a non-HTTP status line', raw: Buffer.from('SSH-2.0-OpenSSH_9.6\r\n\r\n'), at: 'write', message: /did not answer in HTTP\/1\.1 \("SSH-2\.0-OpenSSH_9\.6"\)/ },
      { name: 'an HTTP/2 status line', raw: response('HTTP/2 200', ['Content-Length: 0']), at: 'write', message: /did not answer in HTTP\/1\.1/ },
      { name: 'a four-digit status', raw: response('HTTP/1.1 2000 OK', ['Content-Length: 0']), at: 'write', message: /did not answer in HTTP\/1\.1/ },
      { name: 'a Content-Length with letters', raw: response(ok, ['Content-Length: 12abc'], 'x'), at: 'write', message: /bad Content-Length \("12abc"\)/ },
      { name: 'a negative Content-Length', raw: response(ok, ['Content-Length: -1'], 'x'), at: 'write', message: /bad Content-Length \("-1"\)/ },
      { name: 'an empty Content-Length', raw: response(ok, ['Content-Length:'], 'x'), at: 'write', message: /bad Content-Length \(""\)/ },
      { name: 'a head of over 64 KB', raw: Buffer.from(`${ok}\r\n${'X-Pad: 0123456789abcdef\r\n'.repeat(3000)}`), at: 'write', message: /no end of its head within 65536 bytes/ },
      { name: 'end() before any byte', raw: Buffer.alloc(0), at: 'end', message: /closed the connection before answering/ },
      { name: 'end() in the middle of the head', raw: Buffer.from(`${ok}\r\nContent-Length: 5\r\n`), at: 'end', message: /closed the connection before answering/ },
      { name: 'end() in the middle of chunk data', raw: response(ok, te, '5\r\nhello\r\na\r\n01234'), at: 'end', message: /^ended before its end \(premature close\)$/ },
      { name: 'end() in the middle of a chunk-size line', raw: response(ok, te, '5\r\nhello\r\n1'), at: 'end', message: /premature close/ },
      { name: 'end() before the CRLF after chunk data', raw: response(ok, te, '5\r\nhello\r'), at: 'end', message: /premature close/ },
      { name: 'end() after the last chunk, before the blank line', raw: response(ok, te, '5\r\nhello\r\n0\r\n'), at: 'end', message: /premature close/ },
      { name: 'end() in the middle of a trailer', raw: response(ok, te, '0\r\nX-Checksum: a'), at: 'end', message: /premature close/ },
      { name: 'end() right after a chunked head', raw: response(ok, te), at: 'end', message: /premature close/ },
      { name: 'end() in the middle of a Content-Length body', raw: response(ok, ['Content-Length: 10'], '01234'), at: 'end', message: /^ended before its end \(premature close\)$/ },
      { name: 'end() right after a Content-Length head', raw: response(ok, ['Content-Length: 10']), at: 'end', message: /premature close/ },
    ];

    function errorOf(pieces: Buffer[]): { at: 'write' | 'end' | 'none'; message?: string } {
      const parser = new ResponseParser(
        () => {},
        () => {},
      );
      let at: 'write' | 'end' = 'write';
      try {
        for (const piece of pieces) parser.write(piece);
        at = 'end';
        parser.end();
      } catch (err) {
        return { at, message: (err as Error).message };
      }
      return { at: 'none' };
    }

    it.each(errors)('$name', ({ raw, at, message }) => {
      const ways: Array<[string, Buffer[]]> = [
        ['whole', [raw]],
        ['1000-byte pieces', fixedPieces(raw, 1000)],
        ['random pieces', randomPieces(raw, 42, 11)],
      ];
      // 1-byte pieces re-join the head at every byte: quadratic, too slow for the 64 KB head.
      if (raw.length < 8192) ways.push(['1-byte pieces', fixedPieces(raw, 1)]);
      for (const [way, pieces] of ways) {
        const got = errorOf(pieces);
        expect(got.at, way).toBe(at);
        expect(got.message, way).toMatch(message);
      }
    });

    it('a malformed size is not mistaken for the end of the body: nothing after it is delivered', () => {
      const parts: string[] = [];
      const parser = new ResponseParser(
        () => {},
        (chunk) => void parts.push(chunk.toString()),
      );
      expect(() => parser.write(response('HTTP/1.1 200 OK', ['Transfer-Encoding: chunked'], '5\r\nhello\r\nzz\r\nabc\r\n0\r\n\r\n'))).toThrow(/chunk size "zz"/);
      expect(parts).toEqual(['hello']);
      expect(parser.complete).toBe(false);
    });
  });

  describe('backpressure', () => {
    /** A promise settled from outside. */
    function deferred() {
      let resolve!: () => void;
      let reject!: (err: unknown) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    }

    it("an onBody's promise makes write return one, and holds the rest of the chunk until it settles", async () => {
      const events: string[] = [];
      const waits = new Map<string, ReturnType<typeof deferred>>([['def', deferred()]]);
      const parser = new ResponseParser(
        (head) => void events.push(`head ${head.status}`),
        (chunk) => {
          const text = chunk.toString();
          events.push(text);
          return waits.get(text)?.promise;
        },
      );
      const wrote = parser.write(response('HTTP/1.1 200 OK', ['Transfer-Encoding: chunked'], chunked(['abc', 'def', 'ghi', 'jkl'])));
      expect(wrote).toBeInstanceOf(Promise);
      await sleep(20);
      expect(events).toEqual(['head 200', 'abc', 'def']);
      expect(parser.complete).toBe(false);
      waits.get('def')!.resolve();
      await wrote;
      expect(events).toEqual(['head 200', 'abc', 'def', 'ghi', 'jkl']);
      expect(parser.complete).toBe(true);
    });

    it('a wait on every part: parts one at a time, in order, never two at once', async () => {
      const raw = response('HTTP/1.1 200 OK', ['Transfer-Encoding: chunked'], chunked(slices(tricky, [3, 100, 1, 500, 7])));
      const parts: Buffer[] = [];
      let busy = false;
      let overlapped = false;
      const parser = new ResponseParser(
        () => {},
        async (chunk) => {
          if (busy) overlapped = true;
          busy = true;
          const copy = Buffer.from(chunk);
          await sleep(1);
          // Lent, but valid until the promise settles: the parser did not move on.
          expect(chunk.equals(copy)).toBe(true);
          parts.push(copy);
          busy = false;
        },
      );
      for (const piece of randomPieces(raw, 5, 300)) {
        const wrote = parser.write(piece);
        if (wrote) await wrote;
      }
      expect(overlapped).toBe(false);
      expect(Buffer.concat(parts).equals(tricky)).toBe(true);
      expect(parser.complete).toBe(true);
    });

    it("an onHead's promise holds the body back; a Content-Length body in the head's chunk follows it", async () => {
      const events: string[] = [];
      const wait = deferred();
      const parser = new ResponseParser(
        () => {
          events.push('head');
          return wait.promise;
        },
        (chunk) => void events.push(chunk.toString()),
      );
      const wrote = parser.write(response('HTTP/1.1 200 OK', ['Content-Length: 11'], 'hello world'));
      expect(wrote).toBeInstanceOf(Promise);
      await sleep(10);
      expect(events).toEqual(['head']);
      wait.resolve();
      await wrote;
      expect(events).toEqual(['head', 'hello world']);
      expect(parser.complete).toBe(true);
    });

    it("a rejected promise rejects write's, and nothing after it is delivered", async () => {
      const events: string[] = [];
      const failure = new Error('the consumer failed');
      const parser = new ResponseParser(
        () => {},
        (chunk) => {
          events.push(chunk.toString());
          if (chunk.toString() === 'abc') return Promise.reject(failure);
        },
      );
      await expect(parser.write(response('HTTP/1.1 200 OK', ['Transfer-Encoding: chunked'], chunked(['abc', 'def'])))).rejects.toBe(failure);
      expect(events).toEqual(['abc']);
      expect(parser.complete).toBe(false);
    });
  });
});

// ---- rawGet against servers on a unix socket -------------------------------------------------------

interface Conn {
  socket: net.Socket;
  /** What the client sent, up to the end of its head. */
  request: Promise<string>;
  closed: Promise<void>;
  isClosed: boolean;
  errors: Error[];
}
interface Served {
  path: string;
  dir: string;
  server: net.Server;
  conns: Conn[];
  /** The first connection, once accepted. */
  firstConn: Promise<Conn>;
}

const served: Served[] = [];

/**
 * A server on a unix socket in a new temporary folder (or, with `tcp`, on a free port of 127.0.0.1);
 * `answer` runs once a request's head is read.
 */
async function serve(answer: (socket: net.Socket, request: string) => void | Promise<void>, listen: { tcp?: boolean } = {}): Promise<Served> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'raw-http-'));
  const socketPath = path.join(dir, 'docker.sock');
  const conns: Conn[] = [];
  let first!: (conn: Conn) => void;
  const firstConn = new Promise<Conn>((resolve) => (first = resolve));
  const server = net.createServer((socket) => {
    let requestDone!: (r: string) => void;
    const conn: Conn = {
      socket,
      request: new Promise<string>((resolve) => (requestDone = resolve)),
      closed: new Promise<void>((resolve) => socket.once('close', () => resolve())),
      isClosed: false,
      errors: [],
    };
    socket.once('close', () => (conn.isClosed = true));
    // A client gone while the server writes (EPIPE, ECONNRESET) is expected in the abort tests.
    socket.on('error', (err) => conn.errors.push(err));
    conns.push(conn);
    first(conn);
    let received = '';
    let answered = false;
    socket.on('data', (data) => {
      received += data.toString('latin1');
      const end = received.indexOf('\r\n\r\n');
      if (answered || end === -1) return;
      answered = true;
      requestDone(received.slice(0, end + 4));
      Promise.resolve()
        .then(() => answer(socket, received.slice(0, end + 4)))
        .catch((err: Error) => conn.errors.push(err));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (listen.tcp) server.listen(0, '127.0.0.1', () => resolve());
    else server.listen(socketPath, () => resolve());
  });
  const s: Served = { path: listen.tcp ? `127.0.0.1:${(server.address() as net.AddressInfo).port}` : socketPath, dir, server, conns, firstConn };
  served.push(s);
  return s;
}

afterEach(async () => {
  const left: string[] = [];
  for (const s of served.splice(0)) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(s.conns.map((c) => c.closed)), new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000)))]);
    clearTimeout(timer);
    for (const c of s.conns.filter((c) => !c.isClosed)) {
      left.push(`a connection to ${s.path} was still open 2 s after the test`);
      c.socket.destroy();
    }
    await new Promise<void>((resolve) => s.server.close(() => resolve()));
    fs.rmSync(s.dir, { recursive: true, force: true });
  }
  expect(left).toEqual([]);
});

/** Writes, waiting for the drain when the client reads slower (or for the close of a client gone). */
function send(socket: net.Socket, data: Buffer | string): Promise<void> | void {
  if (socket.destroyed) throw new Error('the client is gone');
  if (socket.write(data)) return;
  return new Promise<void>((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

/** `promise`, or a rejection naming `what` after `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A chunked body written in varied ways: chunks of 1 byte to 300 KB, sizes in lower or upper case, some
 * with an extension; a chunk and its framing in one write, the size line cut in two, the data cut in two;
 * now and then a pause, so that the client's reads end at varied places.
 */
async function writeChunked(socket: net.Socket, data: Buffer, seed: number): Promise<void> {
  const random = prng(seed);
  await send(socket, `HTTP/1.1 200 OK${CRLF}Api-Version: 1.45${CRLF}Content-Type: application/x-tar${CRLF}Transfer-Encoding: chunked${CRLF}${CRLF}`);
  for (let at = 0, i = 0; at < data.length; i++) {
    if (socket.destroyed) return;
    const kind = random();
    const size = Math.min(data.length - at, kind < 0.25 ? between(random, 1, 16) : kind < 0.7 ? between(random, 100, 70_000) : between(random, 70_000, 300_000));
    const hex = i % 4 === 1 ? size.toString(16).toUpperCase() : size.toString(16);
    const line = `${hex}${i % 7 === 0 ? `;ext=${i}` : ''}${CRLF}`;
    const piece = data.subarray(at, at + size);
    at += size;
    switch (i % 3) {
      case 0:
        await send(socket, Buffer.concat([Buffer.from(line), piece, Buffer.from(CRLF)]));
        break;
      case 1:
        await send(socket, line.slice(0, 1));
        if (i % 2) await new Promise(setImmediate);
        await send(socket, line.slice(1));
        await send(socket, piece);
        await send(socket, '\r');
        await send(socket, '\n');
        break;
      default:
        await send(socket, Buffer.concat([Buffer.from(line), piece.subarray(0, size >> 1)]));
        await send(socket, Buffer.concat([piece.subarray(size >> 1), Buffer.from(CRLF)]));
    }
    if (i % 5 === 0) await new Promise(setImmediate);
  }
  await send(socket, `0${CRLF}${CRLF}`);
  socket.end();
}

const json = (status: string, body: string) => response(`HTTP/1.1 ${status}`, ['Api-Version: 1.45', 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`], body);

describe('rawGet', () => {
  it('sends a GET with Connection: close and resolves with the head before the body is read', async () => {
    const s = await serve((socket) => {
      socket.end(response('HTTP/1.1 200 OK', ['Api-Version: 1.45', 'Content-Length: 5'], 'hello'));
    });
    const res = await rawGet({ socketPath: s.path }, '/v1.45/images/node%3A20/get', AbortSignal.timeout(5000), 'the image export');
    const conn = await s.firstConn;
    const request = await conn.request;
    expect(request.split(CRLF)[0]).toBe('GET /v1.45/images/node%3A20/get HTTP/1.1');
    expect(request).toMatch(/\r\nConnection: close\r\n/);
    expect(request).toMatch(/\r\nHost: /);
    expect(res.status).toBe(200);
    expect(res.headers.get('api-version')).toBe('1.45');
    const parts: string[] = [];
    await res.body((chunk) => void parts.push(chunk.toString()));
    expect(parts.join('')).toBe('hello');
    await within(conn.closed, 2000, 'the connection ends after the body');
    expect(s.conns).toHaveLength(1);
  });

  it('reads a tcp:// engine without TLS the same way: Host names its address', async () => {
    const s = await serve((socket) => void socket.end(response('HTTP/1.1 200 OK', ['Content-Length: 5'], 'hello')), { tcp: true });
    const port = Number(s.path.split(':')[1]);
    const res = await rawGet({ host: '127.0.0.1', port }, '/v1.41/images/x/get', AbortSignal.timeout(5000), 'the image export');
    const request = await (await s.firstConn).request;
    expect(request.split(CRLF)[0]).toBe('GET /v1.41/images/x/get HTTP/1.1');
    expect(request).toContain(`\r\nHost: 127.0.0.1:${port}\r\n`);
    const parts: string[] = [];
    await res.body((chunk) => void parts.push(chunk.toString()));
    expect(parts.join('')).toBe('hello');
  });

  it('reads an 8 MB chunked body byte for byte, every chunk lent from one reused buffer', async () => {
    const data = randomBytes(8 * 1024 * 1024);
    const s = await serve((socket) => writeChunked(socket, data, 1));
    const res = await rawGet({ socketPath: s.path }, '/images/x/get', AbortSignal.timeout(5000), 'the image export');
    expect(res.status).toBe(200);
    const out = Buffer.alloc(data.length + 1);
    let bytes = 0;
    let chunks = 0;
    const arrayBuffers = new Set<ArrayBufferLike>();
    // Views kept past their chunk's return (which the contract forbids), with a copy made in time.
    const kept: Array<{ view: Buffer; copy: Buffer }> = [];
    await res.body((chunk) => {
      chunks++;
      arrayBuffers.add(chunk.buffer);
      if (chunk.length > 0 && kept.length < 5) kept.push({ view: chunk, copy: Buffer.from(chunk) });
      bytes += chunk.copy(out, bytes);
    });
    expect(bytes).toBe(data.length);
    expect(sha256(out.subarray(0, bytes))).toBe(sha256(data));
    // Lending is real: the chunks, hundreds of them, are all views of the one 64 KB read buffer...
    expect(chunks).toBeGreaterThan(128);
    expect(arrayBuffers.size).toBe(1);
    expect([...arrayBuffers][0].byteLength).toBe(64 * 1024);
    // ...which later reads overwrote: a view kept instead of a copy no longer holds its bytes.
    expect(kept.some(({ view, copy }) => !view.equals(copy))).toBe(true);
    await within((await s.firstConn).closed, 2000, 'the connection ends after the body');
  });

  it('reads it byte for byte when the consumer sometimes waits: a waited-on chunk stays intact until its promise settles', async () => {
    const data = randomBytes(8 * 1024 * 1024);
    const s = await serve((socket) => writeChunked(socket, data, 2));
    const res = await rawGet({ socketPath: s.path }, '/images/x/get', AbortSignal.timeout(5000), 'the image export');
    const out = Buffer.alloc(data.length + 1);
    let bytes = 0;
    let calls = 0;
    let waits = 0;
    let busy = false;
    const problems: string[] = [];
    const random = prng(3);
    await res.body((chunk) => {
      calls++;
      if (busy) problems.push(`chunk ${calls} came while a wait was pending`);
      bytes += chunk.copy(out, bytes);
      if (random() >= 0.2) return;
      waits++;
      busy = true;
      const copy = Buffer.from(chunk);
      return sleep(between(random, 1, 4)).then(() => {
        if (!chunk.equals(copy)) problems.push(`chunk ${calls} was overwritten while its promise was pending`);
        busy = false;
      });
    });
    expect(problems).toEqual([]);
    expect(waits).toBeGreaterThan(10);
    expect(bytes).toBe(data.length);
    expect(sha256(out.subarray(0, bytes))).toBe(sha256(data));
    await within((await s.firstConn).closed, 2000, 'the connection ends after the body');
  });

  it('reads a close-framed body to the close, and a body whose head came in pieces', async () => {
    const data = bytesOf(200_000, 9);
    const s = await serve(async (socket) => {
      const raw = response('HTTP/1.1 200 OK', ['Content-Type: application/x-tar'], data);
      for (const piece of [raw.subarray(0, 10), raw.subarray(10, 30), raw.subarray(30, 60), raw.subarray(60)]) {
        await send(socket, piece);
        await sleep(5);
      }
      socket.end();
    });
    const res = await rawGet({ socketPath: s.path }, '/containers/x/archive', AbortSignal.timeout(5000), 'the archive');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-tar');
    const parts: Buffer[] = [];
    await res.body((chunk) => void parts.push(Buffer.from(chunk)));
    expect(Buffer.concat(parts).equals(data)).toBe(true);
  });

  it('a 204 and a Content-Length: 0 have an empty body that ends the request', async () => {
    for (const raw of [response('HTTP/1.1 204 No Content', ['Api-Version: 1.45']), response('HTTP/1.1 200 OK', ['Content-Length: 0'])]) {
      // The server leaves the connection open: the end of the body is what ends it.
      const s = await serve((socket) => void socket.write(raw));
      const res = await rawGet({ socketPath: s.path }, '/x', AbortSignal.timeout(5000), 'the body');
      let chunks = 0;
      await res.body(() => void chunks++);
      expect(chunks).toBe(0);
      await within((await s.firstConn).closed, 2000, 'the connection ends after the empty body');
    }
  });

  it("a 404's JSON body comes whole from text()", async () => {
    const message = '{"message":"No such image: ghost:latest"}\n';
    const s = await serve((socket) => void socket.write(json('404 Not Found', message)));
    const res = await rawGet({ socketPath: s.path }, '/images/ghost:latest/get', AbortSignal.timeout(5000), 'the image export');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.text()).toBe(message);
    await within((await s.firstConn).closed, 2000, 'the connection ends after the error body');
  });

  it("a 500's chunked JSON body, its head and body written apart, comes whole from text()", async () => {
    const message = '{"message":"write /var/lib/docker/tmp: no space left on device"}';
    const s = await serve(async (socket) => {
      await send(socket, response('HTTP/1.1 500 Internal Server Error', ['Content-Type: application/json', 'Transfer-Encoding: chunked']));
      await sleep(20);
      await send(socket, chunked([message.slice(0, 20), message.slice(20)]));
      socket.end();
    });
    const res = await rawGet({ socketPath: s.path }, '/images/x/get', AbortSignal.timeout(5000), 'the image export');
    expect(res.status).toBe(500);
    expect(await res.text()).toBe(message);
  });

  it('text() keeps the first 64 KB of a large error body', async () => {
    const big = 'e'.repeat(100_000);
    const s = await serve((socket) => void socket.end(json('500 Internal Server Error', big)));
    const res = await rawGet({ socketPath: s.path }, '/x', AbortSignal.timeout(5000), 'the body');
    expect(await res.text()).toBe(big.slice(0, 64 * 1024));
  });

  it('a body read twice: the second read rejects', async () => {
    const s = await serve((socket) => void socket.end(json('200 OK', '{}')));
    const res = await rawGet({ socketPath: s.path }, '/x', AbortSignal.timeout(5000), 'the image export');
    await expect(res.text()).resolves.toBe('{}');
    await expect(res.body(() => {})).rejects.toThrow(/internal: the image export was read twice/);
  });

  it('the server closing mid-body (Content-Length) rejects naming the body and "premature close"', async () => {
    const s = await serve(async (socket) => {
      await send(socket, response('HTTP/1.1 200 OK', ['Content-Length: 100000'], bytesOf(30_000, 4)));
      socket.end();
    });
    const res = await rawGet({ socketPath: s.path }, '/images/x/get', AbortSignal.timeout(5000), 'the image export');
    let bytes = 0;
    const err = await res.body((chunk) => void (bytes += chunk.length)).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/the image export/);
    expect(err?.message).toMatch(/premature close/);
    expect(err?.message).toBe('the image export ended before its end (premature close)');
    // All that came before the close was delivered.
    expect(bytes).toBe(30_000);
  });

  it('the server closing mid-body (chunked), while the consumer waits, rejects the same way', async () => {
    const s = await serve(async (socket) => {
      await send(socket, response('HTTP/1.1 200 OK', ['Transfer-Encoding: chunked'], '5\r\nhello\r\n400\r\n0123'));
      await sleep(10);
      socket.end();
    });
    const res = await rawGet({ socketPath: s.path }, '/containers/x/archive', AbortSignal.timeout(5000), 'the archive of /app/node_modules');
    const parts: string[] = [];
    await expect(
      res.body(async (chunk) => {
        parts.push(chunk.toString());
        await sleep(30);
      }),
    ).rejects.toThrow('the archive of /app/node_modules ended before its end (premature close)');
    expect(parts.join('')).toBe('hello0123');
  });

  it('the server closing before answering rejects the request', async () => {
    const s = await serve((socket) => void socket.end());
    await expect(rawGet({ socketPath: s.path }, '/x', AbortSignal.timeout(5000), 'the body')).rejects.toThrow(/closed the connection before answering/);
  });

  it('a server that never answers: the request rejects when the answer signal aborts, and the connection ends', async () => {
    const s = await serve(() => {});
    const answer = AbortSignal.timeout(200);
    const started = Date.now();
    const err = await rawGet({ socketPath: s.path }, '/images/x/get', answer, 'the image export').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(err).toBe(answer.reason);
    expect((err as Error).name).toBe('TimeoutError');
    const conn = await s.firstConn;
    expect(await conn.request).toMatch(/^GET \/images\/x\/get HTTP\/1\.1\r\n/);
    await within(conn.closed, 2000, 'the server sees the connection end');
  });

  it('a server that sends half a head and stalls: the answer signal still ends it', async () => {
    const s = await serve((socket) => void socket.write('HTTP/1.1 200 OK\r\nContent-Le'));
    const answer = AbortSignal.timeout(200);
    const err = await rawGet({ socketPath: s.path }, '/x', answer, 'the body').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(answer.aborted).toBe(true);
    expect(err).toBe(answer.reason);
    await within((await s.firstConn).closed, 2000, 'the server sees the connection end');
  });

  it('an answer signal already aborted rejects with its reason', async () => {
    const s = await serve(() => {});
    const reason = new Error('the audit was cancelled');
    await expect(rawGet({ socketPath: s.path }, '/x', AbortSignal.abort(reason), 'the body')).rejects.toBe(reason);
  });

  it('the answer signal bounds the head only: aborted once the head is in, the body is still read', async () => {
    const s = await serve(async (socket) => {
      await send(socket, response('HTTP/1.1 200 OK', ['Content-Length: 5']));
      await sleep(50);
      socket.end('hello');
    });
    const answer = new AbortController();
    const res = await rawGet({ socketPath: s.path }, '/x', answer.signal, 'the body');
    answer.abort(new Error('the answer bound'));
    const parts: string[] = [];
    await res.body((chunk) => void parts.push(chunk.toString()));
    expect(parts.join('')).toBe('hello');
  });

  it("a consumer's abort during the body rejects with its reason and ends the connection", async () => {
    // The server sends part of a body and then nothing, the connection open.
    const s = await serve((socket) => void socket.write(response('HTTP/1.1 200 OK', ['Content-Length: 1000000'], 'x'.repeat(1000))));
    const res = await rawGet({ socketPath: s.path }, '/images/x/get', AbortSignal.timeout(5000), 'the image export');
    const controller = new AbortController();
    const reason = new Error('the audit was cancelled');
    let bytes = 0;
    const read = res.body((chunk) => {
      bytes += chunk.length;
      if (bytes >= 1000) setTimeout(() => controller.abort(reason), 20);
    }, controller.signal);
    await expect(read).rejects.toBe(reason);
    expect(bytes).toBe(1000);
    await within((await s.firstConn).closed, 2000, 'the server sees the connection end');
  });

  it("a consumer's abort while its own promise is pending rejects with its reason", async () => {
    const s = await serve((socket) => void socket.write(response('HTTP/1.1 200 OK', ['Transfer-Encoding: chunked'], '3\r\nabc\r\n')));
    const res = await rawGet({ socketPath: s.path }, '/x', AbortSignal.timeout(5000), 'the body');
    const controller = new AbortController();
    const reason = new Error('stop');
    const read = res.body(() => {
      setTimeout(() => controller.abort(reason), 10);
      return new Promise<void>(() => {});
    }, controller.signal);
    await expect(read).rejects.toBe(reason);
    await within((await s.firstConn).closed, 2000, 'the server sees the connection end');
  });

  it('a consumer signal already aborted rejects at once', async () => {
    const s = await serve((socket) => void socket.write(response('HTTP/1.1 200 OK', ['Content-Length: 10'], '01234')));
    const res = await rawGet({ socketPath: s.path }, '/x', AbortSignal.timeout(5000), 'the body');
    const reason = new Error('already');
    let chunks = 0;
    await expect(res.body(() => void chunks++, AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(chunks).toBe(0);
    await within((await s.firstConn).closed, 2000, 'the server sees the connection end');
  });

  // The consumer fails on its nth chunk: a plain consumer by throwing; one that returns a promise for
  // every chunk (the wait path) by rejecting it later.
  type FailingConsumer = (failsNow: () => boolean, failure: Error) => (chunk: Buffer) => void | Promise<void>;
  const consumerFailures: Array<{ how: string; at: number; seed: number; message: string; onChunk: FailingConsumer }> = [
    {
      how: ' throwing',
      at: 5,
      seed: 4,
      message: 'a malformed tar header',
      onChunk: (failsNow, failure) => () => {
        if (failsNow()) throw failure;
      },
    },
    {
      how: "'s promise rejecting",
      at: 3,
      seed: 5,
      message: 'the layer cache is unwritable',
      onChunk: (failsNow, failure) => async () => {
        if (failsNow()) {
          await sleep(5);
          throw failure;
        }
      },
    },
  ];
  for (const { how, at, seed, message, onChunk } of consumerFailures) {
    it(`onChunk${how} rejects the body with that error and ends the connection`, async () => {
      const data = randomBytes(2 * 1024 * 1024);
      const s = await serve((socket) => writeChunked(socket, data, seed));
      const res = await rawGet({ socketPath: s.path }, '/images/x/get', AbortSignal.timeout(5000), 'the image export');
      const failure = new Error(message);
      let calls = 0;
      await expect(res.body(onChunk(() => ++calls === at, failure))).rejects.toBe(failure);
      expect(calls).toBe(at);
      await within((await s.firstConn).closed, 2000, 'the server sees the connection end');
    });
  }

  it('onChunk throwing on the first chunk (in the same read as the head) rejects with that error', async () => {
    const s = await serve((socket) => void socket.write(response('HTTP/1.1 200 OK', ['Content-Length: 10'], '0123456789')));
    const res = await rawGet({ socketPath: s.path }, '/x', AbortSignal.timeout(5000), 'the body');
    const failure = new Error('no');
    await expect(
      res.body(() => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    await within((await s.firstConn).closed, 2000, 'the server sees the connection end');
  });

  it('nothing reaches the consumer after an abort while it waited, even what the same read held', async () => {
    const s = await serve((socket) => void socket.write(response('HTTP/1.1 200 OK', ['Transfer-Encoding: chunked'], '3\r\nabc\r\n3\r\ndef\r\n3\r\nghi\r\n')));
    const res = await rawGet({ socketPath: s.path }, '/x', AbortSignal.timeout(5000), 'the body');
    const controller = new AbortController();
    const reason = new Error('stop');
    const seen: string[] = [];
    const read = res.body((chunk) => {
      seen.push(chunk.toString());
      setTimeout(() => controller.abort(reason), 5);
      return sleep(30);
    }, controller.signal);
    await expect(read).rejects.toBe(reason);
    await sleep(60);
    expect(seen).toEqual(['abc']);
  });

  it('a consumer failing with undefined still fails the body (a body cut short never resolves)', async () => {
    const s = await serve((socket) => void socket.write(response('HTTP/1.1 200 OK', ['Content-Length: 100'], 'abc')));
    const res = await rawGet({ socketPath: s.path }, '/x', AbortSignal.timeout(5000), 'the body');
    await expect(res.body(() => Promise.reject(undefined))).rejects.toThrow('the body was not read to its end');
    await within((await s.firstConn).closed, 2000, 'the server sees the connection end');
  });

  it('a body nobody reads is dropped after its bound: the connection ends, a late read says why', async () => {
    const s = await serve((socket) => void socket.write(response('HTTP/1.1 200 OK', ['Content-Length: 10'], '01234')));
    const res = await rawGet({ socketPath: s.path }, '/x', AbortSignal.timeout(5000), 'the image export', { unreadMs: 150, idleMs: 5000 });
    await within((await s.firstConn).closed, 2000, 'the server sees the connection end');
    await expect(res.body(() => undefined)).rejects.toThrow('the image export was not read within 0.15 s');
  });

  it('a daemon silent mid-body ends the read; the consumer waiting longer than the bound does not', async () => {
    const stalls = await serve((socket) => void socket.write(response('HTTP/1.1 200 OK', ['Content-Length: 100'], '0123456789')));
    const stalled = await rawGet({ socketPath: stalls.path }, '/x', AbortSignal.timeout(5000), 'the archive of /app/node_modules', { unreadMs: 5000, idleMs: 200 });
    await expect(stalled.body(() => undefined)).rejects.toMatchObject({ code: 'ETIMEDOUT', message: 'the archive of /app/node_modules: the daemon sent nothing for 0.2 s' });

    const slowReader = await serve(async (socket) => {
      for (let i = 0; i < 4; i++) {
        await send(socket, i === 0 ? response('HTTP/1.1 200 OK', ['Content-Length: 40'], '0123456789') : '0123456789');
        await sleep(20);
      }
    });
    const res = await rawGet({ socketPath: slowReader.path }, '/x', AbortSignal.timeout(5000), 'the body', { unreadMs: 5000, idleMs: 200 });
    const parts: string[] = [];
    await res.body((chunk) => {
      parts.push(chunk.toString());
      return sleep(350);
    });
    expect(parts.join('')).toBe('0123456789'.repeat(4));
  });

  it('a socket path that does not exist rejects with ENOENT', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'raw-http-'));
    try {
      await expect(rawGet({ socketPath: path.join(dir, 'absent.sock') }, '/x', AbortSignal.timeout(5000), 'the body')).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
