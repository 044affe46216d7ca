// The one redactor: every form a secret can take in what we print, fragments, short values, and the
// sources it is fed from. Each case is one of the leaks seen on the second release's hostile inputs.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createOutlets } from '../../src/cli/outlets.js';
import { ReportWriteError } from '../../src/errors.js';
import { stageView } from '../../src/facts/dockerfile.js';
import { MASK, Redactor } from '../../src/redact/redactor.js';
import { buildArgSecrets, configEnvSecrets, dockerfileSecrets, envSecrets, historySecrets, urlCredentials } from '../../src/redact/secret-values.js';

const TOKEN = 'npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789'; // 40 characters
const redactor = (...values: string[]) => new Redactor().addAll(values);

describe('Redactor', () => {
  it('masks a value as written, JSON-escaped, XML/HTML-escaped and URL-encoded', () => {
    const secret = `pa"ss\\word<&>'x y`;
    const r = redactor(secret);
    expect(r.redact(`raw ${secret} end`)).toBe(`raw ${MASK} end`);
    expect(r.redact(JSON.stringify({ log: `got ${secret}` }))).toBe(`{"log":"got ${MASK}"}`);
    expect(r.redact(JSON.stringify(JSON.stringify({ log: secret })))).not.toContain('word');
    expect(r.redact('<p>pa&quot;ss\\word&lt;&amp;&gt;&#39;x y</p>')).toBe(`<p>${MASK}</p>`);
    expect(r.redact('<p>pa&quot;ss\\word&lt;&amp;&gt;&apos;x y</p>')).toBe(`<p>${MASK}</p>`);
    expect(r.redact(`file:///x?q=${encodeURIComponent(secret)}`)).toBe(`file:///x?q=${MASK}`);
  });

  it('masks a value the app logged JSON-escaped (pa\\"ss\\\\word…)', () => {
    const secret = 'pa"ss\\word-0123456789';
    const logged = `{"msg":"login","password":${JSON.stringify(secret)}}`; // what the app printed
    expect(redactor(secret).redact(logged)).not.toMatch(/ss\\\\word/);
    expect(redactor(secret).redact(JSON.stringify({ lastLogLines: [logged] }))).not.toContain('0123456789');
  });

  it('masks every line of a multi-line value (a PEM key logged line by line), keeping the armour readable', () => {
    const body = ['MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun', 'VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK'];
    const pem = ['-----BEGIN RSA PRIVATE KEY-----', ...body, '-----END RSA PRIVATE KEY-----'].join('\n');
    const r = redactor(pem);
    const logs = pem.split('\n').map((l) => r.redact(`app: ${l}`));
    expect(logs).toEqual(['app: -----BEGIN RSA PRIVATE KEY-----', `app: ${MASK}`, `app: ${MASK}`, 'app: -----END RSA PRIVATE KEY-----']);
    expect(r.redact(JSON.stringify({ env: pem }))).not.toMatch(/MIIE|VTLw/);
  });

  it('masks a token cut by a line limit: a prefix or suffix of a third of it or more', () => {
    const line = `${'x'.repeat(130)} token=${TOKEN}`; // 176 characters; a 160-character cut keeps 24 of the 40
    const r = redactor(TOKEN);
    expect(r.redact(line.slice(0, 160))).toBe(`${'x'.repeat(130)} token=${MASK}`);
    expect(r.redact(`…${TOKEN.slice(-20)} tail`)).toBe(`…${MASK} tail`);
    // Fewer characters than that identify nothing, and innocent text that shares a few letters stays.
    expect(r.redact('npm_AbCd and npm install')).toBe('npm_AbCd and npm install');
  });

  it('masks a short value of a secret-looking name only where it is assigned', () => {
    const r = redactor(...envSecrets({ DB_PASSWORD: 'abc', NODE_ENV: 'production', PORT: '3000' }));
    expect(r.redact('pw=abc')).toBe(`pw=${MASK}`);
    expect(r.redact('{"password": "abc"}')).toBe(`{"password": "${MASK}"}`);
    expect(r.redact('postgres://app:abc@db/x')).toBe(`postgres://app:${MASK}@db/x`);
    expect(r.redact('abc is the alphabet; abcdef=1; x=abcd')).toBe('abc is the alphabet; abcdef=1; x=abcd');
    expect(r.redact('NODE_ENV=production on port 3000')).toBe('NODE_ENV=production on port 3000');
  });

  it('merges overlapping matches into one mask and leaves everything else alone', () => {
    const r = redactor('secret-one-1234', 'one-1234-and-two');
    expect(r.redact('a secret-one-1234-and-two b')).toBe(`a ${MASK} b`);
    expect(new Redactor().redact('nothing to hide')).toBe('nothing to hide');
  });

  it('redacts every string of a report, keys included', () => {
    const r = redactor(TOKEN);
    expect(r.redactDeep({ a: [`t ${TOKEN}`, 1, null], [TOKEN]: { b: true } })).toEqual({ a: [`t ${MASK}`, 1, null], [MASK]: { b: true } });
  });
});

