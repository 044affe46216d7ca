import type { AuditReport } from '../types.js';

/** 0 nothing failed; 1 at least one check failed; 3 a check could not run (errors outrank failures). */
export function exitCodeFor(report: AuditReport): 0 | 1 | 3 {
  if (report.summary.error > 0) return 3;
  if (report.summary.fail > 0) return 1;
  return 0;
}
