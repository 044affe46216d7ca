// One audit (or gate), every consumer: the report in each format asked for.
import type { GateReport } from '../gate/types.js';
import type { AuditReport } from '../types.js';
import { renderGateTty } from './gate-tty.js';
import { renderGateHtml, renderHtml } from './html.js';
import { renderJson } from './json.js';
import { gateJunitSuites, renderJunit } from './junit.js';
import { renderGateMarkdown, renderMarkdown } from './markdown.js';
import { renderSarif } from './sarif.js';
import { renderTty } from './tty.js';

export const FORMATS = ['tty', 'json', 'junit', 'sarif', 'html', 'markdown'] as const;
export type Format = (typeof FORMATS)[number];

export type Subject = { kind: 'audit'; report: AuditReport } | { kind: 'gate'; report: GateReport };

export function render(format: Format, subject: Subject, opts: { color: boolean; toolVersion: string }): string {
  if (subject.kind === 'audit') {
    const { report } = subject;
    switch (format) {
      case 'tty':
        return renderTty(report, opts);
      case 'json':
        return renderJson(report);
      case 'junit':
        return renderJunit([{ name: report.target, report }]);
      case 'sarif':
        return renderSarif(report, opts.toolVersion);
      case 'html':
        return renderHtml(report, opts.toolVersion);
      case 'markdown':
        return renderMarkdown(report);
    }
  }
  const gate = subject.report;
  switch (format) {
    case 'tty':
      return renderGateTty(gate, opts);
    case 'json':
      return `${JSON.stringify(gate, null, 2)}\n`;
    case 'junit': {
      const { suites, plain } = gateJunitSuites(gate);
      return renderJunit(suites, plain);
    }
    case 'sarif':
      return renderSarif(gate.candidate, opts.toolVersion);
    case 'html':
      return renderGateHtml(gate, opts.toolVersion);
    case 'markdown':
      return renderGateMarkdown(gate);
  }
}
