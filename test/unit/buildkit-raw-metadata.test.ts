// The one grpc-js internal the BuildKit session reads (src/docker/buildkit/raw-metadata.ts): the private
// map of a Server's HTTP/2 servers, through which the raw header lines of a DiffCopy call are kept (grpc-js
// drops a header value that is not printable ASCII: one non-ASCII .dockerignore line would lose every
// exclude pattern). When an upgrade of @grpc/grpc-js removes or renames it, this fails, naming both.
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import grpc from '@grpc/grpc-js';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { afterEach, expect, it } from 'vitest';
import { messageTypes, methodDefinition, type Packet } from '../../src/docker/buildkit/messages.js';
import { GRPC_HTTP2_SERVERS_FIELD, http2ServersOf, metadataValues, queryUnescape, withRawMetadata } from '../../src/docker/buildkit/raw-metadata.js';

const GRPC_VERSION = (JSON.parse(readFileSync(path.resolve(__dirname, '../../node_modules/@grpc/grpc-js/package.json'), 'utf8')) as { version: string }).version;
const GONE = `@grpc/grpc-js ${GRPC_VERSION} no longer keeps a connection injector's HTTP/2 server in the private field Server.${GRPC_HTTP2_SERVERS_FIELD} (read by src/docker/buildkit/raw-metadata.ts): find where this version keeps it, or pin the previous version, or a .dockerignore with one non-ASCII line loses every exclude pattern`;

let cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup) c();
  cleanup = [];
});

it(`finds the HTTP/2 server of a connection injector in grpc-js's private Server.${GRPC_HTTP2_SERVERS_FIELD}`, () => {
  const server = new grpc.Server();
  cleanup.push(() => server.forceShutdown());
  withRawMetadata(server, () => server.createConnectionInjector(grpc.ServerCredentials.createInsecure()));
  const found = http2ServersOf(server);
  expect(found.length, GONE).toBe(1);
  expect(found[0].listeners('stream').length, GONE).toBeGreaterThan(1);
});

/** The exclude patterns the session reads from a DiffCopy call made with these extra headers. */
async function excludePatternsOf(headers: Record<string, string | string[]>): Promise<string[]> {
  const server = new grpc.Server();
  cleanup.push(() => server.forceShutdown());
  const types = messageTypes();
  const seen = new Promise<string[]>((resolve) => {
    server.addService(
      { DiffCopy: methodDefinition('/moby.filesync.v1.FileSync/DiffCopy', types.Packet, types.Packet, true, true) },
      {
        DiffCopy: (call: ServerDuplexStream<Packet, Packet>) => {
          resolve(metadataValues(call.metadata, 'exclude-patterns'));
          call.end();
        },
      },
    );
  });
  const injector = withRawMetadata(server, () => server.createConnectionInjector(grpc.ServerCredentials.createInsecure()));
  const listener = net.createServer((socket) => injector.injectConnection(socket));
  cleanup.push(() => listener.close());
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const client = http2.connect(`http://127.0.0.1:${(listener.address() as net.AddressInfo).port}`);
  cleanup.push(() => client.destroy());
  const request = client.request({
    ':method': 'POST',
    ':path': '/moby.filesync.v1.FileSync/DiffCopy',
    'content-type': 'application/grpc',
    te: 'trailers',
    ...headers,
  });
  request.on('error', () => undefined);
  request.resume();
  request.end();
  return seen;
}

const lines = ['données.txt', 'a, b.txt', 'secret.env'];

it('keeps each header line of a call as sent, non-ASCII bytes and ", " included', async () => {
  // As dockerd 20.10 sends them: one line per pattern, UTF-8 bytes (Node's client writes a string's latin1 bytes).
  expect(await excludePatternsOf({ 'exclude-patterns': lines.map((line) => Buffer.from(line, 'utf8').toString('latin1')) }), GONE).toEqual(lines);
});

it('unescapes the lines of a key that newer daemons mark as encoded (BuildKit encodeOpts: Docker 23 and later)', async () => {
  // Go's url.QueryEscape of each line, and "<key>-encoded: 1", as BuildKit sends a key with a non-ASCII line.
  const escaped = ['donn%C3%A9es.txt', 'a%2C+b.txt', 'secret.env'];
  expect(await excludePatternsOf({ 'exclude-patterns': escaped, 'exclude-patterns-encoded': '1' })).toEqual(lines);
  // Without the mark a line is taken as it is, even one that looks escaped (an older daemon's "%41" is a name).
  expect(await excludePatternsOf({ 'exclude-patterns': ['%41', 'a+b'] })).toEqual(['%41', 'a+b']);
});

// Go's url.QueryUnescape cases (golang/go src/net/url/url_test.go, unescapeTests), and one of its
// escapeTests read back: the output, or undefined where Go returns an EscapeError.
const GO_UNESCAPE: Array<[string, string | undefined]> = [
  ['', ''],
  ['abc', 'abc'],
  ['1%41', '1A'],
  ['1%41%42%43', '1ABC'],
  ['%4a', 'J'],
  ['%6F', 'o'],
  ['%', undefined],
  ['%a', undefined],
  ['%1', undefined],
  ['123%45%6', undefined],
  ['%zzzzz', undefined],
  ['a+b', 'a b'],
  ['a%20b', 'a b'],
  ['+%3F%26%3D%23%2B%25%21%3C%3E%23%22%7B%7D%7C%5C%5E%5B%5D%60%E2%98%BA%09%3A%2F%40%24%27%28%29%2A%2C%3B', ' ?&=#+%!<>#"{}|\\^[]`☺\t:/@$\'()*,;'],
];

it.each(GO_UNESCAPE)('unescapes %j as Go\'s url.QueryUnescape does', (escaped, plain) => {
  expect(queryUnescape(escaped)).toBe(plain);
});
