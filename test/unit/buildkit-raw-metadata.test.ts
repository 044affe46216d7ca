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
import { GRPC_HTTP2_SERVERS_FIELD, http2ServersOf, metadataValues, withRawMetadata } from '../../src/docker/buildkit/raw-metadata.js';

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

it('keeps each header line of a call as sent, non-ASCII bytes and ", " included', async () => {
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
  // As the daemon sends them: one line per pattern, UTF-8 bytes (Node's client writes a string's latin1 bytes).
  const lines = ['données.txt', 'a, b.txt', 'secret.env'];
  const request = client.request({
    ':method': 'POST',
    ':path': '/moby.filesync.v1.FileSync/DiffCopy',
    'content-type': 'application/grpc',
    te: 'trailers',
    'exclude-patterns': lines.map((line) => Buffer.from(line, 'utf8').toString('latin1')),
  });
  request.on('error', () => undefined);
  request.resume();
  request.end();
  expect(await seen, GONE).toEqual(lines);
});
