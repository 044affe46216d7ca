// The fleet in GitHub-flavoured Markdown ($GITHUB_STEP_SUMMARY, a PR comment): the verdict, a targets ×
// checks table, then what failed, target by target, folded. App output is escaped inline text only.
import type { FleetReport, FleetTarget } from '../fleet/report.js';
import type { CheckStatus } from '../types.js';
import { fleetCheckIds, targetOutcome } from './fleet-tty.js';
import { inline } from './markdown.js';

const ICON: Record<CheckStatus, string> = { pass: '✅', fail: '❌', warn: '⚠️', skip: '⏭️', error: '💥', waived: '🔕' };
const EXIT: Record<number, string> = {
  0: 'no check failed in any target (exit 0)',
  1: 'a check failed in at least one target (exit 1)',
  3: 'at least one target could not be audited (exit 3)',
};
/** GitHub's step summary holds 1 MiB: past this many failing targets, details are left to the other reports. */
const MAX_DETAILED_TARGETS = 100;

const verdictIcon = (t: FleetTarget) => (!t.report || (t.exitCode !== 0 && t.exitCode !== 1) ? '💥' : t.exitCode === 1 ? '❌' : '✅');

export function renderFleetMarkdown(report: FleetReport): string {
  const s = report.summary;
  const ids = fleetCheckIds(report);
  const head = s.exitCode === 0 ? '✅' : s.exitCode === 1 ? '❌' : '💥';
  const out = [
    `## ${head} image-audit fleet: ${s.targets} target${s.targets === 1 ? '' : 's'}`,
    '',
    `${EXIT[s.exitCode]} · ${s.pass} pass, ${s.fail} fail, ${s.couldNotAudit} could not audit · engines: ${Object.entries(s.engines).map(([e, n]) => `${inline(e)} ${n}`).join(', ')}`,
    '',
    `| target | engine | | ${ids.map((id) => `\`${id}\``).join(' | ')} |`,
    `| --- | --- | --- | ${ids.map(() => ':-:').join(' | ')} |`,
    ...report.targets.map((t) => {
      const cells = t.report ? ids.map((id) => { const c = t.report!.checks.find((x) => x.id === id); return c ? ICON[c.status] : ''; }) : [inline(`could not audit: ${t.error?.message ?? ''}`), ...ids.slice(1).map(() => '')];
      return `| ${inline(t.name)} | ${inline(t.engine)} | ${verdictIcon(t)} | ${cells.join(' | ')} |`;
    }),
    '',
  ];
  const acted = report.targets.filter((t) => verdictIcon(t) !== '✅');
  for (const t of acted.slice(0, MAX_DETAILED_TARGETS)) {
    out.push(`<details><summary>${verdictIcon(t)} ${inline(t.name)}: ${inline(targetOutcome(t))}</summary>`, '');
    if (!t.report) {
      for (const a of t.attempts ?? []) out.push(`- earlier on ${inline(a.engine)}: ${inline(a.error)}`);
    } else {
      for (const c of t.report.checks.filter((x) => x.status === 'fail' || x.status === 'error' || x.status === 'warn')) {
        out.push(`- ${ICON[c.status]} \`${c.id}\`: ${inline(c.message)}${c.hint ? `<br>**Fix:** ${inline(c.hint)}` : ''}`);
      }
    }
    out.push('', '</details>', '');
  }
  if (acted.length > MAX_DETAILED_TARGETS) out.push(`… and ${acted.length - MAX_DETAILED_TARGETS} more targets that did not pass: see the JSON or HTML report.`, '');
  return `${out.join('\n').trimEnd()}\n`;
}
