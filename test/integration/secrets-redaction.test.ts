// No secret leaves the process, through any exit: stdout, stderr, every report format, the library's
// callbacks and errors. Driven through the CLI users install (test/support/cli.ts) on a fixture that
// puts secrets everywhere the old masking missed them (fixtures/secrets).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { audit } from '../../src/audit.js';
import { DockerodePort } from '../../src/docker/dockerode-port.js';
import { BuildFailedError } from '../../src/errors.js';
import { FORMATS } from '../../src/report/render.js';
import type { AuditReport } from '../../src/types.js';
import { runCli, type CliRun } from '../support/cli.js';

const DIR = path.resolve(__dirname, '../../fixtures/secrets');
const docker = new DockerodePort();
const built = new Set<string>();
afterAll(async () => {
  for (const id of built) await docker.removeImage(id);
});

const PEM_BODY = ['MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun', 'VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK'];
const SECRETS = {
  // Given by the user.
  DB_PASSWORD: 'abc',
  TLS_PRIVATE_KEY: ['-----BEGIN RSA PRIVATE KEY-----', ...PEM_BODY, '-----END RSA PRIVATE KEY-----'].join('\n'),
  JSON_SECRET: 'pa"ss\\word-0123456789zz',
  LOG_TOKEN: 'tok_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789',
  SENTRY_DSN: 'https://dsnkey0123456789abcdef@o1.ingest.sentry.io/1',
  // In the Dockerfile.
  GITHUB_PAT_X: 'ghp_defaultPat0123456789abcdefABCDEF01',
  API_SECRET: 'envsecret_0123456789abcdefghij',
};
/** What must never be printed: each value, and the pieces of it a cut or a split would leave. */
const FORBIDDEN = [
  'dsnkey0123456789abcdef',
  SECRETS.GITHUB_PAT_X.slice(0, 20),
  SECRETS.API_SECRET.slice(0, 20),
  SECRETS.LOG_TOKEN.slice(0, 20),
  ...PEM_BODY.map((l) => l.slice(0, 24)),
  '0123456789zz',
  'pw=abc',
];
const leaksIn = (text: string) => FORBIDDEN.filter((s) => text.includes(s));

describe('an audit whose image, build args, env and logs carry secrets', () => {
  let run: CliRun;
  const reports: Record<string, string> = {};
  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'image-audit-secrets-'));
    const files = Object.fromEntries(FORMATS.map((f) => [f, path.join(dir, `report.${f}`)]));
    const env = ['DB_PASSWORD', 'TLS_PRIVATE_KEY', 'JSON_SECRET', 'LOG_TOKEN'].flatMap((k) => ['--env', `${k}=${SECRETS[k as keyof typeof SECRETS]}`]);
    run = await runCli([
      DIR,
      '--build-arg', `NODE_IMAGE=${inject('nodeImage')}`,
      '--build-arg', `SENTRY_DSN=${SECRETS.SENTRY_DSN}`,
      ...env,
      '--skip', 'size-budget',
      '--format', 'json', '-o', files.json,
      ...FORMATS.filter((f) => f !== 'json').flatMap((f) => ['--report', `${f}=${files[f]}`]),
    ]);
    for (const f of FORMATS) reports[f] = readFileSync(files[f], 'utf8');
    const report = JSON.parse(reports.json) as AuditReport;
    built.add(report.image.id);
  });

  it('ran the app, which logged them (exit 3: it crashes, so the checks of a running app could not run)', () => {
    expect(run.code, run.stderr).toBe(3);
    const report = JSON.parse(reports.json) as AuditReport;
    const shutdown = report.checks.find((c) => c.id === 'sigterm-shutdown')!;
    expect(JSON.stringify(shutdown.evidence)).toContain('pw=***');
    expect(report.checks.find((c) => c.id === 'secrets')!.status).toBe('fail');
  });
  for (const format of FORMATS) {
    it(`prints none of them in the ${format} report`, () => expect(leaksIn(reports[format])).toEqual([]));
  }
  it('prints none of them on stdout or stderr', () => {
    expect(leaksIn(run.stdout)).toEqual([]);
    expect(leaksIn(run.stderr)).toEqual([]);
  });
  it('still says where each secret is, with its length (the finding stays actionable)', () => {
    const report = JSON.parse(reports.json) as AuditReport;
    const secrets = report.checks.find((c) => c.id === 'secrets')!;
    expect(secrets.message).toMatch(/API_SECRET = \*\*\* \(30 chars\)/);
    expect(JSON.stringify(secrets.evidence)).toContain('GITHUB_PAT_X');
  });
});

describe('a build that fails in a RUN using a secret build arg', () => {
  const token = 'npm_FailingBuild0123456789abcdefghijklmn';
  for (const builder of ['buildkit', 'classic'] as const) {
    it(`prints the failing step and its output with the token masked (${builder})`, async () => {
      const run = await runCli(
        [DIR, '-f', 'fail-build.Dockerfile', '--build-arg', `NODE_IMAGE=${inject('nodeImage')}`, '--build-arg', `NPM_TOKEN=${token}`],
        builder === 'classic' ? { IMAGE_AUDIT_BUILDER: 'classic' } : {},
      );
      expect(run.code, run.stderr).toBe(3);
      expect(run.stderr).toContain('installing with token ***');
      expect(run.stderr).not.toContain(token.slice(0, 16));
      expect(run.stdout).not.toContain(token.slice(0, 16));
    });
  }
  it('throws a library error whose message, step and output are masked', async () => {
    const err = await audit({ kind: 'context', dir: DIR, dockerfile: 'fail-build.Dockerfile', buildArgs: { NODE_IMAGE: inject('nodeImage'), NPM_TOKEN: token } }).catch((e) => e);
    expect(err).toBeInstanceOf(BuildFailedError);
    const text = JSON.stringify({ message: err.message, step: err.failingStep, output: err.output, detail: err.detail });
    expect(text).toContain('***');
    expect(text).not.toContain(token.slice(0, 16));
  });
});

describe('the progress lines of a succeeding build', () => {
  it('carry no secret: the RUN that expands a secret ARG is shown masked', async () => {
    const lines: string[] = [];
    const report = await audit(
      { kind: 'context', dir: DIR, buildArgs: { NODE_IMAGE: inject('nodeImage'), SENTRY_DSN: SECRETS.SENTRY_DSN } },
      { only: ['size-budget'], onBuildProgress: (l) => lines.push(l), onStatus: (l) => lines.push(l) },
    );
    built.add(report.image.id);
    expect(lines.length).toBeGreaterThan(0);
    expect(leaksIn(lines.join('\n'))).toEqual([]);
    expect(leaksIn(JSON.stringify(report))).toEqual([]);
  });
});
