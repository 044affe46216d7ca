// Bounded, clear, and no stack traces — through the installed bin:
//   - a DOCKER_HOST that answers the ping and nothing else ends within the documented bound (exit 3);
//   - an HTTP server that is not Docker is named as such (exit 3);
//   - a .dockerignore pattern Docker refuses, and a Dockerfile symlinked out of the context, are usage
//     errors (exit 2) before any build, on both builder paths;
//   - report paths that reach one file through a symlink are refused; a dangling symlink is written through;
//   - a terminal with TERM=dumb gets no colour (a real pseudo-terminal, from util-linux `script`).
// Every server here listens on 127.0.0.1, on a port the test opens itself.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BIN, runCli } from '../support/cli.js';

const work = mkdtempSync(path.join(tmpdir(), 'inputs-bounds-'));

/** A build context of one trivial Dockerfile (FROM the base image), plus the given files. */
function context(name: string, files: Record<string, string> = {}): string {
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${inject('nodeImage')}\nCMD ["node", "-e", "setInterval(() => {}, 1000)"]\n`);
  for (const [file, content] of Object.entries(files)) writeFileSync(path.join(dir, file), content);
  return dir;
}

/** An HTTP server on 127.0.0.1 that the test controls; hung requests are held until close(). */
async function server(handle: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
  const held: Socket[] = [];
  const srv = http.createServer(handle);
  srv.on('connection', (socket) => held.push(socket));
  srv.on('upgrade', (_req, socket: Socket) => held.push(socket)); // never switches protocols
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    host: `tcp://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    close: () => {
      for (const socket of held) socket.destroy();
      srv.closeAllConnections();
      srv.close();
    },
  };
}

const noStackTrace = (stderr: string) => {
  expect(stderr).not.toContain('unexpected error');
  expect(stderr).not.toMatch(/^\s+at /m);
};

describe('a DOCKER_HOST that answers the ping and then nothing', () => {
  let silent: Awaited<ReturnType<typeof server>>;
  beforeAll(async () => {
    silent = await server((req, res) => {
      if (req.url?.endsWith('/_ping')) res.writeHead(200, { 'Api-Version': '1.41', 'Content-Type': 'text/plain' }).end('OK');
      // every other request is accepted and never answered
    });
  });
  afterAll(() => silent.close());

  it('ends a build-context audit at the 30 s bound with exit 3 and one clear line', async () => {
    const run = await runCli([context('silent')], { DOCKER_HOST: silent.host });
    expect(run.code, run.stderr).toBe(3);
    expect(run.elapsedMs).toBeGreaterThanOrEqual(29_000);
    expect(run.elapsedMs).toBeLessThan(45_000);
    expect(run.stderr.split('\n')[0]).toBe(
      `image-audit: Docker daemon at ${silent.host} did not answer within 30 s while opening the BuildKit session (POST /session)`,
    );
    noStackTrace(run.stderr);
  }, 90_000);
});

describe('an HTTP server that is not Docker', () => {
  for (const [what, status, body] of [
    ['200 "hello"', 200, 'hello'],
    ['a 404 HTML page', 404, '<!DOCTYPE html><html><body><h1>404 Not Found</h1></body></html>'],
  ] as const) {
    it(`is named as such (${what}): exit 3, before any build`, async () => {
      const web = await server((_req, res) => res.writeHead(status, { 'Content-Type': 'text/html' }).end(body));
      try {
        const run = await runCli([context('web')], { DOCKER_HOST: web.host });
        expect(run.code, run.stderr).toBe(3);
        expect(run.elapsedMs).toBeLessThan(10_000);
        expect(run.stderr.split('\n')[0]).toBe(
          `image-audit: DOCKER_HOST=${web.host} does not answer as a Docker daemon: GET /_ping answered HTTP ${status} "${body}" (a Docker daemon answers "OK" with an Api-Version header)`,
        );
        expect(run.stderr).not.toContain('socket.on is not a function');
        noStackTrace(run.stderr);
      } finally {
        web.close();
      }
    });
  }
});

describe('a .dockerignore pattern that Docker refuses', () => {
  for (const builder of ['buildkit', 'classic'] as const) {
    it(`is exit 2 naming the file, the line and the pattern, before any build (${builder})`, async () => {
      const dir = context(`ignore-${builder}`, { '.dockerignore': 'node_modules\n# a comment\n[\n' });
      const run = await runCli([dir, '--only', 'size-budget'], builder === 'classic' ? { IMAGE_AUDIT_BUILDER: 'classic' } : {});
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(`image-audit: ${path.join(dir, '.dockerignore')} line 3: "[" is not a valid pattern: the [ class is not closed with ]`);
      expect(run.stderr).not.toContain('Docker refused the build');
      noStackTrace(run.stderr);
    });
  }
});

