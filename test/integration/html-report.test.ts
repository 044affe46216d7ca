// The HTML report in a real browser: Debian's headless Chromium (scripts/ensure-chromium.sh) loads the
// report of a failing fixture whose log carries markup; the DOM it dumps must hold every check, the
// timeline and the layer chart, and nothing the app printed may have become an element or run.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { audit } from '../../src/audit.js';
import { DockerodePort } from '../../src/docker/dockerode-port.js';
import { render } from '../../src/report/render.js';
import type { AuditReport } from '../../src/types.js';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const FIXTURE = path.join(ROOT, 'fixtures/report');
const ARTIFACTS = path.join(ROOT, '.ci-artifacts/html-report');
const CHROMIUM = 'chromium';

async function chromium(args: string[], profile: string): Promise<string> {
  const { stdout } = await run(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${profile}`, ...args], {
    timeout: 90_000,
    maxBuffer: 32 * 1024 * 1024,
  });
  return stdout;
}

const haveChromium = await run('chromium', ['--version'], { timeout: 30_000 }).then(() => true, () => false);

describe.skipIf(!haveChromium)('the HTML report of a failing fixture in headless Chromium', () => {
  let report: AuditReport;
  let dom: string;
  let work: string;
  const screenshot = path.join(ARTIFACTS, 'report.png');
  beforeAll(async () => {
    report = await audit(
      { kind: 'context', dir: FIXTURE, buildArgs: { NODE_IMAGE: inject('nodeImage') } },
      { sizeBudget: '100MB', shutdownBudget: '2s' },
    );
    mkdirSync(ARTIFACTS, { recursive: true });
    work = mkdtempSync(path.join(tmpdir(), 'html-report-'));
    const file = path.join(ARTIFACTS, 'report.html');
    writeFileSync(file, render('html', { kind: 'audit', report }, { color: false, toolVersion: 'test' }));
    // One browser at a time: two on 2 shared cores would slow each other past the bound.
    dom = await chromium(['--dump-dom', pathToFileURL(file).href], path.join(work, 'dom'));
    await chromium([`--screenshot=${screenshot}`, '--window-size=1280,2000', '--hide-scrollbars', pathToFileURL(file).href], path.join(work, 'shot'));
  }, 300_000);
  afterAll(async () => {
    if (work) rmSync(work, { recursive: true, force: true });
    if (report) await new DockerodePort().removeImage(report.image.id).catch(() => undefined);
  });

  it('audits the fixture as failing, with the injected log lines in the evidence', () => {
    expect(report.checks.find((c) => c.id === 'sigterm-shutdown')).toMatchObject({ status: 'fail', message: expect.stringMatching(/^still running 2.0 s after SIGTERM/) });
    expect(report.checks.find((c) => c.id === 'size-budget')?.status).toBe('fail');
    expect(JSON.stringify(report)).toContain("<script>document.title='pwned'</script>");
  });
  it('shows every check with its status, and the hint and doc link of the failing ones', () => {
    for (const c of report.checks) {
      expect(dom).toContain(`data-check="${c.id}" data-status="${c.status}"`);
      if (c.hint) expect(dom).toContain('<b>Fix:</b>');
    }
    expect(dom).toContain('href="https://unpkg.com/node-image-audit@');
    expect(dom).toContain('/docs/checks/sigterm-shutdown.md"');
  });
  it('draws the lifecycle timeline with the signal and the shutdown budget, and the layer chart with the budget line', () => {
    expect(dom).toMatch(/<svg class="timeline"/);
    expect(dom).toContain('data-event="signal"');
    expect(dom).toMatch(/data-event="health:(healthy|unhealthy)"/);
    expect(dom).toMatch(/<rect class="budget"/);
    expect(dom).toMatch(/<svg class="layers"/);
    expect(dom).toMatch(/<line class="budget"/);
  });
  it('renders the app\'s markup as text: no injected element, the title unchanged, the escape code not raw', () => {
    expect(dom).toContain('&lt;script&gt;document.title=\'pwned\'&lt;/script&gt;');
    expect(dom).not.toMatch(/<script\b/i);
    expect(dom).not.toMatch(/<img\b/i);
    expect(dom).not.toMatch(/<body[^>]*data-pwned/);
    expect(/<title>([^<]*)<\/title>/.exec(dom)?.[1]).toBe(`image-audit ${FIXTURE}`);
    expect(dom).not.toContain('\u001b');
  });
  it('takes a screenshot, kept under .ci-artifacts/', () => {
    expect(statSync(screenshot).size).toBeGreaterThan(20_000);
  });
});
