// Waivers: a failure that a team has accepted, with a reason and maybe an end date. A waived check
// is reported as `waived` (never `pass`) and does not fail the audit or the gate; past its date the
// failure counts again and the message says the waiver expired.
import type { CheckResult, Waiver } from '../types.js';

/** YYYY-MM-DD of a date in UTC. */
export const isoDay = (date: Date) => date.toISOString().slice(0, 10);

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