describe('a Dockerfile that is a symlink out of the context', () => {
  it('is exit 2 "must be inside the build context", for -f and for the default Dockerfile', async () => {
    const outside = context('outside');
    const dir = path.join(work, 'linked');
    mkdirSync(dir);
    symlinkSync(path.join(outside, 'Dockerfile'), path.join(dir, 'Dockerfile'));
    symlinkSync('../outside/Dockerfile', path.join(dir, 'other.Dockerfile'));
    for (const args of [[dir], [dir, '-f', 'other.Dockerfile']]) {
      const run = await runCli([...args, '--only', 'size-budget']);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(/^image-audit: The Dockerfile must be inside the build context: (Dockerfile|other\.Dockerfile) is a symlink to .*outside\/Dockerfile, outside /);
    }
  });

  it('is built when the symlink stays inside the context (BuildKit)', async () => {
    const dir = context('inside-link');
    mkdirSync(path.join(dir, 'docker'));
    writeFileSync(path.join(dir, 'docker/real.Dockerfile'), readFileSync(path.join(dir, 'Dockerfile')));
    symlinkSync('docker/real.Dockerfile', path.join(dir, 'linked.Dockerfile'));
    const run = await runCli([dir, '-f', 'linked.Dockerfile', '--only', 'size-budget', '--format', 'json']);
    expect([0, 1], run.stderr).toContain(run.code);
  });
});

describe('report paths', () => {
  it('refuses two reports that reach one file through a symlink (exit 2, before the audit)', async () => {
    const dir = path.join(work, 'reports-same');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'real.json'), '{"kept":true}');
    symlinkSync('real.json', path.join(dir, 'link.json'));
    const run = await runCli([inject('nodeImage'), '--only', 'size-budget', '--format', 'json', '-o', path.join(dir, 'real.json'), '--report', `junit=${path.join(dir, 'link.json')}`]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain(`Cannot write --report junit=${path.join(dir, 'link.json')}: --output ${path.join(dir, 'real.json')} writes the same file`);
    expect(readFileSync(path.join(dir, 'real.json'), 'utf8')).toBe('{"kept":true}');
  });

  it('writes through a dangling symlink, as the shell does', async () => {
    const dir = path.join(work, 'reports-dangling');
    mkdirSync(dir);
    symlinkSync('target.json', path.join(dir, 'report.json'));
    const run = await runCli([inject('nodeImage'), '--only', 'size-budget', '--format', 'json', '-o', path.join(dir, 'report.json')]);
    expect([0, 1], run.stderr).toContain(run.code);
    expect(JSON.parse(readFileSync(path.join(dir, 'target.json'), 'utf8'))).toMatchObject({ checks: [{ id: 'size-budget' }] });
  });
});

describe('colour on a terminal', () => {
  const hasScript = (() => {
    try {
      execFileSync('script', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  /** The CLI on a pseudo-terminal (util-linux `script`): what it printed there. */
  function onTerminal(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
    const quoted = [BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const { NO_COLOR: _, ...inherited } = process.env;
    const child = spawn('script', ['-qec', quoted, '/dev/null'], { env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    return new Promise((resolve) => {
      const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('close', () => {
        clearTimeout(killer);
        resolve(out);
      });
    });
  }

  it.skipIf(!hasScript)('colours the report on a capable terminal, and not with TERM=dumb or NO_COLOR', async () => {
    const args = [inject('nodeImage'), '--only', 'size-budget'];
    const xterm = await onTerminal(args, { TERM: 'xterm-256color' });
    expect(xterm).toContain('size-budget');
    expect(xterm).toMatch(/\x1b\[3[12]m(PASS|FAIL)/);
    const dumb = await onTerminal(args, { TERM: 'dumb' });
    expect(dumb).toContain('size-budget');
    expect(dumb).not.toMatch(/\x1b\[\d+m/);
    const noColor = await onTerminal(args, { TERM: 'xterm-256color', NO_COLOR: '1' });
    expect(noColor).toContain('size-budget');
    expect(noColor).not.toMatch(/\x1b\[\d+m/);
  });
});
