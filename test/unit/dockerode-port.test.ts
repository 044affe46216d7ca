// DockerodePort against a stub Docker API on a unix socket: the mapping from HTTP answers to our types
// and errors, without a daemon.
import Docker from 'dockerode';
import { writeFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DockerodePort, enginePort } from '../../src/docker/dockerode-port.js';
import type { ContainerEvent } from '../../src/docker/port.js';
import type { ChunkSource } from '../../src/docker/chunk-source.js';
import { DaemonUnreachableError, DockerApiError, ImageNotFoundError } from '../../src/errors.js';
import { tarOf } from '../support/tar.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
type UpgradeHandler = (req: http.IncomingMessage, socket: Socket) => void;

const socketPath = path.join(os.tmpdir(), `dockerode-port-${process.pid}-${Date.now()}.sock`);
let routes: Record<string, Handler> = {};
let upgrades: Record<string, UpgradeHandler> = {};
const seen: string[] = [];
const answer: Handler = (req, res) => {
  const route = `${req.method} ${new URL(req.url ?? '/', 'http://stub').pathname}`;
  seen.push(`${route}${new URL(req.url ?? '/', 'http://stub').search}`);
  const handler = routes[route];
  if (handler) return handler(req, res);
  // What Docker answers on a path it does not serve (e.g. Podman's /libpod endpoints).
  json(res, 404, { message: 'page not found' });
};
const server = http.createServer(answer);
/** The same daemon on a port of 127.0.0.1: a tcp:// engine without TLS. */
const tcpServer = http.createServer(answer);
server.on('upgrade', (req: http.IncomingMessage, socket: Socket) => {
  const route = `${req.method} ${new URL(req.url ?? '/', 'http://stub').pathname}`;
  const handler = upgrades[route];
  if (handler) handler(req, socket);
  else socket.destroy();
});

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
/** One frame of Docker's multiplexed stream: stream type (1 stdout, 2 stderr), 3 zero bytes, a big-endian length. */
function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}
const stat = (s: { name: string; size: number; mode: number; linkTarget?: string }) =>
  Buffer.from(JSON.stringify({ mtime: '2024-01-01T00:00:00Z', linkTarget: '', ...s })).toString('base64');
const port = () => new DockerodePort(new Docker({ socketPath }));
/** A `top` answer: its column titles, then its rows. */
const topAnswer = (Titles: string[], Processes: string[][]): Handler => (_req, res) => json(res, 200, { Titles, Processes });

