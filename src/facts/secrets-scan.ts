// What counts as a secret in an image, as pure functions: which file paths are worth reading, what in
// their content is a credential, which ENV / build-arg names look secret, and how a value is masked.
// The layer walk (src/facts/layers.ts) decides nothing; it hands each candidate file here.
import { posix as path } from 'node:path';

export type SecretKind = 'npmrc-token' | 'env-file' | 'private-key' | 'git-credentials' | 'env-var' | 'build-arg';

/** A file larger than this is never read: credentials files are small, and memory stays bounded. */
export const MAX_SCANNED_FILE_BYTES = 1024 * 1024;

/** Where a file is: the kind of secret it may hold, or undefined when it is not read at all. */
export type Candidate = 'npmrc' | 'env-file' | 'key-file' | 'git-config';

/** `.env.example` and friends are templates, committed on purpose. */
const ENV_TEMPLATES = /\.(example|sample|template|dist|defaults?|schema)$/i;
/** Private keys are looked for in files named like keys, never in every file of the image. */
const KEY_FILE = /(^id_(rsa|dsa|ecdsa|ed25519)$)|\.(pem|key|p8|ppk)$|^(private|server|client|tls|ssl)[-_.]?key/i;

/**
 * The kind of candidate a path in a layer is. Packages under node_modules ship test keys and sample
 * `.env` files: only `.npmrc` and `.git/config` are read there (a token is a token wherever it is).
 */
