// What users install is what is tested: the bin of the package npm installed from its packed tarball
// (test/support/global-setup.ts), executed as a user's shell would. One --deep audit of the compliant
// fixture runs every check and writes every format; one audit of an app whose log holds characters
// XML 1.0 forbids or that must not reach a reader raw writes SARIF (with hints), JUnit and HTML. Every
// SARIF is validated against the 2.1.0 schema, every JUnit by an XML parser, every HTML in Chromium.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { selectChecks } from '../../src/audit.js';

/** Every check a --deep audit without a manifest runs (the k8s-* checks are driven through the bin by k8s-*.test.ts). */
const CHECK_IDS = selectChecks(undefined, undefined, true).map((c) => c.id);
import { DockerodePort } from '../../src/docker/dockerode-port.js';
import { FORMATS } from '../../src/report/render.js';
import type { AuditReport } from '../../src/types.js';
import { BIN, runCli, type CliRun } from '../support/cli.js';
import { validateSarif } from '../support/sarif-schema.js';

const execFileP = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const SERVICE = path.join(ROOT, 'fixtures/service');
const REPORT_FIXTURE = path.join(ROOT, 'fixtures/report');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };

const haveChromium = await execFileP('chromium', ['--version'], { timeout: 30_000 }).then(() => true, () => false);

/** The DOM Chromium builds from an HTML file (no script may run: the report carries none). */
async function domOf(file: string, profile: string): Promise<string> {
  const { stdout } = await execFileP('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${profile}`, '--dump-dom', pathToFileURL(file).href], {
    timeout: 90_000,
    maxBuffer: 32 * 1024 * 1024,
  });
  return stdout;
}

/** The code points XML 1.0 allows (its Char production). */
const XML_CHAR = /^[\t\n\r\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u;
/** Must never reach a report raw: C0 (but tab and line breaks), DEL, C1, bidi controls, U+FFFE/U+FFFF. */
const RAW_HOSTILE = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069\ufffe\uffff]/;

function junitCases(xml: string): Array<Record<string, unknown>> {
  const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml);
  return [parsed.testsuites.testsuite.testcase].flat();
}