beforeAll(() => Promise.all([new Promise<void>((resolve) => server.listen(socketPath, resolve)), new Promise<void>((resolve) => tcpServer.listen(0, '127.0.0.1', resolve))]));
afterEach(() => {
  routes = {};
  upgrades = {};
  seen.length = 0;
});
afterAll(() => {
  // Hung requests (the cancellation tests) hold their sockets: close them all, not only the idle ones.
  server.closeAllConnections();
  tcpServer.closeAllConnections();
  return Promise.all([server, tcpServer].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

describe('DockerodePort: errors', () => {
  it('maps a refused connection to DaemonUnreachableError', async () => {
    // A file that is not a socket: connect() is refused, as with a daemon that is not listening.
    const refused = path.join(os.tmpdir(), `refused-${process.pid}.sock`);
    writeFileSync(refused, '');
    try {
      const docker = new DockerodePort(new Docker({ socketPath: refused }));
      await expect(docker.ping()).rejects.toThrow(DaemonUnreachableError);
      await expect(docker.ping()).rejects.toThrow(/ECONNREFUSED/);
      const inspect = docker.inspectContainer('c1');
      await expect(inspect).rejects.toBeInstanceOf(DaemonUnreachableError);
      await expect(inspect).rejects.toThrow(/\(ECONNREFUSED\) while inspecting the container/);
    } finally {
      rmSync(refused, { force: true });
    }
  });

  it("maps a 500 to DockerApiError carrying the daemon's message", async () => {
    routes['GET /containers/c1/json'] = (_req, res) => json(res, 500, { message: 'driver failed programming external connectivity' });
    const error = await port().inspectContainer('c1').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(DockerApiError);
    expect(error).toMatchObject({ statusCode: 500, message: 'Docker refused inspecting the container: driver failed programming external connectivity' });
  });

  it('maps a 404 on image inspect to ImageNotFoundError', async () => {
    routes['GET /images/team/api:9/json'] = (_req, res) => json(res, 404, { message: 'No such image: team/api:9' });
    const error = await port().inspectImage('team/api:9').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ImageNotFoundError);
    expect((error as Error).message).toBe('Image not found in the daemon: team/api:9');
  });

  it("answers 'not-running' to a 409 on kill, and 'sent' otherwise", async () => {
    routes['POST /containers/gone/kill'] = (_req, res) => json(res, 409, { message: 'Container gone is not running' });
    routes['POST /containers/up/kill'] = (_req, res) => res.writeHead(204).end();
    expect(await port().signal('gone', 'SIGTERM')).toBe('not-running');
    expect(await port().signal('up', 'SIGTERM')).toBe('sent');
    expect(seen).toContain('POST /containers/up/kill?signal=SIGTERM');
  });

  it('treats a 404 on remove as already done, and still reports other refusals', async () => {
    routes['DELETE /containers/gone'] = (_req, res) => json(res, 404, { message: 'No such container: gone' });
    routes['DELETE /containers/stuck'] = (_req, res) => json(res, 500, { message: 'device or resource busy' });
    await expect(port().removeContainer('gone')).resolves.toBeUndefined();
    await expect(port().removeContainer('stuck')).rejects.toThrow('Docker refused removing the container: device or resource busy');
  });
});

describe('DockerodePort: mappings', () => {
  it('maps the top columns by their titles, whatever their order', async () => {
    routes['GET /containers/c1/top'] = topAnswer(['UID', 'GID', 'PID', 'PPID', 'COMMAND'], [
      ['1000', '1000', '4100', '4080', 'dumb-init -- node server.js'],
      ['1000', '1000', '4120', '4100', 'node server.js --port 3000'],
    ]);
    expect(await port().processes('c1')).toEqual([
      { pid: 4100, ppid: 4080, uid: 1000, gid: 1000, args: 'dumb-init -- node server.js' },
      { pid: 4120, ppid: 4100, uid: 1000, gid: 1000, args: 'node server.js --port 3000' },
    ]);
    expect(seen.find((r) => r.startsWith('GET /containers/c1/top'))).toContain('ps_args=-eo');
  });

  it("lists each process's executable (a retitled node is still node), '-' as unread, and copes with a ps that lacks the column", async () => {
    routes['GET /containers/c1/top'] = (req, res) =>
      new URL(req.url ?? '/', 'http://stub').searchParams.get('ps_args')?.includes('exe')
        ? json(res, 200, {
            Titles: ['PID', 'PPID', 'UID', 'GID', 'EXE', 'COMMAND'],
            Processes: [
              ['4100', '4080', '0', '0', '/usr/bin/dumb-init', 'dumb-init -- node server.js'],
              ['4120', '4100', '1000', '1000', '/usr/local/bin/node', '(deleted) next-server (v14.2.35)'],
              ['4130', '4100', '1000', '1000', '-', 'node worker.js'],
            ],
          })
        : json(res, 500, { message: 'Error running ps: exit status 1' });
    expect(await port().processes('c1')).toEqual([
      { pid: 4100, ppid: 4080, uid: 0, gid: 0, args: 'dumb-init -- node server.js', exe: '/usr/bin/dumb-init' },
      { pid: 4120, ppid: 4100, uid: 1000, gid: 1000, args: 'next-server (v14.2.35)', exe: '/usr/local/bin/node (deleted)' },
      { pid: 4130, ppid: 4100, uid: 1000, gid: 1000, args: 'node worker.js', exe: null },
    ]);
    routes['GET /containers/c2/top'] = (req, res) =>
      new URL(req.url ?? '/', 'http://stub').searchParams.get('ps_args')?.includes('exe')
        ? json(res, 500, { message: 'Error running ps: exit status 1' })
        : json(res, 200, { Titles: ['PID', 'PPID', 'UID', 'GID', 'COMMAND'], Processes: [['4100', '4080', '0', '0', 'node server.js']] });
    const old = port();
    expect(await old.processes('c2')).toEqual([{ pid: 4100, ppid: 4080, uid: 0, gid: 0, args: 'node server.js' }]);
    expect((await old.processes('c2'))[0]).not.toHaveProperty('exe');
  });

  it("asks ps for each process's state and keeps it (an idle event loop sleeps: S)", async () => {
    routes['GET /containers/c1/top'] = topAnswer(['PID', 'PPID', 'UID', 'GID', 'STAT', 'EXE', 'COMMAND'], [
      ['4100', '4080', '0', '0', 'Ss', '/usr/bin/dumb-init', 'dumb-init -- node server.js'],
      ['4120', '4100', '1000', '1000', 'Rl', '/usr/local/bin/node', 'node server.js'],
    ]);
    const rows = await port().processes('c1');
    expect(rows.map((r) => r.state)).toEqual(['Ss', 'Rl']);
    const asked = seen.find((r) => r.startsWith('GET /containers/c1/top'))!;
    expect(new URLSearchParams(asked.slice(asked.indexOf('?'))).get('ps_args')).toBe('-eo pid,ppid,uid,gid,stat,exe,args');
  });

  it("on Podman asks psgo for the state too, and lists without it when this psgo does not know the descriptor", async () => {
    routes['GET /libpod/_ping'] = (_req, res) => res.writeHead(200, { 'Content-Type': 'text/plain' }).end('OK');
    const psgo = (withState: boolean) => (req: http.IncomingMessage, res: http.ServerResponse) => {
      const asked = new URL(req.url ?? '/', 'http://stub').searchParams.get('ps_args') ?? '';
      if (asked.includes('state') && !withState) return res.writeHead(200).end(); // the fallback `ps` in the container: nothing
      json(res, 200, {
        Titles: ['PID', 'PPID', 'HPID', 'USER', 'GROUP', ...(asked.includes('state') ? ['STATE'] : []), 'COMMAND'],
        Processes: [
          ['1', '0', '4100', '0', '0', ...(asked.includes('state') ? ['S'] : []), 'dumb-init -- node server.js'],
          ['7', '1', '4120', '1000', '1000', ...(asked.includes('state') ? ['R'] : []), 'node server.js'],
        ],
      });
    };
    routes['GET /containers/c1/top'] = psgo(true);
    expect(await port().processes('c1')).toEqual([
      { pid: 4100, ppid: 0, uid: 0, gid: 0, args: 'dumb-init -- node server.js', state: 'S' },
      { pid: 4120, ppid: 4100, uid: 1000, gid: 1000, args: 'node server.js', state: 'R' },
    ]);
    routes['GET /containers/c1/top'] = psgo(false);
    const older = port();
    seen.length = 0;
    for (let i = 0; i < 2; i++) expect((await older.processes('c1')).map((r) => r.state)).toEqual([undefined, undefined]);
    expect(seen.filter((r) => r.startsWith('GET /containers/c1/top')).map((r) => new URLSearchParams(r.slice(r.indexOf('?'))).get('ps_args'))).toEqual([
      'pid,ppid,hpid,user,group,state,args',
      'pid,ppid,hpid,user,group,args',
      'pid,ppid,hpid,user,group,args',
    ]);
  });

  it("on Podman names users and groups: the container's /etc/passwd and /etc/group, read once, the first entry of a name winning", async () => {
    routes['GET /libpod/_ping'] = (_req, res) => res.writeHead(200, { 'Content-Type': 'text/plain' }).end('OK');
    routes['GET /containers/c1/top'] = topAnswer(['PID', 'PPID', 'HPID', 'USER', 'GROUP', 'STATE', 'COMMAND'], [
      ['1', '0', '4100', 'root', 'root', 'S', 'dumb-init -- node server.js'],
      ['7', '1', '4120', 'node', 'app', 'R', 'node server.js'],
    ]);
    const files: Record<string, string> = {
      '/etc/passwd': '# a comment\nroot:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\nnode:x:2000:2000:a later twin:/:/bin/sh\n',
      '/etc/group': 'root:x:0:\napp:x:1500:node\n',
    };
    routes['GET /containers/c1/archive'] = async (req, res) => {
      const at = new URL(req.url ?? '/', 'http://stub').searchParams.get('path') ?? '';
      if (!(at in files)) return json(res, 404, { message: 'Could not find the file' });
      res.writeHead(200, { 'Content-Type': 'application/x-tar' }).end(await tarOf([{ name: path.posix.basename(at), content: files[at] }]));
    };
    const podman = port();
    for (let i = 0; i < 2; i++) {
      expect((await podman.processes('c1')).map((r) => [r.uid, r.gid])).toEqual([
        [0, 0],
        [1000, 1500],
      ]);
    }
    const read = seen.filter((r) => r.startsWith('GET /containers/c1/archive')).map((r) => new URLSearchParams(r.slice(r.indexOf('?'))).get('path'));
    expect(read.sort()).toEqual(['/etc/group', '/etc/passwd']);
    files['/etc/passwd'] = 'root:x:0:0:root:/root:/bin/sh\n';
    await expect(port().processes('c1')).rejects.toThrow('Podman listed a process of user "node", which the container\'s /etc/passwd does not name');
  });

  it('reads the archive stat header (base64 JSON), with the directory bit', async () => {
    routes['HEAD /containers/c1/archive'] = (req, res) => {
      const at = new URL(req.url ?? '/', 'http://stub').searchParams.get('path');
      const header = {
        '/app': stat({ name: 'app', size: 4096, mode: 0x80000000 + 0o755 }),
        '/app/package.json': stat({ name: 'package.json', size: 312, mode: 0o644 }),
        '/app/current': stat({ name: 'current', size: 7, mode: 0x8000000 + 0o777, linkTarget: '/app/v2' }),
      }[at ?? ''];
      if (!header) return json(res, 404, { message: 'Could not find the file' });
      res.writeHead(200, { 'X-Docker-Container-Path-Stat': header }).end();
    };
    const docker = port();
    expect(await docker.statPath('c1', '/app')).toEqual({ name: 'app', sizeBytes: 4096, isDirectory: true, linkTarget: '' });
    expect(await docker.statPath('c1', '/app/package.json')).toEqual({ name: 'package.json', sizeBytes: 312, isDirectory: false, linkTarget: '' });
    expect(await docker.statPath('c1', '/app/current')).toMatchObject({ isDirectory: false, linkTarget: '/app/v2' });
    expect(await docker.statPath('c1', '/nope')).toBeUndefined();
  });

  it('demultiplexes an exec stream into stdout and stderr (8-byte frames, split across writes)', async () => {
    routes['POST /containers/c1/exec'] = (_req, res) => json(res, 201, { Id: 'e1' });
    routes['GET /exec/e1/json'] = (_req, res) => json(res, 200, { ExitCode: 3, Running: false });
    upgrades['POST /exec/e1/start'] = (_req, socket) => {
      socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
      const bytes = Buffer.concat([frame(1, 'first line\nsec'), frame(2, 'warning: oops\n'), frame(1, 'ond line\n')]);
      // A frame header cut in two: the demuxer must wait for the rest.
      socket.write(bytes.subarray(0, 5));
      setTimeout(() => socket.end(bytes.subarray(5)), 20);
    };
    const lines: string[] = [];
    const result = await port().exec('c1', { argv: ['node', '-e', '1'], timeoutMs: 5000, onStdoutLine: (line) => lines.push(line) });
    expect(result).toEqual({ exitCode: 3, stdout: 'first line\nsecond line\n', stderr: 'warning: oops\n' });
    expect(lines).toEqual(['first line', 'second line']);
  });

  it('turns the events stream into timestamped events (daemon clock, from timeNano)', async () => {
    routes['GET /events'] = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(JSON.stringify({ Action: 'start', timeNano: 1_700_000_000_123_000_000, Actor: { Attributes: { name: 'x' } } }) + '\n');
      res.write(JSON.stringify({ Action: 'health_status: healthy', time: 1_700_000_001, Actor: {} }).slice(0, 20));
      setTimeout(() => res.write(JSON.stringify({ Action: 'health_status: healthy', time: 1_700_000_001, Actor: {} }).slice(20) + '\n'), 20);
      // The stream stays open, as the daemon's does: only the abort ends it.
    };
    const abort = new AbortController();
    const received: ContainerEvent[] = [];
    for await (const event of port().containerEvents('c1', 1_699_999_000_000, { signal: abort.signal })) {
      received.push(event);
      if (received.length === 2) abort.abort();
    }
    expect(received).toEqual([
      { action: 'start', timeMs: 1_700_000_000_123, attributes: { name: 'x' } },
      { action: 'health_status: healthy', timeMs: 1_700_000_001_000, attributes: {} },
    ]);
    expect(seen.find((r) => r.startsWith('GET /events'))).toContain('since=1699999000');
  });
});

describe('DockerodePort: cancellation', () => {
  it('rejects a hung call promptly when its AbortSignal aborts', async () => {
    routes['GET /containers/c1/json'] = () => undefined; // never answers
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error('audit interrupted')), 50);
    const began = performance.now();
    await expect(port().inspectContainer('c1', { signal: abort.signal })).rejects.toThrow('audit interrupted');
    // Expected ~50 ms; far more than 3× that for a loaded CI.
    expect(performance.now() - began).toBeLessThan(2000);
  });

  it('stops waiting for an exit when the signal aborts', async () => {
    routes['POST /containers/c1/wait'] = () => undefined;
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error('budget passed')), 50);
    const began = performance.now();
    await expect(port().waitForExit('c1', { signal: abort.signal })).rejects.toThrow('budget passed');
    expect(performance.now() - began).toBeLessThan(2000);
  });
});

