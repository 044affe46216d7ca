import { existsSync, readFileSync } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { docPath, tellingLine } from '../../src/checks/check.js';
import { CHECKS } from '../../src/checks/registry.js';
import { renderJson } from '../../src/report/json.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderSarif } from '../../src/report/sarif.js';
import { docLink, renderTty } from '../../src/report/tty.js';
import type { AuditReport } from '../../src/types.js';

const pkg = (await import('../../package.json', { with: { type: 'json' } })).default as { version: string };

// What `node /app/missing-entry.js` prints on Node 20 (captured from node v20.20.2): the error line
// comes after the internal frame and the caret, then the stack, then "Node.js v20.x" last.
const MISSING_MODULE_CRASH = `node:internal/modules/cjs/loader:1210
  throw err;
  ^

Error: Cannot find module '/app/missing-entry.js'
    at Module._resolveFilename (node:internal/modules/cjs/loader:1207:15)
    at Module._load (node:internal/modules/cjs/loader:1038:27)
    at Function.executeUserEntryPoint [as runMain] (node:internal/modules/run_main:164:12)
    at node:internal/main/run_main_module:28:49 {
  code: 'MODULE_NOT_FOUND',
  requireStack: []
}

Node.js v20.20.2`;

// What an app that throws at start prints (node -e 'throw new TypeError("config.port must be a number")').
const THROWN_AT_START = `[eval]:1
throw new TypeError("config.port must be a number")
^

TypeError: config.port must be a number
    at [eval]:1:7
    at runScriptInThisContext (node:internal/vm:209:10)
    at node:internal/process/execution:118:14

Node.js v20.20.2`;

describe('tellingLine quotes the error of a crash, not the last line', () => {
  it('quotes "Cannot find module" from a real Node 20 crash, not "Node.js v20.x"', () => {
    expect(tellingLine(MISSING_MODULE_CRASH.split('\n'))).toBe("Error: Cannot find module '/app/missing-entry.js'");
  });
  it('quotes the thrown error, not the source line above the caret', () => {
    expect(tellingLine(THROWN_AT_START.split('\n'))).toBe('TypeError: config.port must be a number');
  });
  it('falls back to the last line that is not the version, a frame or a caret', () => {
    expect(tellingLine(['listening on 3000', 'shutting down', '', 'Node.js v20.20.2'])).toBe('shutting down');
  });
});

const failing: AuditReport = {
  target: 'fixtures/service',
  image: { id: 'sha256:0123456789abcdef', tags: [], sizeBytes: 2e8 },
  checks: CHECKS.map((c) => ({
    id: c.id,
    title: c.title,
    status: 'fail' as const,
    message: `${c.id} failed`,
    evidence: {},
    durationMs: 1,
    hint: `hint for ${c.id}: change the Dockerfile`,
    doc: docPath(c.id),
  })),
  summary: { pass: 0, fail: CHECKS.length, warn: 0, skip: 0, error: 0, waived: 0 },
  durationMs: 10,
};

