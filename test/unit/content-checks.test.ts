import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { compareEngines, nearestPackage, scriptOf } from '../../src/checks/engines-node.js';
import { analyseRebuild, isInstallStep, parseSteps } from '../../src/checks/layer-cache.js';
import { nodeEnv } from '../../src/checks/node-env.js';
import { secrets, type SecretsObservation } from '../../src/checks/secrets.js';
import type { CheckInput } from '../../src/checks/check.js';
import { walkImageExport } from '../../src/facts/layers.js';
import { buildArgsOf, candidateOf, envFileFindings, gitConfigFindings, looksSecretName, npmrcFindings, privateKeyFindings, secretEnv } from '../../src/facts/secrets-scan.js';
import type { LifecycleObservation } from '../../src/lifecycle/observe.js';
import { observed } from '../../src/observed.js';
import { tarOf } from '../support/tar.js';

describe('secret patterns', () => {
  it('finds .npmrc tokens, quoted or not, and ignores ${VAR} references', () => {
    const found = npmrcFindings('//registry.npmjs.org/:_authToken=npm_abcdefghijkl\n"//r.example/:_password"="c2VjcmV0cGFzcw=="\n_auth = dXNlcjpwYXNz\n//x/:_authToken=${NPM_TOKEN}\nalways-auth=true\n');
    expect(found.map((f) => f.what)).toEqual(['//registry.npmjs.org/:_authToken', '//r.example/:_password', '_auth']);
    // The value goes to the redactor (Verdict.secrets), which masks it where bytes leave.
    expect(found[0].value).toBe('npm_abcdefghijkl');
  });
  it('reads .env names, never values', () => {
    const [f] = envFileFindings('# comment\nDB_PASSWORD=hunter2\nEMPTY=\nexport API_KEY="x"\n');
    expect(f.what).toBe('defines DB_PASSWORD, API_KEY');
    expect(JSON.stringify(f)).not.toContain('hunter2');
  });
  it('finds private keys and git credentials', () => {
    expect(privateKeyFindings('-----BEGIN OPENSSH PRIVATE KEY-----\nxx')).toEqual([{ kind: 'private-key', what: 'OPENSSH PRIVATE KEY' }]);
    expect(privateKeyFindings('-----BEGIN PUBLIC KEY-----')).toEqual([]);
    const [git] = gitConfigFindings('[remote "origin"]\n\turl = https://bot:ghp_0123456789abcdef@github.com/acme/app.git\n');
    expect(git).toMatchObject({ kind: 'git-credentials', what: 'bot:…@github.com', value: 'ghp_0123456789abcdef' });
    expect(gitConfigFindings('url = https://github.com/acme/app.git')).toEqual([]);
  });
  it('chooses candidate files by path alone', () => {
    expect(candidateOf('home/node/.npmrc')).toBe('npmrc');
    expect(candidateOf('app/.env.production')).toBe('env-file');
    expect(candidateOf('app/.env.example')).toBeUndefined();
    expect(candidateOf('app/node_modules/pkg/.env')).toBeUndefined();
    expect(candidateOf('app/node_modules/pkg/test/key.pem')).toBeUndefined();
    expect(candidateOf('app/node_modules/pkg/.npmrc')).toBe('npmrc');
    expect(candidateOf('root/.ssh/id_ed25519')).toBe('key-file');
    expect(candidateOf('app/certs/server.key')).toBe('key-file');
    expect(candidateOf('app/.git/config')).toBe('git-config');
    expect(candidateOf('app/src/index.js')).toBeUndefined();
  });
  it('tells secret-looking names from their neighbours', () => {
    for (const name of ['NPM_TOKEN', 'GITHUB_PAT_X', 'SENTRY_DSN', 'GITHUB_TOKEN', 'DB_PASSWORD', 'API_KEY', 'JWT_SECRET', 'AUTH', 'AWS_SECRET_ACCESS_KEY', 'MYSQL_PASSWD', 'GOOGLE_CREDENTIALS']) expect(looksSecretName(name), name).toBe(true);
    for (const name of ['PUBLIC_KEY', 'SSH_KEY_PATH', 'API_KEY_FILE', 'GPG_KEY', 'NODE_VERSION', 'PATH', 'KEYCLOAK_URL', 'AWS_ACCESS_KEY_ID', 'TOKEN_HEADER']) expect(looksSecretName(name), name).toBe(false);
  });
  it('reads ENV and build args with values, skipping empty ones', () => {
    expect(secretEnv(['PATH=/usr/bin', 'NPM_TOKEN=npm_secretvalue', 'API_KEY='])).toEqual([{ name: 'NPM_TOKEN', value: 'npm_secretvalue' }]);
    expect(buildArgsOf('RUN |2 NPM_TOKEN=npm_x NODE_ENV=production /bin/sh -c npm ci # buildkit')).toEqual([
      { name: 'NPM_TOKEN', value: 'npm_x' },
      { name: 'NODE_ENV', value: 'production' },
    ]);
    expect(buildArgsOf('|1 TOKEN= /bin/sh -c x')).toEqual([{ name: 'TOKEN', value: '' }]);
    expect(buildArgsOf('/bin/sh -c npm ci')).toEqual([]);
  });
});