describe('DockerodePort: the large bodies, read raw from the socket', () => {
  const collect = async (source: ChunkSource) => {
    const parts: Buffer[] = [];
    const buffers = new Set<ArrayBufferLike>();
    await source((chunk) => {
      buffers.add(chunk.buffer);
      parts.push(Buffer.from(chunk));
    });
    return { body: Buffer.concat(parts), buffers };
  };

  it('exports an image: the name encoded per path segment, the chunked body lent from one buffer', async () => {
    const body = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7919) & 0xff;
    routes['GET /images/team/api%3A9/get'] = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/x-tar' });
      for (let at = 0; at < body.length; at += 100_000) res.write(body.subarray(at, at + 100_000));
      res.end();
    };
    const { body: read, buffers } = await collect(await port().exportImage('team/api:9'));
    expect(read.equals(body)).toBe(true);
    expect(buffers.size).toBe(1);
    expect(seen).toEqual(['GET /images/team/api%3A9/get']);
  });

  it('exports an image from a tcp:// engine without TLS the same way: lent from one buffer', async () => {
    const body = Buffer.alloc(1024 * 1024, 7);
    routes['GET /images/api%3A9/get'] = (_req, res) => res.writeHead(200, { 'Content-Type': 'application/x-tar' }).end(body);
    const tcp = new DockerodePort(new Docker({ host: '127.0.0.1', port: (tcpServer.address() as AddressInfo).port, protocol: 'http' }));
    const { body: read, buffers } = await collect(await tcp.exportImage('api:9'));
    expect(read.equals(body)).toBe(true);
    expect(buffers.size).toBe(1);
  });

  it('an export of an image that is not there is ImageNotFoundError; another refusal carries the message', async () => {
    routes['GET /images/gone%3A1/get'] = (_req, res) => json(res, 404, { message: 'reference does not exist' });
    routes['GET /images/busy%3A1/get'] = (_req, res) => json(res, 500, { message: 'write /var/lib/docker/tmp: no space left on device' });
    await expect(port().exportImage('gone:1')).rejects.toThrow(ImageNotFoundError);
    const error = await port().exportImage('busy:1').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(DockerApiError);
    expect(error).toMatchObject({ statusCode: 500, message: 'Docker refused exporting busy:1: write /var/lib/docker/tmp: no space left on device' });
  });

  it("reads a path's archive (its query encoded), and a path that is not there is undefined", async () => {
    routes['GET /containers/c1/archive'] = (req, res) => {
      if (new URL(req.url ?? '/', 'http://stub').searchParams.get('path') !== '/home/node/app/node_modules') return json(res, 404, { message: 'Could not find the file' });
      res.writeHead(200, { 'Content-Type': 'application/x-tar', 'Content-Length': '5' });
      res.end('a tar');
    };
    const { body } = await collect((await port().archive('c1', '/home/node/app/node_modules'))!);
    expect(body.toString()).toBe('a tar');
    expect(await port().archive('c1', '/nowhere')).toBeUndefined();
    expect(seen).toEqual(['GET /containers/c1/archive?path=%2Fhome%2Fnode%2Fapp%2Fnode_modules', 'GET /containers/c1/archive?path=%2Fnowhere']);
  });

  it('a daemon that closes the connection before answering has stopped answering, named as the engine is', async () => {
    routes['GET /images/app%3A1/get'] = (req) => req.socket.destroy();
    const error = await port().exportImage('app:1').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(DaemonUnreachableError);
    expect((error as Error).message).toMatch(/^Docker daemon stopped answering at .* while exporting app:1: the daemon closed the connection before answering$/);
    const engine = enginePort({ name: 'stub-context', host: `unix://${socketPath}`, source: '--context' });
    const named = await engine.exportImage('app:1').catch((err: unknown) => err);
    expect((named as Error).message).toContain(`stopped answering at unix://${socketPath} (stub-context) while exporting app:1`);
  });
});
