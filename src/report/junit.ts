// JUnit XML, as CI test-report viewers read it: one <testsuite> per audited target, one <testcase>
// per check. fail → <failure>, error → <error>, skip → <skipped>; warn and waived pass with a note.
import type { GateReport } from '../gate/types.js';
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

/** A suite of plain cases, e.g. the gate's regression checks, or a fleet target that could not be audited. */
export interface JunitPlainSuite {
  name: string;
  /** `failure`: the case found a problem; `error`: it could not be carried out (why), as a check that could not run. */
  cases: Array<{ name: string; failure?: string; error?: string; detail?: string[] }>;
}

function plainCase(suite: string, c: JunitPlainSuite['cases'][number]): string {
  const open = `    <testcase classname="${attr(suite)}" name="${attr(c.name)}"`;
  const body = c.detail?.length ? escape(c.detail.join('\n')) : '';
  if (c.error !== undefined) return `${open}>\n      <error message="${attr(c.error)}" type="could-not-audit">${body}</error>\n    </testcase>`;
  if (c.failure !== undefined) return `${open}>\n      <failure message="${attr(c.failure)}"/>\n    </testcase>`;
  return `${open}/>`;
}

const REGRESSION_CASES = [
  ['size', 'image size growth'],
  ['check', 'no check regressed'],
  ['shutdown', 'shutdown time growth'],
  ['healthy', 'time-to-healthy growth'],
] as const;

/** A gate's suites: the candidate's audit, the baseline's, and a case per kind of regression; `prefix` names the target in a fleet. */
export function gateJunitSuites(gate: GateReport, prefix = ''): { suites: JunitSuite[]; plain: JunitPlainSuite[] } {
  const suites: JunitSuite[] = [{ name: `${prefix}candidate ${gate.candidate.target}`, report: gate.candidate }];
  if (gate.baseline) suites.push({ name: `${prefix}baseline ${gate.baseline.ref}`, report: gate.baseline.report });
  const plain = gate.baseline
    ? [{
        name: `${prefix}regressions against ${gate.baseline.ref}`,
        cases: REGRESSION_CASES.map(([kind, name]) => ({ name, failure: gate.regressions.filter((r) => r.kind === kind).map((r) => r.message).join('; ') || undefined })),
      }]
    : [];
  return { suites, plain };
}

export function renderJunit(suites: JunitSuite[], plain: JunitPlainSuite[] = []): string {
  const count = (status: string) => suites.reduce((n, s) => n + s.report.checks.filter((c) => c.status === status).length, 0);
  const plainFailures = plain.reduce((n, s) => n + s.cases.filter((c) => c.failure !== undefined && c.error === undefined).length, 0);
  const plainErrors = plain.reduce((n, s) => n + s.cases.filter((c) => c.error !== undefined).length, 0);
  const tests = suites.reduce((n, s) => n + s.report.checks.length, 0) + plain.reduce((n, s) => n + s.cases.length, 0);
  const time = suites.reduce((t, s) => t + s.report.durationMs, 0) / 1000;
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="image-audit" tests="${tests}" failures="${count('fail') + plainFailures}" errors="${count('error') + plainErrors}" skipped="${count('skip')}" time="${time.toFixed(3)}">`,
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
    const failures = suite.cases.filter((c) => c.failure !== undefined && c.error === undefined).length;
    const errors = suite.cases.filter((c) => c.error !== undefined).length;
    out.push(`  <testsuite name="${attr(suite.name)}" tests="${suite.cases.length}" failures="${failures}" errors="${errors}" skipped="0">`);
    for (const c of suite.cases) out.push(plainCase(suite.name, c));
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}
