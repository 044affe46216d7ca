// The fleet for CI tools: JUnit with one <testsuite> per target (the single audit's suite; a target
// that could not be audited is a suite of one case in <error> saying why: it was not judged, so it is
// not a <failure>), and SARIF with one run per
// target (the single audit's run, with an automationDetails id of its own so code scanning keeps the
// targets apart; a target that could not be audited is a run whose invocation failed, with the reason).
import type { FleetReport } from '../fleet/report.js';
import { renderJunit } from './junit.js';
import { renderSarif } from './sarif.js';
import { sanitizeMultiline } from './sanitize.js';

export function renderFleetJunit(report: FleetReport): string {
  const audited = report.targets.filter((t) => t.report).map((t) => ({ name: t.name, report: t.report! }));
  const notAudited = report.targets
    .filter((t) => !t.report)
    .map((t) => ({
      name: t.name,
      cases: [{ name: `could not audit (engine ${t.engine})`, error: t.error?.message ?? 'could not audit', detail: [...(t.error?.detail ?? []), ...(t.attempts ?? []).map((a) => `earlier on ${a.engine}: ${a.error}`)] }],
    }));
  return renderJunit(audited, notAudited);
}

export function renderFleetSarif(report: Pick<FleetReport, 'targets'>, toolVersion: string): string {
  // The driver of an empty report: its rules, for the runs of targets with no report.
  const emptyRun = (JSON.parse(renderSarif({ target: '', image: { id: '', tags: [], sizeBytes: 0 }, checks: [], summary: { pass: 0, fail: 0, warn: 0, skip: 0, error: 0, waived: 0 }, durationMs: 0 }, toolVersion)) as { runs: Array<Record<string, unknown>> }).runs[0];
  const runs = report.targets.map((t) => {
    const automationDetails = { id: `image-audit/${t.name}/` };
    const properties = { target: t.target, name: t.name, engine: t.engine, exitCode: t.exitCode };
    if (t.report) {
      const run = (JSON.parse(renderSarif(t.report, toolVersion)) as { runs: Array<Record<string, unknown>> }).runs[0];
      return { ...run, automationDetails, properties };
    }
    return {
      tool: emptyRun.tool,
      automationDetails,
      results: [],
      invocations: [
        {
          executionSuccessful: false,
          toolExecutionNotifications: [{ level: 'error', message: { text: sanitizeMultiline(`could not audit ${t.name} on engine ${t.engine}: ${t.error?.message ?? ''}`) } }],
        },
      ],
      properties,
    };
  });
  return `${JSON.stringify({ $schema: 'https://json.schemastore.org/sarif-2.1.0.json', version: '2.1.0', runs }, null, 2)}\n`;
}
