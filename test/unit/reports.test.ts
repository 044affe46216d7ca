import { readFileSync } from 'node:fs';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../src/checks/registry.js';
import type { LayerHistory } from '../../src/docker/port.js';
import type { ImageBasics } from '../../src/facts/image-facts.js';
import { stageView } from '../../src/facts/dockerfile.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderSarif } from '../../src/report/sarif.js';
import type { AuditReport } from '../../src/types.js';
import { validateSarif } from '../support/sarif-schema.js';

const SERVICE = path.resolve(__dirname, '../../fixtures/service');

/** Where each check points in a Dockerfile, as the audit asks it: the check's own `locate`, else the stage's FROM. */
function dockerfileLocator(file: string, content: string, buildTarget?: string) {
  const stage = stageView(file, content, buildTarget);
  return (id: string, largestLayer?: LayerHistory) => {
    const check = CHECKS.find((c) => c.id === id)!;
    const basics = { history: largestLayer ? [largestLayer] : [] } as unknown as ImageBasics;
    return check.locate?.(stage, basics) ?? stage.from;
  };
}

describe('each check\'s locate on the stage that became the image (dockerfile-ast)', () => {
  const seed = dockerfileLocator('seed.Dockerfile', readFileSync(path.join(SERVICE, 'seed.Dockerfile'), 'utf8'));
  it('points each check at the responsible instruction of the final stage', () => {
    expect(seed('non-root-user')).toMatchObject({ instruction: 'USER appuser' });
    expect(seed('init-pid1')).toMatchObject({ instruction: 'ENTRYPOINT ["dumb-init", "--"]' });
    expect(seed('healthcheck')?.instruction).toBe('HEALTHCHECK CMD node healthcheck.js');
    expect(seed('no-dev-dependencies')).toMatchObject({ instruction: 'COPY /app/node_modules ./node_modules' });
    expect(seed('sigterm-shutdown')?.instruction).toBe('CMD ["node", "dist/index.js"]');
  });
  it('gives 1-based lines that hold the instruction', () => {
    const lines = readFileSync(path.join(SERVICE, 'seed.Dockerfile'), 'utf8').split('\n');
    expect(lines[seed('non-root-user')!.line - 1]).toBe('USER appuser');
    expect(lines[seed('healthcheck')!.line - 1]).toMatch(/^HEALTHCHECK /);
  });
  it('finds the layer that made the image big, and the FROM when nothing else is responsible', () => {
    const big = dockerfileLocator('over-budget.Dockerfile', readFileSync(path.join(SERVICE, 'over-budget.Dockerfile'), 'utf8'));
    const layer = { createdBy: 'RUN /bin/sh -c head -c 60000000 /dev/urandom > /home/node/app/blob.bin # buildkit', sizeBytes: 6e7, created: '' };
    expect(big('size-budget', layer)?.instruction).toBe('RUN head -c 60000000 /dev/urandom > /home/node/app/blob.bin');
    const noHealth = dockerfileLocator('x', 'FROM a AS build\nRUN make\nFROM b\nCMD ["node","x.js"]\n');
    expect(noHealth('healthcheck')).toMatchObject({ line: 3, instruction: 'FROM b' });
    const targeted = dockerfileLocator('x', 'FROM a AS build\nUSER builder\nFROM b\nUSER app\n', 'build');
    expect(targeted('non-root-user')?.instruction).toBe('USER builder');
  });
  it('lists what every stage COPYs or ADDs from the context (layer-cache reads it; no second parse)', () => {
    const view = stageView('x', 'FROM a AS build\nCOPY package.json package-lock.json ./\nADD --chown=1:1 src ./src\nFROM b\nCOPY server.js .\n');
    expect(view.copiedSources).toEqual(['package.json', 'package-lock.json', 'src', 'server.js']);
  });
  it('leaves out COPY --from sources (another stage) and reads the JSON form and quoted paths', () => {
    const view = stageView('x', 'FROM a AS build\nCOPY "package.json" ./\nFROM b\nCOPY --from=build /app/dist ./dist\nCOPY --chown=node:node ["server.js", "lib dir/", "./"]\nADD --chmod=644 x.txt /x\n');
    expect(view.copiedSources).toEqual(['package.json', 'server.js', 'lib dir/', 'x.txt']);
  });
});