describe('what the redactor is fed', () => {
  it('takes --env values of secret-looking names, long values, and URL credentials', () => {
    expect(envSecrets({ NPM_TOKEN: 'n', NODE_ENV: 'production', DATABASE_URL: 'postgres://u:pw@h/db', LONG: 'a-long-value-1' })).toEqual(['n', 'pw', 'postgres://u:pw@h/db', 'a-long-value-1']);
  });
  it('takes build args of secret-looking names (GITHUB_PAT_X too) and a DSN key, never the base image', () => {
    expect(buildArgSecrets({ NODE_IMAGE: 'image-audit/node-base:20-bookworm', GITHUB_PAT_X: 'ghp_x1', SENTRY_DSN: 'https://key123@o1.ingest.sentry.io/1' })).toEqual([
      'ghp_x1',
      'https://key123@o1.ingest.sentry.io/1',
      'key123',
    ]);
    expect(urlCredentials('git+https://bot:tok@github.com/a.git and https://h/x')).toEqual(['tok']);
  });
  it("takes the image config's secret-looking ENV", () => {
    expect(configEnvSecrets(['PATH=/usr/bin', 'API_SECRET=envsecret_1', 'EMPTY_TOKEN='])).toEqual(['envsecret_1']);
  });
  it('takes what the history recorded: build args in scope of a RUN, ARG defaults and ENV values', () => {
    expect(
      historySecrets([
        'RUN |2 NPM_TOKEN=npm_1 NODE_ENV=production /bin/sh -c npm ci # buildkit',
        'ARG GITHUB_PAT_X=ghp_2',
        'ENV API_SECRET="envsecret 3" OTHER=1',
        '/bin/sh -c #(nop)  ARG SENTRY_DSN=https://key4@sentry.io/1',
        '/bin/sh -c #(nop) WORKDIR /app',
      ]),
    ).toEqual(['npm_1', 'ghp_2', 'envsecret 3', 'https://key4@sentry.io/1', 'key4']);
  });
  it("takes the Dockerfile's ENV values and ARG defaults of secret-looking names, every stage", () => {
    const dockerfile = 'FROM a AS b\nARG NPM_TOKEN\nARG GITHUB_PAT_X=ghp_default\nFROM c\nENV API_SECRET=envsecret_9 NODE_ENV=production\nENV DB_PASSWORD hunter2\n';
    expect(dockerfileSecrets(stageView('Dockerfile', dockerfile).assignments)).toEqual(['ghp_default', 'envsecret_9', 'hunter2']);
  });
});

describe('the CLI outlets', () => {
  const streams = () => {
    const [stdout, stderr] = [new PassThrough(), new PassThrough()];
    const text = { stdout: '', stderr: '' };
    stdout.on('data', (d) => (text.stdout += d));
    stderr.on('data', (d) => (text.stderr += d));
    return { streams: { stdout, stderr }, text };
  };
  it('redact whatever leaves by stdout and stderr', () => {
    const { streams: s, text } = streams();
    const out = createOutlets(new Redactor().add(TOKEN), s);
    out.stdout(`report ${TOKEN}\n`);
    out.stderr(`progress ${TOKEN.slice(0, 30)}\n`);
    expect(text).toEqual({ stdout: `report ${MASK}\n`, stderr: `progress ${MASK}\n` });
  });
  it('turn a failed report write into one clear error (a full disk)', () => {
    const out = createOutlets(new Redactor(), streams().streams);
    expect(() => out.file('/dev/full', 'x')).toThrow(ReportWriteError);
    expect(() => out.file('/dev/full', 'x')).toThrow('Could not write the report to /dev/full: no space left on the device (ENOSPC)');
  });
  it('are the only way the CLI writes: no other stream or file write in src/cli, src/report or src/audit', () => {
    const root = path.resolve(__dirname, '../../src');
    const files = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(path.join(dir, f)).isDirectory() ? files(path.join(dir, f)) : [path.join(dir, f)]));
    const offenders = files(root)
      .filter((f) => f.endsWith('.ts') && !f.endsWith(path.join('cli', 'outlets.ts')))
      // The bin's V8 code cache: the bundle's compiled code (bytecode and the literals of its source),
      // which holds no value the process read or computed.
      .filter((f) => !f.endsWith(path.join('cli', 'code-cache.ts')))
      // Scripts that run inside the container (template literals handed to an exec'd node) write to the
      // container's stdout, not ours: the text of template literals is left out.
      .filter((f) => /process\.std(out|err)\.write|console\.(log|error|warn|info)|writeFileSync|createWriteStream/.test(readFileSync(f, 'utf8').replace(/`[^`]*`/g, '``')))
      .map((f) => path.relative(root, f));
    expect(offenders).toEqual([]);
  });
});