describe('walkImageExport', () => {
  it('sees a file a later layer deletes, in both the legacy and a gzipped OCI layout', async () => {
    const layer1 = await tarOf([{ name: 'home/node/.npmrc', content: '//r/:_authToken=abcdefgh12345678\n' }, { name: 'app/big.bin', content: Buffer.alloc(4096) }]);
    const layer2 = await tarOf([{ name: 'home/node/.wh..npmrc', content: '' }]);
    const config = { history: [{ created_by: 'COPY .npmrc /home/node/.npmrc # buildkit' }, { created_by: 'ENV A=1', empty_layer: true }, { created_by: 'RUN rm .npmrc' }] };
    const legacy = await tarOf([
      { name: 'l1/layer.tar', content: layer1 },
      { name: 'l2/layer.tar', content: layer2 },
      { name: 'cfg.json', content: JSON.stringify(config) },
      { name: 'manifest.json', content: JSON.stringify([{ Config: 'cfg.json', Layers: ['l1/layer.tar', 'l2/layer.tar'] }]) },
    ]);
    const files: string[] = [];
    const whiteouts: string[] = [];
    const layout = await walkImageExport(Readable.from([legacy]), {
      wants: (p) => p.endsWith('.npmrc'),
      onFile: (f, content) => files.push(`${f.layer}:${f.path}:${content.toString().trim()}`),
      onWhiteout: (layer, p) => whiteouts.push(`${layer}:${p}`),
    });
    expect(files).toEqual(['l1/layer.tar:home/node/.npmrc://r/:_authToken=abcdefgh12345678']);
    expect(whiteouts).toEqual(['l2/layer.tar:home/node/.npmrc']);
    expect(layout.layers).toEqual(['l1/layer.tar', 'l2/layer.tar']);
    expect(layout.history).toHaveLength(3);

    const gz = gzipSync(layer1);
    const manifest = { config: { digest: 'sha256:cfg' }, layers: [{ digest: 'sha256:aaa' }] };
    const oci = await tarOf([
      { name: 'blobs/sha256/aaa', content: gz },
      { name: 'blobs/sha256/cfg', content: JSON.stringify(config) },
      { name: 'blobs/sha256/man', content: JSON.stringify(manifest) },
      { name: 'index.json', content: JSON.stringify({ manifests: [{ digest: 'sha256:man' }] }) },
    ]);
    const ociFiles: string[] = [];
    const ociLayout = await walkImageExport(Readable.from([oci]), { wants: (p) => p.endsWith('.npmrc'), onFile: (f) => ociFiles.push(`${f.layer}:${f.path}`) });
    expect(ociFiles).toEqual(['blobs/sha256/aaa:home/node/.npmrc']);
    expect(ociLayout.layers).toEqual(['blobs/sha256/aaa']);
  });
});

describe('the secrets verdict', () => {
  const run = (observed: SecretsObservation) => secrets.run({ observed } as CheckInput);
  it('fails with the layer, the line and the value handed to the redactor, and hints at secret mounts', () => {
    const token = 'npm_0123456789abcdefghijklmnopqrstuvwxyz';
    const v = run({
      findings: [{ kind: 'npmrc-token', layer: 3, path: '/home/node/.npmrc', what: '//registry.npmjs.org/:_authToken', value: token, length: 40, deletedLater: true, source: { file: 'Dockerfile', line: 7, instruction: 'COPY ci.npmrc /home/node/.npmrc' } }],
      layers: 6,
      layerBytes: 1000,
      filesRead: 2,
      durationMs: 10,
    });
    expect(v.status).toBe('fail');
    expect(v.message).toBe(`1 secret in the image: .npmrc credential: /home/node/.npmrc: //registry.npmjs.org/:_authToken = ${token} (40 chars) (deleted by a later layer, still in the image) — layer 3 (Dockerfile:7 COPY ci.npmrc /home/node/.npmrc)`);
    expect(v.secrets).toEqual([token]);
    expect(v.hint).toContain('--mount=type=secret');
  });
  it('passes with what was scanned', () => {
    expect(run({ findings: [], layers: 5, layerBytes: 2_000_000, filesRead: 1, durationMs: 10 })).toMatchObject({ status: 'pass', message: expect.stringMatching(/^no credentials in 5 layers/) });
  });
});

