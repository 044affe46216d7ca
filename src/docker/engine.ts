// Which Docker engine an audit talks to, chosen as the docker CLI chooses it:
//   DOCKER_HOST > --context NAME / DOCKER_CONTEXT > currentContext of $DOCKER_CONFIG/config.json > the default socket.
// A context is read from the docker CLI's own store ($DOCKER_CONFIG/contexts, default ~/.docker): its
// docker endpoint (Host, SkipTLSVerify) in meta/<sha256(name)>/meta.json, its TLS material in
// tls/<sha256(name)>/docker/{ca,cert,key}.pem. Plain data here; src/docker/dockerode-port.ts turns an
// Engine into a port (it alone imports dockerode).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { UsageError } from '../errors.js';

export const DEFAULT_HOST = 'unix:///var/run/docker.sock';
export const DEFAULT_CONTEXT = 'default';

/** What chose the engine, named in messages. */
export type EngineSource = 'DOCKER_HOST' | '--context' | 'DOCKER_CONTEXT' | 'currentContext' | 'default' | '--engine';

export interface EngineTls {
  /** PEM texts, when the store or DOCKER_CERT_PATH has them. */
  ca?: string;
  cert?: string;
  key?: string;
  /** The context's SkipTLSVerify (or DOCKER_HOST without DOCKER_TLS_VERIFY): encrypt, but accept any certificate. */
  skipVerify: boolean;
}

export interface Engine {
  /** How the engine is known: the context name or the URL, as given ("default": the default socket). */
  name: string;
  /** Its address: unix:///path, tcp://host:port, ssh://user@host[:port], http(s)://host:port. */
  host: string;
  source: EngineSource;
  tls?: EngineTls;
}

const SCHEMES = ['unix:', 'tcp:', 'ssh:', 'http:', 'https:'];
/** The docker CLI's rule for context names. */
const CONTEXT_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$/;

type Env = Record<string, string | undefined>;

/** $DOCKER_CONFIG, else ~/.docker: the docker CLI's config folder. */
export function dockerConfigDir(env: Env = process.env): string {
  return env.DOCKER_CONFIG || path.join(homedir(), '.docker');
}

const contextKey = (name: string) => createHash('sha256').update(name).digest('hex');

/** "context second (unix:///tmp/e2/docker.sock)", "DOCKER_HOST=tcp://…", "unix:///var/run/docker.sock": for messages. */
export function describeEngine(engine: Engine): string {
  if (engine.source === 'DOCKER_HOST') return `DOCKER_HOST=${engine.host}`;
  if (engine.name === engine.host) return engine.host;
  return `${engine.name === DEFAULT_CONTEXT ? 'the default engine' : `context ${engine.name}`} (${engine.host})`;
}

/** A URL given for an engine: one of the schemes the docker CLI takes, with an address after it. */
export function checkHostUrl(url: string, given: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`Bad Docker host ${JSON.stringify(url)} (${given}): not a URL such as unix:///var/run/docker.sock, tcp://host:2376 or ssh://user@host`);
  }
  if (!SCHEMES.includes(parsed.protocol)) {
    throw new UsageError(`Bad Docker host ${JSON.stringify(url)} (${given}): the scheme must be one of ${SCHEMES.map((s) => `${s}//`).join(', ')}`);
  }
  if (parsed.protocol === 'unix:' ? !parsed.pathname || parsed.pathname === '/' : !parsed.hostname) {
    throw new UsageError(`Bad Docker host ${JSON.stringify(url)} (${given}): no ${parsed.protocol === 'unix:' ? 'socket path' : 'host'} in it`);
  }
  return url;
}

function readPem(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(`Cannot read ${file}: ${(err as Error).message}`);
  }
}