const work = mkdtempSync(path.join(tmpdir(), 'packed-bin-'));
const out = (name: string) => path.join(work, name);
const built: string[] = [];
afterAll(async () => {
  const docker = new DockerodePort();
  for (const id of built) await docker.removeImage(id).catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

describe('the installed package', () => {
  it('is not the working tree: its bins link into the installed package, whose bin file starts #!/usr/bin/env node', () => {
    const target = realpathSync(BIN);
    expect(target.startsWith(ROOT + path.sep)).toBe(false);
    expect(target).toMatch(/lib\/node_modules\/node-image-audit\/dist\/cli\/main\.cjs$/);
    expect(realpathSync(path.join(path.dirname(BIN), 'image-audit'))).toBe(target);
    expect(readFileSync(target, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });
  it('keeps its compiled code in the cache folder, and a second start takes it as it is', async () => {
    const cache = mkdtempSync(path.join(tmpdir(), 'image-audit-code-cache-'));
    try {
      const env = { ...process.env, IMAGE_AUDIT_CACHE_DIR: cache };
      await execFileP(BIN, ['--version'], { env, timeout: 60_000 });
      const v8 = path.join(cache, 'v8');
      const [file, ...more] = readdirSync(v8);
      expect(more).toEqual([]);
      expect(file).toMatch(/^cli-[0-9a-f]{32}\.bin$/);
      const first = statSync(path.join(v8, file!));
      expect(first.size).toBeGreaterThan(100_000);
      // A cache V8 rejected would be written again: the same file, untouched, is one it took.
      const { stdout } = await execFileP(BIN, ['--version'], { env, timeout: 60_000 });
      expect(stdout.trim()).toBe(pkg.version);
      expect(readdirSync(v8)).toEqual([file]);
      expect(statSync(path.join(v8, file!)).mtimeMs).toBe(first.mtimeMs);
      // Turned off, nothing more is read or written.
      await execFileP(BIN, ['--version'], { env: { ...env, IMAGE_AUDIT_CACHE: 'off', IMAGE_AUDIT_CACHE_DIR: path.join(cache, 'off') }, timeout: 60_000 });
      expect(readdirSync(cache).sort()).toEqual(['v8']);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
  it('answers --version under both bin names', async () => {
    for (const bin of [BIN, path.join(path.dirname(BIN), 'image-audit')]) {
      const { stdout } = await execFileP(bin, ['--version'], { timeout: 60_000 });
      expect(stdout.trim()).toBe(pkg.version);
    }
  });
});

describe('--deep on the compliant build context: every check, every format, one audit', () => {
  let run: CliRun;
  let report: AuditReport;
  const file = (format: string) => out(`compliant.${format}`);
  beforeAll(async () => {
    const reports = FORMATS.filter((f) => f !== 'json').flatMap((f) => ['--report', `${f}=${file(f)}`]);
    run = await runCli([SERVICE, '--build-arg', `NODE_IMAGE=${inject('nodeImage')}`, '--deep', '--format', 'json', '--output', file('json'), ...reports]);
    report = JSON.parse(readFileSync(file('json'), 'utf8')) as AuditReport;
  }, 420_000);

  it('runs every check, layer-cache included, and none fails or errors (exit 0)', () => {
    const shown = `${run.stderr}\n${readFileSync(file('tty'), 'utf8')}`;
    expect(report.checks.map((c) => c.id).sort(), shown).toEqual([...CHECK_IDS].sort());
    expect(report.checks.filter((c) => c.status === 'error' || c.status === 'fail').map((c) => `${c.id}: ${c.message}`), shown).toEqual([]);
    expect(run.code, shown).toBe(0);
  });
  it('writes tty and markdown naming every check', () => {
    const tty = readFileSync(file('tty'), 'utf8');
    const markdown = readFileSync(file('markdown'), 'utf8');
    for (const id of CHECK_IDS) {
      expect(tty).toContain(id);
      expect(markdown).toContain(id);
    }
    expect(tty).not.toContain('\x1b');
  });
  it('writes JUnit that an XML parser accepts, one testcase per check', () => {
    const xml = readFileSync(file('junit'), 'utf8');
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(junitCases(xml)).toHaveLength(CHECK_IDS.length);
  });
  it('writes SARIF valid against the 2.1.0 schema, its context a percent-encoded file URI', () => {
    const sarif = JSON.parse(readFileSync(file('sarif'), 'utf8'));
    expect(validateSarif(sarif)).toEqual([]);
    expect(sarif.runs[0].originalUriBaseIds.CONTEXT.uri).toBe(pathToFileURL(`${SERVICE}/`).href);
  });
  it.skipIf(!haveChromium)('writes HTML that Chromium renders with every check and no script', async () => {
    const dom = await domOf(file('html'), out('chromium-compliant'));
    for (const c of report.checks) expect(dom).toContain(`data-check="${c.id}" data-status="${c.status}"`);
    expect(dom).not.toMatch(/<script\b/i);
  }, 120_000);
});

describe('an app that logs U+FFFF, U+202E, C1 controls and escape sequences (fixtures/report/hostile.js)', () => {
  let run: CliRun;
  let report: AuditReport;
  const file = (format: string) => out(`hostile.${format}`);
  beforeAll(async () => {
    run = await runCli([
      REPORT_FIXTURE, '-f', 'hostile.Dockerfile', '--build-arg', `NODE_IMAGE=${inject('nodeImage')}`,
      '--size-budget', '100MB', '--shutdown-budget', '2s', '--only', 'sigterm-shutdown,size-budget,healthcheck',
      '--format', 'sarif', '--output', file('sarif'),
      '--report', `junit=${file('junit')}`, '--report', `html=${file('html')}`, '--report', `json=${file('json')}`,
    ]);
    report = JSON.parse(readFileSync(file('json'), 'utf8')) as AuditReport;
    built.push(report.image.id);
  }, 300_000);

  it('fails sigterm-shutdown with the app\'s own log lines as evidence, and a hint (exit 1)', () => {
    const sigterm = report.checks.find((c) => c.id === 'sigterm-shutdown')!;
    expect(sigterm.status, run.stderr).toBe('fail');
    expect(sigterm.hint).toBeTruthy();
    // The JSON report keeps the app's text as it was (JSON can carry it); the other formats escape it.
    expect(JSON.stringify(sigterm.evidence)).toContain('abc\u202Egnp.exe');
    expect(run.code, run.stderr).toBe(1);
  });
  it('writes JUnit that is well-formed XML 1.0, the hostile characters shown escaped', () => {
    const xml = readFileSync(file('junit'), 'utf8');
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).toMatch(XML_CHAR);
    expect(xml).not.toMatch(RAW_HOSTILE);
    expect(xml).not.toContain('PWNED-TITLE');
    expect(xml).not.toContain('[2J');
    expect(xml).toContain('\\uffff');
    expect(xml).toContain('abc\\u202egnp.exe');
    const failure = junitCases(xml).find((c) => String(c.name).startsWith('sigterm-shutdown'))!.failure as Record<string, string>;
    expect(failure['#text']).toContain('fix: ');
  });
  it('writes SARIF valid against the 2.1.0 schema with the hints, and no hostile character raw', () => {
    const text = readFileSync(file('sarif'), 'utf8');
    const sarif = JSON.parse(text);
    expect(validateSarif(sarif)).toEqual([]);
    const result = sarif.runs[0].results.find((r: { ruleId: string }) => r.ruleId === 'sigterm-shutdown');
    expect(result.properties.hint).toBeTruthy();
    expect(result.message.text).toContain('abc\\u202egnp.exe');
    const strings: string[] = [];
    JSON.parse(text, (_, v) => (typeof v === 'string' && strings.push(v), v));
    for (const s of strings) {
      expect(s).toMatch(XML_CHAR);
      expect(s).not.toMatch(RAW_HOSTILE);
      expect(s).not.toContain('PWNED-TITLE');
    }
  });
  it.skipIf(!haveChromium)('writes HTML that Chromium renders with the characters as visible text, the title unchanged', async () => {
    const dom = await domOf(file('html'), out('chromium-hostile'));
    for (const c of report.checks) expect(dom).toContain(`data-check="${c.id}" data-status="${c.status}"`);
    expect(dom).not.toMatch(/<script\b/i);
    expect(dom).not.toMatch(RAW_HOSTILE);
    expect(dom).not.toContain('PWNED-TITLE');
    expect(dom).toContain('abc\\u202egnp.exe');
    expect(/<title>([^<]*)<\/title>/.exec(dom)?.[1]).toBe(`image-audit ${REPORT_FIXTURE}`);
  }, 120_000);
});

describe('--env-file given to the installed bin (Node reads it too, after the script name)', () => {
  it('keeps the file\'s variables out of image-audit\'s own environment and names the NODE_OPTIONS Node applied', async () => {
    const image = JSON.parse(readFileSync(out('compliant.json'), 'utf8')) as AuditReport;
    const envFile = out('app.env');
    // Were these loaded into our environment, the audit would talk to a closed port instead of the daemon.
    writeFileSync(envFile, 'DOCKER_HOST=tcp://127.0.0.1:9\nNODE_OPTIONS=--max-old-space-size=512\nAPP_PORT=3000\n');
    const run = await runCli([image.image.id, '--only', 'size-budget', '--env-file', envFile, '--format', 'json']);
    expect(run.code, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as AuditReport).checks.map((c) => [c.id, c.status])).toEqual([['size-budget', 'pass']]);
    expect(run.stderr).toContain(`Node also applied the NODE_OPTIONS of ${envFile} to image-audit itself`);
    expect(run.stderr).not.toContain('max-old-space-size');
  });
});