describe('engines-node logic', () => {
  it('compares with semver, and says an alias is not a range', () => {
    expect(compareEngines('>=20.19 <23', 'v22.3.0')).toEqual({ kind: 'compared', declared: '>=20.19 <23', satisfied: true });
    expect(compareEngines('>=20.19 <23', 'v20.18.0')).toMatchObject({ satisfied: false });
    expect(compareEngines('^22', 'v20.20.2')).toMatchObject({ satisfied: false });
    expect(compareEngines('lts/*', 'v20.20.2')).toMatchObject({ kind: 'not-a-range', why: expect.stringContaining('not a semver range') });
    expect(compareEngines('banana', 'v20.20.2')).toMatchObject({ kind: 'not-a-range' });
    expect(compareEngines(undefined, 'v20.20.2')).toEqual({ kind: 'none' });
  });
  it('finds the script in argv and the nearest package.json', () => {
    expect(scriptOf(['node', '--enable-source-maps', '-r', 'dotenv/config', 'dist/main.js'])).toBe('dist/main.js');
    expect(scriptOf(['node', '-e', 'x'])).toBeUndefined();
    const packages = [{ path: '/opt/app/package.json', enginesNode: '>=20' }, { path: '/opt/app/dist/package.json' }];
    expect(nearestPackage(packages, '/opt/app/dist')?.path).toBe('/opt/app/dist/package.json');
    expect(nearestPackage(packages, '/opt/app/src/lib')?.path).toBe('/opt/app/package.json');
    expect(nearestPackage(packages, '/srv')).toBeUndefined();
  });
});

describe('layer-cache logic', () => {
  const instructions = [
    { file: 'Dockerfile', line: 5, instruction: 'COPY . .' },
    { file: 'Dockerfile', line: 6, instruction: 'RUN npm ci --omit=dev' },
  ];
  it('recognises install steps of every package manager', () => {
    for (const run of ['RUN npm ci', 'RUN npm install --omit=dev', 'RUN --mount=type=cache,target=/root/.npm npm ci', 'RUN yarn install --frozen-lockfile', 'RUN yarn', 'RUN corepack enable && pnpm install --prod', 'RUN pnpm i']) expect(isInstallStep(run), run).toBe(true);
    for (const run of ['RUN npm run build', 'RUN yarn build', 'COPY package.json ./', 'RUN pnpm run build']) expect(isInstallStep(run), run).toBe(false);
  });
  it('keeps BuildKit Dockerfile steps only, and classic steps', () => {
    expect(parseSteps([{ name: 'copy /context /', cached: false }, { name: '[internal] load build definition', cached: false }, { name: '[1/3] FROM docker.io/x', cached: false }, { name: '[deps 2/3] RUN npm ci', cached: true }, { name: 'exporting to image', cached: false }]).map((s) => [s.stage, s.instruction, s.cached])).toEqual([['deps', 'RUN npm ci', true]]);
    expect(parseSteps([{ name: 'FROM x', cached: false }, { name: 'RUN npm ci', cached: true }]).map((s) => s.instruction)).toEqual(['RUN npm ci']);
  });
  it('names the re-run install and the COPY that invalidated it', () => {
    const a = analyseRebuild(
      [{ name: '[2/4] WORKDIR /app', cached: true }, { name: '[3/4] COPY --chown=node:node . .', cached: false }, { name: '[4/4] RUN npm ci --omit=dev', cached: false }],
      instructions,
    );
    expect(a.installsReran).toEqual([{ step: '[4/4] RUN npm ci --omit=dev', location: instructions[1], invalidatedBy: { step: '[3/4] COPY --chown=node:node . .', location: instructions[0] } }]);
    expect(a.cachedSteps).toBe(1);
  });
  it('passes a cached install', () => {
    const a = analyseRebuild([{ name: '[deps 3/3] RUN npm ci --omit=dev', cached: true }, { name: '[stage-1 4/4] COPY src ./src', cached: false }], instructions);
    expect(a).toMatchObject({ installSteps: 1, installsReran: [], reran: [{ step: '[stage-1 4/4] COPY src ./src' }] });
  });
});

describe('the node-env verdict', () => {
  const life = (runtime: Partial<LifecycleObservation>) => ({ containerId: 'c', timeline: [], probes: {}, logs: [], durationMs: 0, ...runtime }) as LifecycleObservation;
  const app = { pid: 7, ppid: 1, cwd: '/app', argv: ['node', 'index.js'], exe: observed('/usr/local/bin/node'), nodeVersion: observed('v20.20.2'), helper: { argv0: 'node', execPath: '/usr/local/bin/node' }, matchedBy: 'argv' as const };
  const run = (l: LifecycleObservation) => nodeEnv.run({ lifecycle: l } as CheckInput);
  it('passes production, warns unset, fails anything else', () => {
    expect(run(life({ runtime: { ...app, nodeEnv: observed('production') } })).status).toBe('pass');
    expect(run(life({ runtime: { ...app, nodeEnv: observed(null) } }))).toMatchObject({ status: 'warn', hint: expect.stringContaining('ENV NODE_ENV=production') });
    expect(run(life({ runtime: { ...app, nodeEnv: observed('development') } }))).toMatchObject({ status: 'fail', message: 'NODE_ENV is "development" in the running app; expected "production"' });
  });
  it('never passes what it could not read', () => {
    expect(run(life({ runtimeError: 'no node process was found in the container' }))).toMatchObject({ status: 'error', message: expect.stringContaining('no node process was found') });
    expect(run(life({ exitedEarly: { exitCode: observed(1), afterMs: observed(100), oomKilled: false } })).status).toBe('error');
  });
});