/** The TLS of DOCKER_HOST as the docker CLI reads it: DOCKER_TLS_VERIFY / DOCKER_TLS, certificates in DOCKER_CERT_PATH (default: the config folder). */
function envTls(env: Env): EngineTls | undefined {
  const verify = !!env.DOCKER_TLS_VERIFY;
  if (!verify && !env.DOCKER_TLS) return undefined;
  const dir = env.DOCKER_CERT_PATH || dockerConfigDir(env);
  return { ca: readPem(path.join(dir, 'ca.pem')), cert: readPem(path.join(dir, 'cert.pem')), key: readPem(path.join(dir, 'key.pem')), skipVerify: !verify };
}

/** The names of the contexts in the store, for a message that says which exist. */
export function contextNames(env: Env = process.env): string[] {
  const metaDir = path.join(dockerConfigDir(env), 'contexts', 'meta');
  let entries: string[] = [];
  try {
    entries = readdirSync(metaDir);
  } catch {
    return [];
  }
  const names: string[] = [];
  for (const entry of entries) {
    try {
      const name = (JSON.parse(readFileSync(path.join(metaDir, entry, 'meta.json'), 'utf8')) as { Name?: unknown }).Name;
      if (typeof name === 'string') names.push(name);
    } catch {
      // A broken entry is not listed; reading it by name says what is wrong with it.
    }
  }
  return names.sort();
}

