import type { AuditReport } from '../types.js';

/** One JSON document: the AuditReport as it is (the public shape). */
export function renderJson(report: AuditReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
