// Waivers: a failure that a team has accepted, with a reason and maybe an end date. A waived check
// is reported as `waived` (never `pass`) and does not fail the audit or the gate; past its date the
// failure counts again and the message says the waiver expired.
import type { CheckResult, Waiver } from '../types.js';

/** YYYY-MM-DD of a date in UTC. */
export const isoDay = (date: Date) => date.toISOString().slice(0, 10);

/** A real calendar day written YYYY-MM-DD: '2027-02-31' reads as a date to Date.parse, but is none. */
export function isCalendarDay(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return false;
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return !Number.isNaN(date.getTime()) && isoDay(date) === text;
}

/** What is wrong with a list of waivers, each problem prefixed with its place (`at` + index). */
export function waiverProblems(waivers: Waiver[] | undefined, at = '/waivers'): string[] {
  const problems: string[] = [];
  for (const [i, w] of (waivers ?? []).entries()) {
    if (w.expires !== undefined && !isCalendarDay(w.expires)) problems.push(`${at}/${i}/expires: "${w.expires}" is not a calendar date (YYYY-MM-DD)`);
  }
  return problems;
}

export function applyWaivers(results: CheckResult[], waivers: Waiver[] = [], now = new Date()): CheckResult[] {
  const today = isoDay(now);
  return results.map((result) => {
    const waiver = waivers.find((w) => w.check === result.id);
    if (!waiver || result.status !== 'fail') return result;
    const expired = waiver.expires !== undefined && waiver.expires < today;
    if (expired) {
      return { ...result, message: `waiver expired on ${waiver.expires} ("${waiver.reason}"): ${result.message}`, waiver: { ...waiver, expired } };
    }
    const until = waiver.expires ? `, until ${waiver.expires}` : '';
    return { ...result, status: 'waived', message: `waived ("${waiver.reason}"${until}): ${result.message}`, waiver: { ...waiver, expired } };
  });
}
