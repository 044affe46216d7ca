// Matchers on an AuditReport, for expect.extend. Each reports what was observed, so a failure reads
// "healthcheck failed: turned unhealthy 4.5 s after start; probe said: ..." rather than
// "expected false to be true". `pass` is always the real answer; vitest inverts it for `.not`.
import { cleanExitCodes } from '../checks/sigterm-shutdown.js';
import { evidenceLines } from '../report/tty.js';
import type { AuditReport, CheckId, CheckResult } from '../types.js';
import { formatBytes, formatMs, parseDuration, parseSize } from '../units.js';

interface MatcherResult {
  pass: boolean;
  message: () => string;
}

interface MatcherContext {
  isNot: boolean;
}

// A waived failure is accepted, on purpose, by the team's config: it does not fail a test either.
const PASSING = new Set(['pass', 'warn', 'waived']);

function describeResult(result: CheckResult): string {
  const lines = evidenceLines(result).map((l) => `    ${l}`);
  return [`${result.id} ${result.status}: ${result.message}`, ...lines].join('\n');
}

function findCheck(report: AuditReport, id: CheckId): CheckResult | undefined {
  return report.checks.find((c) => c.id === id);
}

function assertReport(received: unknown): AuditReport {
  const report = received as AuditReport;
  if (!report || !Array.isArray(report.checks) || !report.summary) {
    throw new TypeError('expected an AuditReport (the value audit() resolves with)');
  }
  return report;
}

function checkPasses(this: MatcherContext, received: unknown, id: CheckId, what: string): MatcherResult {
  const report = assertReport(received);
  const result = findCheck(report, id);
  if (!result) {
    return { pass: false, message: () => `the report has no ${id} check (it ran: ${report.checks.map((c) => c.id).join(', ') || 'none'})` };
  }
  const pass = PASSING.has(result.status);
  return {
    pass,
    message: () => (this.isNot ? `expected ${report.target} not to ${what}, but ` : `expected ${report.target} to ${what}, but `) + describeResult(result),
  };
}

export const imageAuditMatchers = {
  toPassCheck(this: MatcherContext, received: unknown, id: CheckId) {
    return checkPasses.call(this, received, id, `pass ${id}`);
  },
  toRunAsNonRoot(this: MatcherContext, received: unknown) {
    return checkPasses.call(this, received, 'non-root-user', 'run as a non-root user');
  },
  toHaveInitAsPid1(this: MatcherContext, received: unknown) {
    return checkPasses.call(this, received, 'init-pid1', 'have an init as PID 1');
  },
  toBecomeHealthy(this: MatcherContext, received: unknown) {
    return checkPasses.call(this, received, 'healthcheck', 'become healthy');
  },
  toHaveNoDevDependencies(this: MatcherContext, received: unknown) {
    return checkPasses.call(this, received, 'no-dev-dependencies', 'have no devDependencies installed');
  },

  /** Exited by itself, cleanly, within `budget` of the stop signal (the observed time, whatever --shutdown-budget was). */
  toShutDownWithin(this: MatcherContext, received: unknown, budget: number | string) {
    const report = assertReport(received);
    const budgetMs = parseDuration(budget);
    if (budgetMs === undefined) throw new TypeError(`toShutDownWithin: unreadable duration ${String(budget)}`);
    const result = findCheck(report, 'sigterm-shutdown');
    const e = (result?.evidence ?? {}) as { exitedAfterMs?: number; killedAtBudget?: boolean; exitCode?: number; signal?: string };
    const clean = e.exitCode !== undefined && e.signal !== undefined && cleanExitCodes(e.signal).includes(e.exitCode);
    const pass = e.exitedAfterMs !== undefined && !e.killedAtBudget && clean && e.exitedAfterMs <= budgetMs;
    const observed = !result
      ? `the report has no sigterm-shutdown check`
      : e.exitedAfterMs !== undefined
        ? `it exited ${formatMs(e.exitedAfterMs)} after ${e.signal} with code ${e.exitCode}`
        : describeResult(result);
    return {
      pass,
      message: () => `expected ${report.target} ${this.isNot ? 'not ' : ''}to shut down within ${formatMs(budgetMs)}; ${observed}`,
    };
  },

  toFitSizeBudget(this: MatcherContext, received: unknown, budget: number | string) {
    const report = assertReport(received);
    const budgetBytes = parseSize(budget);
    if (budgetBytes === undefined) throw new TypeError(`toFitSizeBudget: unreadable size ${String(budget)}`);
    const size = report.image.sizeBytes;
    const layers = (findCheck(report, 'size-budget')?.evidence.largestLayers ?? []) as Array<{ size: string; createdBy: string }>;
    return {
      pass: size <= budgetBytes,
      message: () =>
        [
          `expected ${report.target} ${this.isNot ? 'not ' : ''}to fit ${formatBytes(budgetBytes)}; it is ${formatBytes(size)}`,
          ...layers.map((l) => `    layer ${l.size}: ${l.createdBy}`),
        ].join('\n'),
    };
  },
};

export interface ImageAuditMatchers<R = unknown> {
  /** The check passed (or only warned). */
  toPassCheck(id: CheckId): R;
  toRunAsNonRoot(): R;
  toHaveInitAsPid1(): R;
  /** Exited by itself with a clean code within the duration ('5s', 5000) of the stop signal. */
  toShutDownWithin(budget: number | string): R;
  toBecomeHealthy(): R;
  toHaveNoDevDependencies(): R;
  /** Image size within the budget ('250MB' decimal, '240MiB' binary, or bytes). */
  toFitSizeBudget(budget: number | string): R;
}
