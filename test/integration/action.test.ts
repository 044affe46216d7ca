// The GitHub Action's script run locally, with the variables a runner sets: what it writes to the step
// summary and the step outputs, the reports it leaves, and the exit code each `fail-on` gives.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SERVICE_DIR } from '../support/fixtures.js';

const ROOT = path.resolve(__dirname, '../..');
const SCRIPT = path.join(ROOT, 'scripts/action.sh');

interface ActionRun {
  code: number;
  summary: string;
  outputs: Record<string, string>;
  dir: string;
}

async function runAction(inputs: Record<string, string>, dir: string): Promise<ActionRun> {
  const summaryFile = path.join(dir, 'step-summary.md');
  const outputFile = path.join(dir, 'github-output');
  writeFileSync(summaryFile, '');
  writeFileSync(outputFile, '');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_OUTPUT: outputFile,
    GITHUB_ACTION_PATH: ROOT,
    ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase().replace(/-/g, '_')}`, v])),
  };
  const code = await promisify(execFile)('bash', [SCRIPT], { env, cwd: dir, timeout: 240_000 }).then(
    () => 0,
    (err: { code?: number }) => (typeof err.code === 'number' ? err.code : -1),
  );
  const outputs = Object.fromEntries(
    readFileSync(outputFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  return { code, summary: readFileSync(summaryFile, 'utf8'), outputs, dir };
}

describe('the action on the no-healthcheck fixture (fail-on: fail)', () => {
  let run: ActionRun;
  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'action-'));
    run = await runAction(
      {
        target: SERVICE_DIR,
        dockerfile: 'no-healthcheck.Dockerfile',
        'size-budget': '500MB',
        'shutdown-budget': '5s',
        'fail-on': 'fail',
        args: `--only healthcheck,size-budget --build-arg NODE_IMAGE=${inject('nodeImage')}`,
      },
      dir,
    );
  }, 300_000);
  afterAll(() => rmSync(run.dir, { recursive: true, force: true }));

  it('fails the step with the CLI\'s exit code 1 and says so in its outputs', () => {
    expect(run.code).toBe(1);
    expect(run.outputs).toMatchObject({ verdict: 'fail', 'exit-code': '1' });
  });
  it('writes every report and names them in the outputs', () => {
    const out = path.join(run.dir, 'image-audit-report');
    expect(run.outputs).toMatchObject({
      junit: 'image-audit-report/junit.xml',
      sarif: 'image-audit-report/image-audit.sarif',
      html: 'image-audit-report/report.html',
      markdown: 'image-audit-report/summary.md',
      json: 'image-audit-report/report.json',
    });
    expect(readFileSync(path.join(out, 'junit.xml'), 'utf8')).toContain('<failure message="the image declares no HEALTHCHECK');
    const sarif = JSON.parse(readFileSync(path.join(out, 'image-audit.sarif'), 'utf8'));
    expect(sarif.runs[0].results.map((r: { ruleId: string }) => r.ruleId)).toEqual(['healthcheck']);
    expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toMatch(/^<!DOCTYPE html>[\s\S]*data-check="healthcheck" data-status="fail"/);
    expect(JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')).summary).toMatchObject({ fail: 1, pass: 1 });
  });
  it('appends the Markdown summary to the step summary: the table, the failure, its fix and doc link', () => {
    expect(run.summary).toMatch(/^## ❌ image-audit: /);
    expect(run.summary).toContain('| `healthcheck` | ❌ fail | the image declares no HEALTHCHECK');
    expect(run.summary).toContain('| `size-budget` | ✅ pass |');
    expect(run.summary).toContain('**Fix:** Add a HEALTHCHECK that asks the app itself');
    expect(run.summary).toMatch(/\[How to fix healthcheck\]\(https:\/\/unpkg\.com\/node-image-audit@[^/]+\/docs\/checks\/healthcheck\.md\)/);
  });
});

describe('the action with fail-on: never on an image over its size budget', () => {
  let run: ActionRun;
  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'action-'));
    run = await runAction(
      {
        target: SERVICE_DIR,
        dockerfile: 'no-healthcheck.Dockerfile',
        'size-budget': '1MB',
        'fail-on': 'never',
        sarif: path.join(dir, 'custom/audit.sarif'),
        args: `--only size-budget --build-arg NODE_IMAGE=${inject('nodeImage')}`,
      },
      dir,
    );
  }, 300_000);
  afterAll(() => rmSync(run.dir, { recursive: true, force: true }));

  it('passes the step but reports the failure in its outputs and summary', () => {
    expect(run.code).toBe(0);
    expect(run.outputs).toMatchObject({ verdict: 'fail', 'exit-code': '1', sarif: path.join(run.dir, 'custom/audit.sarif') });
    expect(run.summary).toContain('| `size-budget` | ❌ fail |');
    expect(run.summary).toContain('**Fix:**');
  });
});

describe('the action without a target', () => {
  it('stops with a usage error and writes nothing', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'action-'));
    try {
      const run = await runAction({ target: '' }, dir);
      expect(run.code).toBe(2);
      expect(run.outputs).toEqual({});
      expect(run.summary).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