/** A context of the store by name ("default": the default socket); a name it does not hold is a usage error naming it. */
export function contextEngine(name: string, source: EngineSource, env: Env = process.env): Engine {
  if (name === DEFAULT_CONTEXT) return { name, host: DEFAULT_HOST, source };
  const store = path.join(dockerConfigDir(env), 'contexts');
  const from = source === 'currentContext' ? `currentContext of ${path.join(dockerConfigDir(env), 'config.json')}` : source;
  const known = () => {
    const names = contextNames(env);
    return names.length ? `the contexts there are ${[DEFAULT_CONTEXT, ...names].join(', ')}` : `there is no context there but ${DEFAULT_CONTEXT}`;
  };
  if (!CONTEXT_NAME.test(name)) {
    throw new UsageError(`Docker context ${JSON.stringify(name)} (${from}) does not exist: not a context name; ${known()}`);
  }
  const metaFile = path.join(store, 'meta', contextKey(name), 'meta.json');
  if (!existsSync(metaFile)) {
    throw new UsageError(`Docker context "${name}" (${from}) does not exist in ${store}: ${known()}`, [
      'Create it with `docker context create`, or set DOCKER_CONFIG to the folder whose contexts you mean.',
    ]);
  }
  let meta: { Name?: unknown; Endpoints?: { docker?: { Host?: unknown; SkipTLSVerify?: unknown } } };
  try {
    meta = JSON.parse(readFileSync(metaFile, 'utf8').replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new UsageError(`Cannot read Docker context "${name}" (${metaFile}): ${(err as Error).message}`);
  }
  const endpoint = meta?.Endpoints?.docker;
  if (typeof endpoint?.Host !== 'string' || !endpoint.Host) {
    throw new UsageError(`Docker context "${name}" (${metaFile}) has no docker endpoint Host`);
  }
  const host = checkHostUrl(endpoint.Host, `context "${name}"`);
  const tlsDir = path.join(store, 'tls', contextKey(name), 'docker');
  const ca = readPem(path.join(tlsDir, 'ca.pem'));
  const cert = readPem(path.join(tlsDir, 'cert.pem'));
  const key = readPem(path.join(tlsDir, 'key.pem'));
  const skipVerify = endpoint.SkipTLSVerify === true;
  const tls = ca || cert || key || (skipVerify && /^(tcp|https):/.test(host)) ? { ca, cert, key, skipVerify } : undefined;
  return { name, host, source, ...(tls && { tls }) };
}

/** currentContext of $DOCKER_CONFIG/config.json, when it names one. An unreadable file is ignored with a notice, as the docker CLI does. */
function currentContext(env: Env): { name?: string; notice?: string } {
  const file = path.join(dockerConfigDir(env), 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    return { notice: `cannot read ${file} (${(err as Error).message}): its currentContext is not used` };
  }
  try {
    const name = (JSON.parse(text.replace(/^\uFEFF/, '')) as { currentContext?: unknown })?.currentContext;
    return typeof name === 'string' && name ? { name } : {};
  } catch (err) {
    return { notice: `cannot parse ${file} (${(err as Error).message}): its currentContext is not used` };
  }
}

export interface EngineSelection {
  engine: Engine;
  /** Something the user should know (a --context that DOCKER_HOST overrides, an unreadable config.json). */
  notice?: string;
}

/** The engine of a single audit, as the docker CLI picks it. */
export function selectEngine(opts: { context?: string; env?: Env } = {}): EngineSelection {
  const env = opts.env ?? process.env;
  if (env.DOCKER_HOST) {
    const host = checkHostUrl(env.DOCKER_HOST, 'DOCKER_HOST');
    const tls = envTls(env);
    const overridden = opts.context ?? env.DOCKER_CONTEXT;
    return {
      engine: { name: host, host, source: 'DOCKER_HOST', ...(tls && { tls }) },
      ...(overridden && { notice: `DOCKER_HOST is set: it is used, not the context "${overridden}"` }),
    };
  }
  if (opts.context) return { engine: contextEngine(opts.context, '--context', env) };
  if (env.DOCKER_CONTEXT) return { engine: contextEngine(env.DOCKER_CONTEXT, 'DOCKER_CONTEXT', env) };
  const current = currentContext(env);
  if (current.name) return { engine: contextEngine(current.name, 'currentContext', env), ...(current.notice && { notice: current.notice }) };
  return { engine: { name: DEFAULT_CONTEXT, host: DEFAULT_HOST, source: 'default' }, ...(current.notice && { notice: current.notice }) };
}

/** An engine given to a fleet (`--engine`): a URL (unix://, tcp://, ssh://, http(s)://) or a context name. */
export function engineFromSpec(spec: string, env: Env = process.env): Engine {
  if (spec.includes('://')) {
    const host = checkHostUrl(spec, '--engine');
    return { name: spec, host, source: '--engine' };
  }
  const engine = contextEngine(spec, '--engine', env);
  return { ...engine, name: spec };
}

/** docker-modem's options for an engine (dockerode passes them through). */
export interface ModemOptions {
  socketPath?: string;
  host?: string;
  port?: number | string;
  protocol?: 'http' | 'https' | 'ssh';
  username?: string;
  ca?: string;
  cert?: string;
  key?: string;
  /** TLS without verifying the server's certificate (SkipTLSVerify). */
  rejectUnauthorized?: boolean;
  sshOptions?: Record<string, unknown>;
}

export function modemOptions(engine: Engine, env: Env = process.env): ModemOptions {
  const url = new URL(engine.host);
  if (url.protocol === 'unix:') return { socketPath: decodeURIComponent(url.pathname) };
  if (url.protocol === 'ssh:') {
    return {
      protocol: 'ssh',
      host: url.hostname,
      port: url.port || 22,
      ...(url.username && { username: decodeURIComponent(url.username) }),
      // As docker-modem does for an ssh DOCKER_HOST: the user's agent holds the key.
      ...(env.SSH_AUTH_SOCK && { sshOptions: { agent: env.SSH_AUTH_SOCK } }),
    };
  }
  const tls = engine.tls ?? (url.protocol === 'https:' ? { skipVerify: false } : undefined);
  const port = url.port || (tls ? 2376 : 2375);
  if (!tls) return { protocol: 'http', host: url.hostname, port };
  return {
    protocol: 'https',
    host: url.hostname,
    port,
    ...(tls.ca && { ca: tls.ca }),
    ...(tls.cert && { cert: tls.cert }),
    ...(tls.key && { key: tls.key }),
    ...(tls.skipVerify && { rejectUnauthorized: false }),
  };
}
