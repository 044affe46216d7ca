// What the audited app prints reaches JUnit and SARIF: both must stay legal (XML 1.0, SARIF 2.1.0) and
// show nothing that reorders, hides or re-styles text, whatever bytes the app wrote.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { docPath } from '../../src/checks/check.js';
import { renderJunit } from '../../src/report/junit.js';
import { sanitizeForTerminal, sanitizeMultiline } from '../../src/report/sanitize.js';
import { renderSarif } from '../../src/report/sarif.js';
import type { AuditReport } from '../../src/types.js';
import { validateSarif } from '../support/sarif-schema.js';

/** Everything an app log can hold that XML 1.0 forbids or that must not reach a reader raw. */
const HOSTILE = [
  'nonchars \uffff \ufffe end',
  'lone \ud800 high, lone \udfff low, pair 😀 kept',
  'bidi abc\u202Egnp.exe \u2066iso\u2069 \u061c mark',
  'c1 \x85 next-line \x9b2J csi8 \x9d0;T8\x07 osc8',
  'osc \x1b]0;TITLE\x07 gone, csi \x1b[2J gone, st \x1b]8;;http://evil\x1b\\link',
  'c0 \x00\x01\x08\x0b\x0c\x1f\x7f bell\x07',
  'tags \u{E0041}\u{E0042} hidden',
].join('\n');

/** The code points XML 1.0 allows (the Char production). */
const XML_CHAR = /^[\t\n\r\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u;

describe('sanitizeForTerminal and sanitizeMultiline', () => {
  it('shows XML-illegal code points visibly: U+FFFF, U+FFFE, lone surrogates', () => {
    expect(sanitizeForTerminal('a\uffffb\ufffec', 100)).toBe('a\\uffffb\\ufffec');
    expect(sanitizeForTerminal('x\ud800y\udfffz', 100)).toBe('x\\ud800y\\udfffz');
    expect(sanitizeForTerminal('ok 😀', 100)).toBe('ok 😀');
  });
  it('shows C1 controls, bidi and invisible tag characters visibly', () => {
    expect(sanitizeForTerminal('a\x85b', 100)).toBe('a\\u0085b');
    expect(sanitizeForTerminal('\u2066x\u2069\u061c', 100)).toBe('\\u2066x\\u2069\\u061c');
    expect(sanitizeForTerminal('t\u{E0041}', 100)).toBe('t\\u{e0041}');
  });
  it('removes 8-bit OSC/DCS strings with their bodies, as the 7-bit ones', () => {
    expect(sanitizeForTerminal('a\x9d0;TITLE\x07b', 100)).toBe('ab');
    expect(sanitizeForTerminal('a\x900;q\x9cb', 100)).toBe('ab');
  });
  it('multi-line: keeps line breaks and tabs, removes escape sequences with their bodies', () => {
    expect(sanitizeMultiline('one\r\ntwo\n\tthree')).toBe('one\ntwo\n\tthree');
    expect(sanitizeMultiline('a\x1b]0;TITLE\x07b\x1b[2Jc')).toBe('abc');
    expect(sanitizeMultiline('bare\rreturn')).toBe('bare\\rreturn');
    const clean = sanitizeMultiline(HOSTILE);
    expect(clean).toMatch(XML_CHAR);
    expect(clean).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufffe\uffff]/);
    expect(clean).not.toContain('TITLE');
    expect(clean).not.toContain('[2J');
    expect(clean).toContain('\\u202egnp.exe');
    expect(clean).toContain('pair 😀 kept');
  });
});

const report: AuditReport = {
  target: '/home/dev/my app',
  source: { contextDir: '/home/dev/my app', dockerfile: 'deploy dir/Dockerfile' },
  image: { id: 'sha256:abc', tags: [], sizeBytes: 1e8 },
  checks: [
    {
      id: 'sigterm-shutdown',
      title: 'Stops on SIGTERM',
      status: 'fail',
      message: `still running; the app said: ${HOSTILE}`,
      evidence: { lastLogLines: HOSTILE.split('\n') },
      durationMs: 5000,
      hint: 'handle SIGTERM \u202Eevil',
      doc: docPath('sigterm-shutdown'),
      location: { file: 'deploy dir/Dockerfile', line: 7, instruction: 'CMD ["node", "server.js"]' },
    },
    {
      id: 'healthcheck',
      title: 'Healthy',
      status: 'error',
      message: `probe said ${HOSTILE}`,
      evidence: { lastLogLines: HOSTILE.split('\n') },
      durationMs: 1,
    },
    { id: 'size-budget', title: 'Fits', status: 'warn', message: 'close', evidence: {}, durationMs: 1, hint: 'slim the base image' },
  ],
  summary: { pass: 0, fail: 1, warn: 1, skip: 0, error: 1, waived: 0 },
  durationMs: 5000,
};

describe('JUnit of an app that logs XML-illegal and deceptive characters', () => {
  const xml = renderJunit([{ name: `suite ${HOSTILE}`, report }]);
  it('is well-formed XML 1.0 (a real parser)', () => {
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).toMatch(XML_CHAR);
  });
  it('carries no raw bidi control, C1 control or escape-sequence body', () => {
    expect(xml).not.toMatch(/[\x7f-\x9f\u202a-\u202e\u2066-\u2069\u061c]/);
    expect(xml).not.toContain('TITLE');
    expect(xml).not.toContain('[2J');
    expect(xml).toContain('\\u202egnp.exe');
    expect(xml).toContain('\\uffff');
  });
  it('keeps the evidence lines as lines and the message in the attribute', () => {
    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml);
    const failure = parsed.testsuites.testsuite.testcase[0].failure;
    expect(failure.message).toContain('still running; the app said: nonchars \\uffff');
    expect(failure['#text']).toContain('fix: handle SIGTERM \\u202eevil');
  });
});

describe('SARIF of the same report', () => {
  const text = renderSarif(report, '0.1.0');
  const sarif = JSON.parse(text);
  const run = sarif.runs[0];
  it('is valid SARIF 2.1.0 with hints (no fix without artifactChanges)', () => {
    expect(validateSarif(sarif)).toEqual([]);
    for (const result of run.results) for (const fix of result.fixes ?? []) expect(fix.artifactChanges?.length).toBeGreaterThan(0);
  });
  it('keeps each hint, in the message and the result properties', () => {
    const [failed, , warned] = run.results;
    expect(failed.message.text).toContain('fix: handle SIGTERM \\u202eevil');
    expect(failed.properties.hint).toBe('handle SIGTERM \\u202eevil');
    expect(warned.properties.hint).toBe('slim the base image');
  });
  it('percent-encodes URIs: the context folder and the Dockerfile path', () => {
    expect(run.originalUriBaseIds.CONTEXT.uri).toBe('file:///home/dev/my%20app/');
    expect(run.results[0].locations[0].physicalLocation.artifactLocation.uri).toBe('deploy%20dir/Dockerfile');
    expect(new URL(run.results[0].locations[0].physicalLocation.artifactLocation.uri, run.originalUriBaseIds.CONTEXT.uri).href).toBe('file:///home/dev/my%20app/deploy%20dir/Dockerfile');
  });
  it('carries no raw bidi control, C1 control, lone surrogate or escape-sequence body', () => {
    const strings: string[] = [];
    JSON.parse(text, (_, v) => (typeof v === 'string' && strings.push(v), v));
    for (const s of strings) {
      expect(s).toMatch(XML_CHAR);
      expect(s).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u061c]/);
      expect(s).not.toContain('TITLE');
    }
  });
});
