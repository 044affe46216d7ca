// JUnit XML, as CI test-report viewers read it: one <testsuite> per audited target, one <testcase>
// per check. fail → <failure>, error → <error>, skip → <skipped>; warn and waived pass with a note.
import type { AuditReport, CheckResult } from '../types.js';
import { sanitizeMultiline } from './sanitize.js';
import { docLink, evidenceLines } from './tty.js';

/** What XML 1.0 allows (its Char production); anything else left after sanitizing becomes U+FFFD. */
const NOT_XML_CHAR = /[^\t\n\r\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

/**
 * Text content: app output made safe (escape sequences removed with their bodies; controls, bidi and
 * XML-illegal characters shown as \uXXXX), then the markup characters escaped.
 */
const escape = (text: string) =>
  sanitizeMultiline(text)
    .replace(NOT_XML_CHAR, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');

/** An attribute value: as text, and its line breaks and tabs as references (a parser would turn them into spaces). */
const attr = (text: string) => escape(text).replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');

function detail(result: CheckResult): string {
  const lines = evidenceLines(result);
  if (result.location) lines.push(`at ${result.location.file}:${result.location.line}: ${result.location.instruction}`);
  if (result.hint) lines.push(`fix: ${result.hint}`);
  if (result.doc) lines.push(`see: ${docLink(result.doc)}`);
  return lines.join('\n');
}

function testcase(suite: string, result: CheckResult): string {
  const open = `    <testcase classname="${attr(suite)}" name="${attr(`${result.id}: ${result.title}`)}" time="${(result.durationMs / 1000).toFixed(3)}"`;
  const body = escape(detail(result));
  switch (result.status) {
    case 'fail':
      return `${open}>\n      <failure message="${attr(result.message)}" type="${attr(result.id)}">${body}</failure>\n    </testcase>`;
    case 'error':
      return `${open}>\n      <error message="${attr(result.message)}" type="${attr(result.id)}">${body}</error>\n    </testcase>`;
    case 'skip':
      return `${open}>\n      <skipped message="${attr(result.message)}"/>\n    </testcase>`;
    default:
      return `${open}>\n      <system-out>${escape(`${result.status}: ${result.message}`)}</system-out>\n    </testcase>`;
  }
}

export interface JunitSuite {
  /** Suite name, e.g. the target, or "candidate node-image-audit/api:1.1.0". */
  name: string;
  report: AuditReport;
}

/** A suite of plain cases, e.g. the gate's regression checks. */
export interface JunitPlainSuite {
  name: string;
  cases: Array<{ name: string; failure?: string }>;
}

export function renderJunit(suites: JunitSuite[], plain: JunitPlainSuite[] = []): string {
  const count = (status: string) => suites.reduce((n, s) => n + s.report.checks.filter((c) => c.status === status).length, 0);
  const plainFailures = plain.reduce((n, s) => n + s.cases.filter((c) => c.failure).length, 0);
  const tests = suites.reduce((n, s) => n + s.report.checks.length, 0) + plain.reduce((n, s) => n + s.cases.length, 0);
  const time = suites.reduce((t, s) => t + s.report.durationMs, 0) / 1000;
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="image-audit" tests="${tests}" failures="${count('fail') + plainFailures}" errors="${count('error')}" skipped="${count('skip')}" time="${time.toFixed(3)}">`,
  ];
  for (const { name, report } of suites) {
    const c = (status: string) => report.checks.filter((r) => r.status === status).length;
    out.push(
      `  <testsuite name="${attr(name)}" tests="${report.checks.length}" failures="${c('fail')}" errors="${c('error')}" skipped="${c('skip')}" time="${(report.durationMs / 1000).toFixed(3)}">`,
      `    <properties>`,
      `      <property name="image.id" value="${attr(report.image.id)}"/>`,
      `      <property name="image.sizeBytes" value="${report.image.sizeBytes}"/>`,
      `    </properties>`,
      ...report.checks.map((r) => testcase(name, r)),
      '  </testsuite>',
    );
  }
  for (const suite of plain) {
    out.push(`  <testsuite name="${attr(suite.name)}" tests="${suite.cases.length}" failures="${suite.cases.filter((c) => c.failure).length}" errors="0" skipped="0">`);
    for (const c of suite.cases) {
      const open = `    <testcase classname="${attr(suite.name)}" name="${attr(c.name)}"`;
      out.push(c.failure ? `${open}>\n      <failure message="${attr(c.failure)}"/>\n    </testcase>` : `${open}/>`);
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}