const report: AuditReport = {
  target: 'fixtures/service',
  source: { contextDir: SERVICE, dockerfile: 'seed.Dockerfile' },
  image: { id: 'sha256:abc', tags: ['x:1'], sizeBytes: 219e6 },
  checks: [
    { id: 'non-root-user', title: 'Runs as a non-root user', status: 'pass', message: 'uid 1001', evidence: {}, durationMs: 900 },
    { id: 'healthcheck', title: 'Declares a HEALTHCHECK', status: 'fail', message: 'turned unhealthy; probe said: "<Error> & \u0007bell"', evidence: { configured: { test: ['CMD-SHELL', 'node healthcheck.js'] } }, durationMs: 4000, location: { file: 'seed.Dockerfile', line: 41, instruction: 'HEALTHCHECK CMD node healthcheck.js' } },
    { id: 'size-budget', title: 'Fits', status: 'waived', message: 'waived ("IA-1"): too big', evidence: {}, durationMs: 1, waiver: { check: 'size-budget', reason: 'IA-1', expired: false } },
    { id: 'init-pid1', title: 'Init', status: 'error', message: 'could not observe PID 1', evidence: {}, durationMs: 1 },
    { id: 'no-dev-dependencies', title: 'No dev', status: 'skip', message: 'nothing to compare', evidence: {}, durationMs: 1 },
  ],
  summary: { pass: 1, fail: 1, warn: 0, skip: 1, error: 1, waived: 1 },
  durationMs: 5000,
};

describe('renderSarif', () => {
  const sarif = JSON.parse(renderSarif(report, '0.1.0'));
  it('is valid SARIF 2.1.0 by the schema', () => {
    expect(validateSarif(sarif)).toEqual([]);
  });
  it('has one rule per check id with help text', () => {
    const rules = sarif.runs[0].tool.driver.rules as Array<{ id: string; help: { text: string } }>;
    expect(rules.map((r) => r.id)).toEqual(CHECKS.map((c) => c.id));
    expect(rules.map((r) => r.id)).toEqual(expect.arrayContaining(['non-root-user', 'init-pid1', 'sigterm-shutdown', 'healthcheck', 'no-dev-dependencies', 'size-budget']));
    for (const rule of rules) expect(rule.help.text.length).toBeGreaterThan(20);
  });
  it('locates results at the Dockerfile line and suppresses waived ones', () => {
    const results = sarif.runs[0].results as Array<{ ruleId: string; level: string; locations: any[]; suppressions?: unknown[] }>;
    expect(results.map((r) => [r.ruleId, r.level])).toEqual([['healthcheck', 'error'], ['size-budget', 'note'], ['init-pid1', 'error']]);
    expect(results[0].locations[0].physicalLocation).toMatchObject({ artifactLocation: { uri: 'seed.Dockerfile', uriBaseId: 'CONTEXT' }, region: { startLine: 41 } });
    expect(results[1].suppressions).toEqual([{ kind: 'external', justification: 'IA-1' }]);
  });
});

describe('renderJunit', () => {
  const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(renderJunit([{ name: 'fixtures/service', report }]));
  const suite = xml.testsuites.testsuite;
  it('has one testsuite for the target and one testcase per check with counts', () => {
    expect(suite).toMatchObject({ name: 'fixtures/service', tests: '5', failures: '1', errors: '1', skipped: '1' });
    expect(suite.testcase.map((c: { name: string }) => c.name)).toEqual([
      'non-root-user: Runs as a non-root user',
      'healthcheck: Declares a HEALTHCHECK',
      'size-budget: Fits',
      'init-pid1: Init',
      'no-dev-dependencies: No dev',
    ]);
  });
  it('carries message and evidence in failures, escaped, control characters shown as escapes', () => {
    const failure = suite.testcase[1].failure;
    expect(failure.message).toBe('turned unhealthy; probe said: "<Error> & \\u0007bell"');
    expect(failure['#text']).toContain('at seed.Dockerfile:41: HEALTHCHECK CMD node healthcheck.js');
    expect(suite.testcase[3].error.message).toBe('could not observe PID 1');
    expect(suite.testcase[4].skipped.message).toBe('nothing to compare');
  });
});
