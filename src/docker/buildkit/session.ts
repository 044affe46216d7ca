// A BuildKit session, opened as the docker CLI opens one, so that BuildKit reads the build context from
// the directory itself (`remote=client-session`) instead of from an uploaded tar. This file is the
// transport: over a hijacked `POST /session` (h2c) the daemon becomes a gRPC client of ours and calls back
// only the methods the X-Docker-Expose-Session-Grpc-Method headers list:
//   - grpc.health.v1.Health/Check, which it polls every second (a failed check ends the session);
//   - moby.filesync.v1.FileSync/DiffCopy (./diffcopy.ts), through which its Dockerfile frontend asks for
//     the folder of the Dockerfile ("dockerfile": the Dockerfile, by followpaths), for the ignore file
//     ("context", by followpaths), and for the context ("context", with the ignore file's patterns as
//     excludes and the COPY/ADD sources as followpaths). BuildKit, not we, reads the ignore file.
import { createHash, randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import grpc from '@grpc/grpc-js';
import type { ServerDuplexStream, ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { serveDiffCopy, type SyncedDir } from './diffcopy.js';
import { messageTypes, methodDefinition, SERVING, type Packet } from './messages.js';
import { withRawMetadata } from './raw-metadata.js';

export type { SyncedDir };

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
  // Before grpc-js reads a call's headers: keep the raw lines of the keys DiffCopy reads.
  const injector = withRawMetadata(server, () => server.createConnectionInjector(grpc.ServerCredentials.createInsecure()));
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
