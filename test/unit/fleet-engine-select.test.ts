// Engine selection as the docker CLI does it, against a context store in a temporary DOCKER_CONFIG.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { enginePort } from '../../src/docker/dockerode-port.js';
import { contextEngine, describeEngine, engineFromSpec, modemOptions, selectEngine } from '../../src/docker/engine.js';
import { UsageError } from '../../src/errors.js';

const config = mkdtempSync(path.join(tmpdir(), 'docker-config-'));
afterAll(() => rmSync(config, { recursive: true, force: true }));

const key = (name: string) => createHash('sha256').update(name).digest('hex');

function addContext(name: string, host: string, opts: { skipTls?: boolean; tls?: Record<string, string> } = {}) {
  const meta = path.join(config, 'contexts', 'meta', key(name));
  mkdirSync(meta, { recursive: true });
  writeFileSync(path.join(meta, 'meta.json'), JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker: { Host: host, SkipTLSVerify: opts.skipTls ?? false } } }));
  if (opts.tls) {
    const dir = path.join(config, 'contexts', 'tls', key(name), 'docker');
    mkdirSync(dir, { recursive: true });
    for (const [file, text] of Object.entries(opts.tls)) writeFileSync(path.join(dir, file), text);
  }
}

addContext('second', 'unix:///tmp/x/docker.sock');
addContext('remote', 'tcp://10.1.2.3:2376', { tls: { 'ca.pem': 'CA', 'cert.pem': 'CERT', 'key.pem': 'KEY' } });
addContext('lax', 'tcp://10.1.2.4:2376', { skipTls: true });
addContext('over-ssh', 'ssh://deploy@build-host:2222');

const env = (extra: Record<string, string> = {}) => ({ DOCKER_CONFIG: config, ...extra });

describe('selecting the engine of a single audit', () => {
  it('takes DOCKER_HOST over any context, and says that the context is not used', () => {
    const { engine, notice } = selectEngine({ context: 'second', env: env({ DOCKER_HOST: 'tcp://127.0.0.1:2375', DOCKER_CONTEXT: 'remote' }) });
    expect(engine).toMatchObject({ host: 'tcp://127.0.0.1:2375', source: 'DOCKER_HOST' });
    expect(notice).toBe('DOCKER_HOST is set: it is used, not the context "second"');
  });
  it('reads --context from the store: its docker endpoint Host', () => {
    expect(selectEngine({ context: 'second', env: env({ DOCKER_CONTEXT: 'remote' }) }).engine).toEqual({
      name: 'second',
      host: 'unix:///tmp/x/docker.sock',
      source: '--context',
    });
  });
  it('takes DOCKER_CONTEXT when no --context is given, over the config file\'s currentContext', () => {
    writeFileSync(path.join(config, 'config.json'), JSON.stringify({ currentContext: 'lax' }));
    try {
      expect(selectEngine({ env: env({ DOCKER_CONTEXT: 'second' }) }).engine).toMatchObject({ name: 'second', source: 'DOCKER_CONTEXT' });
      expect(selectEngine({ env: env() }).engine).toMatchObject({ name: 'lax', source: 'currentContext', tls: { skipVerify: true } });
    } finally {
      rmSync(path.join(config, 'config.json'));
    }
  });
  it('falls back to the default socket, and "default" names it', () => {
    expect(selectEngine({ env: env() }).engine).toEqual({ name: 'default', host: 'unix:///var/run/docker.sock', source: 'default' });
    expect(selectEngine({ context: 'default', env: env() }).engine).toMatchObject({ host: 'unix:///var/run/docker.sock' });
  });
  it('reads the TLS material of a context from contexts/tls/<sha256>/docker', () => {
    const engine = contextEngine('remote', '--context', env());
    expect(engine.tls).toEqual({ ca: 'CA', cert: 'CERT', key: 'KEY', skipVerify: false });
    expect(modemOptions(engine)).toEqual({ protocol: 'https', host: '10.1.2.3', port: '2376', ca: 'CA', cert: 'CERT', key: 'KEY' });
  });
  it('fails with exit 2 naming a context that does not exist, and the ones that do', () => {
    const attempt = () => selectEngine({ context: 'nope', env: env() });
    expect(attempt).toThrow(UsageError);
    expect(attempt).toThrow(/^Docker context "nope" \(--context\) does not exist in .*contexts: the contexts there are default, lax, over-ssh, remote, second$/);
    expect(() => selectEngine({ env: env({ DOCKER_CONTEXT: 'gone' }) })).toThrow('Docker context "gone" (DOCKER_CONTEXT) does not exist');
  });
  it('ignores an unparsable config.json with a notice, as the docker CLI does', () => {
    writeFileSync(path.join(config, 'config.json'), '{ not json');
    try {
      const { engine, notice } = selectEngine({ env: env() });
      expect(engine.source).toBe('default');
      expect(notice).toMatch(/^cannot parse .*config\.json .*: its currentContext is not used$/);
    } finally {
      rmSync(path.join(config, 'config.json'));
    }
  });
  it('refuses a DOCKER_HOST that is not a Docker URL', () => {
    expect(() => selectEngine({ env: env({ DOCKER_HOST: 'ftp://x' }) })).toThrow(/scheme must be one of unix:\/\/, tcp:\/\//);
  });
});

describe('engines given to a fleet', () => {
  it('are a URL or a context name, known by what was given', () => {
    expect(engineFromSpec('unix:///tmp/e2/docker.sock', env())).toEqual({ name: 'unix:///tmp/e2/docker.sock', host: 'unix:///tmp/e2/docker.sock', source: '--engine' });
    expect(engineFromSpec('second', env())).toMatchObject({ name: 'second', host: 'unix:///tmp/x/docker.sock' });
    expect(() => engineFromSpec('missing', env())).toThrow('Docker context "missing" (--engine) does not exist');
  });
  it('become docker-modem options: a socket, plain tcp, TLS without verification, ssh', () => {
    expect(modemOptions(engineFromSpec('unix:///tmp/e2/docker.sock', env()))).toEqual({ socketPath: '/tmp/e2/docker.sock' });
    expect(modemOptions(engineFromSpec('tcp://127.0.0.1:2375', env()))).toEqual({ protocol: 'http', host: '127.0.0.1', port: '2375' });
    expect(modemOptions(contextEngine('lax', '--engine', env()))).toMatchObject({ protocol: 'https', rejectUnauthorized: false });
    expect(modemOptions(contextEngine('over-ssh', '--engine', env()), {})).toEqual({ protocol: 'ssh', host: 'build-host', port: '2222', username: 'deploy' });
  });
  it('are described by name and address in messages', () => {
    expect(describeEngine(contextEngine('second', '--context', env()))).toBe('context second (unix:///tmp/x/docker.sock)');
    expect(describeEngine(engineFromSpec('tcp://127.0.0.1:2375', env()))).toBe('tcp://127.0.0.1:2375');
  });
});

describe('the port of an engine', () => {
  it('names its own engine in its messages, whatever DOCKER_HOST says', async () => {
    const ghost = enginePort({ name: 'ghost', host: 'unix:///tmp/no-engine-here-fleet.sock', source: '--engine' });
    await expect(ghost.ping()).rejects.toThrow('Docker daemon unreachable at unix:///tmp/no-engine-here-fleet.sock (ghost): ENOENT');
    const url = enginePort(engineFromSpec('unix:///tmp/no-engine-here-fleet-2.sock', env()));
    await expect(url.ping()).rejects.toThrow('Docker daemon unreachable at unix:///tmp/no-engine-here-fleet-2.sock: ENOENT');
  });
});
