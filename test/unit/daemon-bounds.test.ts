// DockerodePort against servers that are not a working Docker daemon: one that answers the ping and then
// nothing else (the build path must end at its bound, not at the 20 min build timeout), and HTTP servers
// that are not Docker at all (the ping says so). Stub servers on unix sockets; no daemon needed.
import Docker from 'dockerode';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DockerodePort } from '../../src/docker/dockerode-port.js';
import type { BuildRequest, DockerPort } from '../../src/docker/port.js';
import { buildImage } from '../../src/target/build.js';
import { DaemonUnreachableError, NotADockerDaemonError } from '../../src/errors.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const socketPath = path.join(os.tmpdir(), `daemon-bounds-${process.pid}-${Date.now()}.sock`);
let handler: Handler = () => undefined;
let onUpgrade: (req: http.IncomingMessage, socket: Socket) => void = () => undefined;
const seen: string[] = [];
const held: Socket[] = [];
const server = http.createServer((req, res) => {
  seen.push(`${req.method} ${new URL(req.url ?? '/', 'http://stub').pathname}`);
  handler(req, res);
});
server.on('upgrade', (req: http.IncomingMessage, socket: Socket) => {
  seen.push(`UPGRADE ${req.method} ${new URL(req.url ?? '/', 'http://stub').pathname}`);
  held.push(socket);
  onUpgrade(req, socket);
});

/** Docker's answer to GET /_ping. */
const dockerPing: Handler = (_req, res) => {
  res.writeHead(200, { 'Api-Version': '1.41', 'Content-Type': 'text/plain; charset=utf-8', Server: 'Docker/20.10.24 (linux)' });
  res.end('OK');
};
const BOUND_MS = 400;
const port = () => new DockerodePort(new Docker({ socketPath }), { answerBoundMs: BOUND_MS });

let contextDir: string;
const request = (extra: Partial<BuildRequest> = {}): BuildRequest => ({
  context: () => Readable.from([Buffer.alloc(1024)]),
  contextDir,
  dockerfile: 'Dockerfile',
  buildArgs: {},
  tag: 'node-image-audit/bounds-test:latest',
  timeoutMs: 20 * 60_000,
  ...extra,
});