describe('every report carries the hint and the doc link of a failing check', () => {
  it('tty prints fix: and see: with the installed package path', () => {
    const tty = renderTty(failing, { color: false });
    for (const c of CHECKS) {
      expect(tty).toContain(`fix: hint for ${c.id}: change the Dockerfile`);
      expect(tty).toContain(`see: node_modules/node-image-audit/docs/checks/${c.id}.md`);
    }
  });
  it('json keeps hint and doc as fields', () => {
    const json = JSON.parse(renderJson(failing)) as AuditReport;
    expect(json.checks.map((c) => [c.hint, c.doc])).toEqual(CHECKS.map((c) => [`hint for ${c.id}: change the Dockerfile`, `docs/checks/${c.id}.md`]));
  });
  it('junit puts fix and see lines in the failure text', () => {
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(renderJunit([{ name: 't', report: failing }]));
    const cases = [xml.testsuites.testsuite.testcase].flat() as Array<{ failure: { '#text': string } }>;
    cases.forEach((tc, i) => {
      expect(tc.failure['#text']).toContain(`fix: hint for ${CHECKS[i].id}`);
      expect(tc.failure['#text']).toContain(`see: node_modules/node-image-audit/docs/checks/${CHECKS[i].id}.md`);
    });
  });
  it('sarif has help, the hint (message and properties; a SARIF fix needs artifactChanges), and helpUri pointing at this version of the same page', () => {
    const sarif = JSON.parse(renderSarif(failing, pkg.version));
    const run = sarif.runs[0];
    for (const rule of run.tool.driver.rules as Array<{ id: string; helpUri: string; help: { text: string } }>) {
      expect(rule.helpUri).toBe(`https://unpkg.com/node-image-audit@${pkg.version}/docs/checks/${rule.id}.md`);
      expect(rule.helpUri).toBe(docLink(docPath(rule.id), 'uri'));
    }
    for (const result of run.results as Array<{ ruleId: string; fixes?: unknown[]; message: { text: string }; properties: { hint: string } }>) {
      expect(result.properties.hint).toBe(`hint for ${result.ruleId}: change the Dockerfile`);
      expect(result.message.text).toContain(`fix: hint for ${result.ruleId}: change the Dockerfile`);
      expect(result.fixes).toBeUndefined();
    }
  });
  it('the tty path and the SARIF URI name the same file of the package', () => {
    const doc = docPath('healthcheck');
    expect(docLink(doc).replace(/^node_modules\/node-image-audit\//, '')).toBe(docLink(doc, 'uri').replace(/^https:\/\/unpkg\.com\/node-image-audit@[^/]+\//, ''));
  });
});

describe('the six checks own a help text and a doc page', () => {
  const pageOf = (id: string) => new URL(`../../${docPath(id)}`, import.meta.url);
  it.each(['non-root-user', 'init-pid1', 'sigterm-shutdown', 'healthcheck', 'no-dev-dependencies', 'size-budget'])('%s has a help text and a doc page', (id) => {
    expect(CHECKS.find((c) => c.id === id)!.help.length).toBeGreaterThan(30);
    expect(existsSync(pageOf(id))).toBe(true);
  });
  it.each(['non-root-user', 'init-pid1', 'sigterm-shutdown', 'healthcheck', 'size-budget'])('the %s page says what is observed, passes, fails, the fix before and after, and the limits', (id) => {
    const text = readFileSync(pageOf(id), 'utf8');
    for (const heading of ['What is observed', 'Passes', 'Fail', 'Fix', 'Known limits']) expect(text).toMatch(new RegExp(`^## ${heading}`, 'm'));
    expect(text.match(/```dockerfile\n/g)?.length).toBeGreaterThanOrEqual(2);
  });
});

describe('tellingLine on the crash shapes Node prints', () => {
  it('skips the throwing source line above the caret and quotes the Error line', async () => {
    const { tellingLine } = await import('../../src/checks/check.js');
    const output = [
      '/app/server.js:3',
      '  throw new Error("DATABASE_URL is not set");',
      '  ^',
      '',
      'Error: DATABASE_URL is not set',
      '    at Object.<anonymous> (/app/server.js:3:9)',
      '',
      'Node.js v20.20.2',
    ];
    expect(tellingLine(output)).toBe('Error: DATABASE_URL is not set');
  });
  it('quotes an unhandled rejection, not the closing brace', async () => {
    const { tellingLine } = await import('../../src/checks/check.js');
    const output = [
      'node:internal/process/promises:289',
      '            triggerUncaughtException(err, true /* fromPromise */);',
      '            ^',
      '',
      '[UnhandledPromiseRejection: This error originated either by throwing inside of an async function without a catch block, or by rejecting a promise which was not handled with .catch(). The promise rejected with the reason "boom".] {',
      "  code: 'ERR_UNHANDLED_REJECTION'",
      '}',
      '',
      'Node.js v20.20.2',
    ];
    expect(tellingLine(output)).toMatch(/^\[UnhandledPromiseRejection: .*"boom"/);
  });
});
