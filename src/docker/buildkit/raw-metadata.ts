// The raw header lines of a DiffCopy call. The daemon sends each pattern as one header line of its key
// (exclude-patterns, followpaths, ...). Node joins the lines of one key with ", " and reads their bytes as
// latin1, and grpc-js then drops a value with a byte that is not printable ASCII: one non-ASCII line of
// .dockerignore would lose every exclude pattern. So the raw lines are kept, before grpc-js reads the
// headers, as binary metadata of our own (base64, one value per line). This needs one grpc-js internal,
// its per-server HTTP/2 map (`Server.http2Servers`): @grpc/grpc-js is pinned exactly, and
// test/unit/buildkit-raw-metadata.test.ts fails, naming the field and the version, when it goes away.
import { EventEmitter } from 'node:events';
import type { Metadata } from '@grpc/grpc-js';

const METADATA_KEYS = ['dir-name', 'include-patterns', 'exclude-patterns', 'followpaths', 'override-excludes'];
const RAW_MARK = 'x-image-audit-raw';
const rawKey = (key: string) => `${RAW_MARK}-${key}-bin`;

/** The name of the grpc-js private field read here, for the test that guards it. */
export const GRPC_HTTP2_SERVERS_FIELD = 'http2Servers';

/** The HTTP/2 servers grpc-js made for a server's connection injectors (its private map). */
export function http2ServersOf(server: object): EventEmitter[] {
  const map = (server as Record<string, unknown>)[GRPC_HTTP2_SERVERS_FIELD];
  return map instanceof Map ? [...map.keys()].filter((s): s is EventEmitter => s instanceof EventEmitter) : [];
}

/**
 * Makes a connection injector (`make`) with the raw lines kept: every HTTP/2 server grpc-js made for it
 * is hooked before grpc-js reads a call's headers. Without the private map nothing is hooked, and
 * metadataValues falls back to splitting the joined values.
 */
export function withRawMetadata<T>(server: object, make: () => T): T {
  const before = new Set(http2ServersOf(server));
  const injector = make();
  for (const h2 of http2ServersOf(server)) if (!before.has(h2)) h2.prependListener('stream', keepRawMetadata);
  return injector;
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

/**
 * The lines of one header key, as the daemon meant them (UTF-8). Newer daemons (BuildKit's
 * encodeOpts, Docker 23 and later) escape every line of a key that has a non-ASCII one (Go's
 * url.QueryEscape) and say so in "<key>-encoded"; dockerd 20.10 sends the bytes as they are.
 */
export function metadataValues(metadata: Metadata, key: string): string[] {
  const lines = metadata.get(RAW_MARK).length
    ? metadata.get(rawKey(key)).map((value) => Buffer.from(value as Buffer).toString('utf8'))
    : // Without the raw lines: split what Node joined (a value holding ", " is then misread).
      metadata.get(key).flatMap((value) => String(value).split(', '));
  const encoded = metadata.get(`${key}-encoded`)[0];
  // BuildKit's decodeOpts: the flag is read by strconv.ParseBool, and a line that does not unescape becomes "".
  return encoded !== undefined && GO_TRUE.has(String(encoded)) ? lines.map((line) => queryUnescape(line) ?? '') : lines;
}

/** What Go's strconv.ParseBool reads as true. */
const GO_TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);

/** Go's url.QueryUnescape: "+" is a space, %XX one byte, the bytes read as UTF-8; undefined for a bad escape. */
export function queryUnescape(text: string): string | undefined {
  const bytes = Buffer.from(text, 'utf8');
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === 0x25) {
      const hex = bytes.subarray(i + 1, i + 3).toString('latin1');
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined;
      out.push(parseInt(hex, 16));
      i += 2;
    } else out.push(byte === 0x2b ? 0x20 : byte);
  }
  return Buffer.from(out).toString('utf8');
}