export function candidateOf(filePath: string): Candidate | undefined {
  const clean = filePath.replace(/^\.?\//, '');
  const base = path.basename(clean);
  if (base === '.npmrc' || base === 'npmrc') return 'npmrc';
  if (clean === '.git/config' || clean.endsWith('/.git/config')) return 'git-config';
  const inPackages = /(^|\/)node_modules\//.test(clean);
  if (inPackages) return undefined;
  if ((base === '.env' || base.startsWith('.env.')) && !ENV_TEMPLATES.test(base)) return 'env-file';
  if (KEY_FILE.test(base) && !/(^|\/)(usr\/share|usr\/lib|etc\/ssl\/certs)\//.test(clean)) return 'key-file';
  return undefined;
}

export interface ContentFinding {
  kind: SecretKind;
  /** What in the file: e.g. "//registry.npmjs.org/:_authToken", "NPM_TOKEN", "RSA PRIVATE KEY". */
  what: string;
  /** The value itself: the check hands it to the redactor (Verdict.secrets), which masks it wherever bytes leave. */
  value?: string;
}

const unquote = (v: string) => v.trim().replace(/^(['"])(.*)\1$/, '$2');

/** `.npmrc` lines with `_authToken`, `_auth` or `_password` and a value that is not a `${VAR}` reference. */
export function npmrcFindings(text: string): ContentFinding[] {
  const out: ContentFinding[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const m = /^(['"]?)(.*?(?:^|:|\b)(_authToken|_auth|_password))\1\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    const value = unquote(m[4]);
    // `${NPM_TOKEN}` is read from the environment at install time: the file itself holds no secret.
    if (!value || /^\$\{[^}]+\}$/.test(value)) continue;
    out.push({ kind: 'npmrc-token', what: m[2], value });
  }
  return out;
}

/** The variable names of a .env file that carry a value (the values are not kept: the file is the finding). */
export function envFileFindings(text: string): ContentFinding[] {
  const names: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(raw);
    if (m && unquote(m[2].replace(/\s+#.*$/, ''))) names.push(m[1]);
  }
  // An env file is a secret by where it is (it is loaded at run time), whatever its names.
  return [{ kind: 'env-file', what: names.length ? `defines ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''}` : 'an env file (no assignment read)' }];
}

export function privateKeyFindings(text: string): ContentFinding[] {
  const out: ContentFinding[] = [];
  for (const m of text.matchAll(/-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY)-----/g)) out.push({ kind: 'private-key', what: m[1] });
  return out;
}

/** `url = https://user:token@host/...` (and `x-access-token:...@`) in a .git/config. */
export function gitConfigFindings(text: string): ContentFinding[] {
  const out: ContentFinding[] = [];
  for (const m of text.matchAll(/\b[a-z][a-z0-9+.-]*:\/\/([^\s:/@]+):([^\s@/]+)@([^\s/]+)/gi)) {
    out.push({ kind: 'git-credentials', what: `${m[1]}:…@${m[3]}`, value: m[2] });
  }
  return out;
}

export function findingsIn(candidate: Candidate, text: string): ContentFinding[] {
  switch (candidate) {
    case 'npmrc':
      return npmrcFindings(text);
    case 'env-file':
      return envFileFindings(text);
    case 'key-file':
      return privateKeyFindings(text);
    case 'git-config':
      return gitConfigFindings(text);
  }
}

const SECRET_WORDS = new Set(['TOKEN', 'SECRET', 'SECRETS', 'PASSWORD', 'PASSWD', 'PASS', 'PAT', 'KEY', 'APIKEY', 'AUTH', 'CREDENTIAL', 'CREDENTIALS', 'PRIVATE', 'DSN']);
/** A name ending in one of these names where a secret is, or something about it, not the secret. */
const NOT_THE_SECRET = new Set(['PATH', 'FILE', 'DIR', 'ID', 'NAME', 'URL', 'HOST', 'PORT', 'USER', 'USERNAME', 'ENABLED', 'TYPE', 'LENGTH', 'ALGORITHM', 'HEADER', 'FINGERPRINT', 'VERSION']);

/**
 * Does an ENV or ARG name look like it holds a secret? NPM_TOKEN, GITHUB_TOKEN, DB_PASSWORD, API_KEY,
 * JWT_SECRET, AUTH do; PUBLIC_KEY, SSH_KEY_PATH, API_KEY_FILE, GPG_KEY (a public fingerprint the
 * official images set), NODE_AUTH_HEADER_NAME do not.
 */
export function looksSecretName(name: string): boolean {
  const parts = name.toUpperCase().split(/[^A-Z0-9]+/).filter(Boolean);
  if (!parts.some((p) => SECRET_WORDS.has(p) || /^(TOKEN|SECRET|PASSWORD|PASSWD|APIKEY|CREDENTIAL)S?$/.test(p))) return false;
  if (parts.includes('PUBLIC') || parts.includes('GPG') || parts.includes('PUB')) return false;
  if (NOT_THE_SECRET.has(parts[parts.length - 1])) return false;
  return true;
}

/** `KEY=VALUE` pairs of ENV entries whose names look secret and whose value is not empty. */
export function secretEnv(env: string[]): Array<{ name: string; value: string }> {
  return env.flatMap((entry) => {
    const eq = entry.indexOf('=');
    const name = eq < 0 ? entry : entry.slice(0, eq);
    const value = eq < 0 ? '' : entry.slice(eq + 1);
    return value && looksSecretName(name) ? [{ name, value }] : [];
  });
}

/**
 * The build args a RUN had in scope, as the history records them: "|2 A=1 B=2 /bin/sh -c …"
 * (classic) or "RUN |2 A=1 B=2 /bin/sh -c … # buildkit". Values with spaces are cut at the space.
 */
export function buildArgsOf(createdBy: string): Array<{ name: string; value: string }> {
  const m = /^(?:RUN\s+)?\|(\d+)\s+(.*)$/s.exec(createdBy.trim());
  if (!m) return [];
  const count = Number(m[1]);
  const out: Array<{ name: string; value: string }> = [];
  let rest = m[2];
  for (let i = 0; i < count; i++) {
    const pair = /^([A-Za-z_][A-Za-z0-9_]*)=(\S*)\s*/.exec(rest);
    if (!pair) break;
    out.push({ name: pair[1], value: pair[2] });
    rest = rest.slice(pair[0].length);
  }
  return out;
}

