// One fleet, every consumer: each format's fleet form, computed from the fleet report alone (so a
// one-process fleet and `merge` of its shards render the same). A gated fleet (`fleet --gate`) has its
// own forms (./fleet-gate.ts).
import type { GatedFleetReport } from '../fleet/gate.js';
import type { FleetReport } from '../fleet/report.js';
import { renderGatedFleet } from './fleet-gate.js';
import { renderFleetJunit, renderFleetSarif } from './fleet-ci.js';
import { renderFleetHtml } from './fleet-html.js';
import { renderFleetMarkdown } from './fleet-markdown.js';
import { renderFleetTty } from './fleet-tty.js';
import type { Format } from './render.js';

const isGated = (report: FleetReport | GatedFleetReport): report is GatedFleetReport => 'kind' in report && report.kind === 'gate';

export function renderFleet(format: Format, report: FleetReport | GatedFleetReport, opts: { color: boolean; toolVersion: string }): string {
  if (isGated(report)) return renderGatedFleet(format, report, opts);
  switch (format) {
    case 'tty':
      return renderFleetTty(report, opts);
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'junit':
      return renderFleetJunit(report);
    case 'sarif':
      return renderFleetSarif(report, opts.toolVersion);
    case 'html':
      return renderFleetHtml(report, opts.toolVersion);
    case 'markdown':
      return renderFleetMarkdown(report);
  }
}
