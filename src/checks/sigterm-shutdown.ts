import { constants } from 'node:os';
import { formatMs } from '../units.js';
import { required, verdict, type Check } from './check.js';

/** 128 + signal number: how a process killed by that signal exits. */
function exitCodeForSignal(signal: string): number | undefined {
  const name = (/^\d+$/.test(signal) ? undefined : signal.toUpperCase().replace(/^(?!SIG)/, 'SIG')) as keyof typeof constants.signals | undefined;
  const number = name ? constants.signals[name] : Number(signal);
  return number ? 128 + number : undefined;
}

export const sigtermShutdown: Check = {
  id: 'sigterm-shutdown',
  title: 'Exits promptly and cleanly on the stop signal',
  needs: ['image', 'lifecycle'],
  run({ lifecycle, settings }) {
    const life = required(lifecycle, 'lifecycle');
    const lastLogLines = life.logs.slice(-10);
    if (life.startError) return verdict('fail', `the container could not start: ${life.startError}`, { lastLogLines });
    if (life.exitedEarly || !life.shutdown) {
      const { exitCode = -1, afterMs = 0 } = life.exitedEarly ?? {};
      return verdict(
        'fail',
        `the app exited by itself with code ${exitCode} after ${formatMs(afterMs)}, before the stop signal could be sent${lastLogLines.length ? `; last log line: "${lastLogLines[lastLogLines.length - 1]}"` : ''}`,
        { exitCode, afterMs, lastLogLines },
      );
    }
    const s = life.shutdown;
    const evidence = {
      signal: s.signal,
      budgetMs: s.budgetMs,
      exitedAfterMs: s.exitedAfterMs,
      exitCode: s.exitCode,
      killedAtBudget: s.killedAtBudget,
      oomKilled: s.oomKilled,
      lastLogLines,
    };
    if (s.killedAtBudget) {
      return verdict(
        'fail',
        `still running ${formatMs(s.budgetMs)} after ${s.signal}; killed (exit ${s.exitCode ?? 'unknown'}). Expected an exit within ${formatMs(settings.shutdownBudgetMs)}`,
        evidence,
      );
    }
    const after = formatMs(s.exitedAfterMs ?? 0);
    if (s.exitCode === 137) {
      return verdict('fail', `exited with 137 (killed) ${after} after ${s.signal}${s.oomKilled ? ', out of memory' : ''}`, evidence);
    }
    const clean = [0, 143, exitCodeForSignal(s.signal)];
    if (!clean.includes(s.exitCode)) {
      return verdict('warn', `exited ${after} after ${s.signal} but with code ${s.exitCode}; expected 0 or ${clean.slice(1).filter((c, i, a) => c && a.indexOf(c) === i).join(' or ')}`, evidence);
    }
    return verdict('pass', `exited ${after} after ${s.signal} with code ${s.exitCode} (budget ${formatMs(s.budgetMs)})`, evidence);
  },
};