beforeAll(async () => {
  contextDir = mkdtempSync(path.join(os.tmpdir(), 'daemon-bounds-ctx-'));
  writeFileSync(path.join(contextDir, 'Dockerfile'), 'FROM scratch\n');
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
});
afterEach(() => {
  handler = () => undefined;
  onUpgrade = () => undefined;
  seen.length = 0;
  for (const socket of held.splice(0)) socket.destroy();
});
afterAll(() => {
  server.closeAllConnections();
  rmSync(contextDir, { recursive: true, force: true });
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('a server that answers the ping and nothing else', () => {
  it('ends a BuildKit build at the bound when POST /session is never answered', async () => {
    handler = (req, res) => (req.url?.endsWith('/_ping') ? dockerPing(req, res) : undefined);
    const docker = port();
    await docker.ping();
    const began = performance.now();
    const error = await docker.build(request()).catch((err: unknown) => err);
    const elapsed = performance.now() - began;
    expect(error).toBeInstanceOf(DaemonUnreachableError);
    expect((error as Error).message).toBe(`Docker daemon at ${process.env.DOCKER_HOST || "unix:///var/run/docker.sock"} did not answer within 0.4 s while opening the BuildKit session (POST /session)`);
    expect(elapsed).toBeGreaterThanOrEqual(BOUND_MS - 50);
    expect(elapsed).toBeLessThan(3000);
    expect(seen).toContain('UPGRADE POST /session');
  }, 10_000);

  it('ends a BuildKit build at the bound when the session opens but POST /build is never answered', async () => {
    handler = (req, res) => (req.url?.endsWith('/_ping') ? dockerPing(req, res) : undefined);
    // The daemon switches the session to h2c, then says nothing on it (nor on the build request).
    onUpgrade = (_req, socket) => socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n');
    const began = performance.now();
    const error = await port().build(request()).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(DaemonUnreachableError);
    expect((error as Error).message).toMatch(/^Docker daemon at \S+ did not answer within 0\.4 s while starting the build \(POST \/build\)/);
    expect(performance.now() - began).toBeLessThan(3000);
    expect(seen).toContain('POST /build');
  }, 10_000);

  it('ends a classic build at the bound once the context is sent and no answer comes', async () => {
    handler = (req, res) => {
      if (req.url?.endsWith('/_ping')) return dockerPing(req, res);
      req.resume(); // reads the context, never answers
    };
    const began = performance.now();
    const error = await port().build(request({ builder: 'classic', contextDir: undefined })).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(DaemonUnreachableError);
    expect((error as Error).message).toMatch(/^Docker daemon at \S+ did not answer within 0\.4 s while starting the build \(POST \/build\)/);
    expect(performance.now() - began).toBeLessThan(3000);
  }, 10_000);

  it('ends a classic build at the bound when the daemon stops reading the context', async () => {
    handler = (req, res) => (req.url?.endsWith('/_ping') ? dockerPing(req, res) : undefined); // never reads the body
    // 64 MiB: more than any socket buffer holds, so the upload stalls.
    const big = () => Readable.from((function* () { for (let i = 0; i < 1024; i++) yield Buffer.alloc(64 * 1024); })());
    const began = performance.now();
    const error = await port().build(request({ builder: 'classic', contextDir: undefined, context: big })).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(DaemonUnreachableError);
    expect((error as Error).message).toMatch(/^Docker daemon at \S+ did not answer within 0\.4 s while sending the build context \(POST \/build\)$/);
    expect(performance.now() - began).toBeLessThan(3000);
  }, 10_000);

  it('does not cut a build whose answer began: a silent step may take long', async () => {
    handler = (req, res) => {
      if (req.url?.endsWith('/_ping')) return dockerPing(req, res);
      req.resume();
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(`${JSON.stringify({ stream: 'Step 1/2 : FROM scratch\n' })}\n`);
      // A RUN that prints nothing for longer than the bound, then the image id.
      setTimeout(() => res.end(`${JSON.stringify({ aux: { ID: 'sha256:' + 'a'.repeat(64) } })}\n${JSON.stringify({ stream: 'Successfully built aaaaaaaaaaaa\n' })}\n`), BOUND_MS * 3);
    };
    const result = await port().build(request({ builder: 'classic', contextDir: undefined }));
    expect(result.imageId).toBe(`sha256:${'a'.repeat(64)}`);
  }, 10_000);
});

describe('an HTTP server that is not Docker', () => {
  const where = process.env.DOCKER_HOST ? `DOCKER_HOST=${process.env.DOCKER_HOST}` : 'unix:///var/run/docker.sock';

  it('is told apart at the ping: 200 "hello" is not a Docker daemon', async () => {
    handler = (_req, res) => res.writeHead(200, { 'Content-Type': 'text/plain' }).end('hello');
    const error = await port().ping().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(NotADockerDaemonError);
    expect(error).toBeInstanceOf(DaemonUnreachableError);
    expect((error as Error).message).toBe(`${where} does not answer as a Docker daemon: GET /_ping answered HTTP 200 "hello" (a Docker daemon answers "OK" with an Api-Version header)`);
    expect((error as NotADockerDaemonError).exitCode).toBe(3);
  });

  it('is told apart at the ping: a 404 HTML page', async () => {
    handler = (_req, res) => res.writeHead(404, { 'Content-Type': 'text/html' }).end('<html>\n<body><h1>Not Found</h1></body>\n</html>\n');
    const error = await port().ping().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(NotADockerDaemonError);
    expect((error as Error).message).toContain('does not answer as a Docker daemon: GET /_ping answered HTTP 404 "<html> <body><h1>Not Found</h1></body> </html>"');
  });

  it('is told apart at the ping: "OK" without an Api-Version header', async () => {
    handler = (_req, res) => res.writeHead(200).end('OK');
    await expect(port().ping()).rejects.toThrow(NotADockerDaemonError);
  });

  it('accepts what Docker and Podman answer (OK and an Api-Version header, any case)', async () => {
    handler = dockerPing;
    await expect(port().ping()).resolves.toBeUndefined();
    handler = (_req, res) => res.writeHead(200, { 'API-Version': '1.41', 'Libpod-API-Version': '4.3.1' }).end('OK');
    await expect(port().ping()).resolves.toBeUndefined();
  });

  it('cuts a long answer to one short line', async () => {
    handler = (_req, res) => res.writeHead(200).end(`${'x'.repeat(5000)}\u001b[31m`);
    const error = (await port().ping().catch((err: unknown) => err)) as Error;
    expect(error.message.length).toBeLessThan(300);
    expect(error.message).not.toContain('\u001b');
  });
});

describe('buildImage over a daemon that stopped answering', () => {
  it('does not fall back to the classic builder (the error names the BuildKit session, but BuildKit is not missing)', async () => {
    const builders: string[] = [];
    const docker = {
      build: async (req: BuildRequest) => {
        builders.push(req.builder ?? 'auto');
        throw new DaemonUnreachableError('Docker daemon at tcp://127.0.0.1:1 did not answer within 30 s while opening the BuildKit session (POST /session)');
      },
    } as unknown as DockerPort;
    const { context, dockerfile, buildArgs, tag } = request();
    await expect(buildImage(docker, { context, dockerfile, buildArgs, tag })).rejects.toThrow(DaemonUnreachableError);
    expect(builders).toEqual(['auto']);
  });
});
