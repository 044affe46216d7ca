import { constants } from 'node:os';
import { isPackageManager, type ProcessTree } from '../lifecycle/process-tree.js';
import { formatMs } from '../units.js';
import { lastLogLine, lineWriter, logLines, required, startRefused, verdict, type Check } from './check.js';

/** 128 + signal number: how a process killed by that signal exits. */
function exitCodeForSignal(signal: string): number | undefined {
  const name = (/^\d+$/.test(signal) ? undefined : signal.toUpperCase().replace(/^(?!SIG)/, 'SIG')) as keyof typeof constants.signals | undefined;
  const number = name ? constants.signals[name] : Number(signal);
  return number ? 128 + number : undefined;
}

/** The exit codes that mean "stopped on the stop signal, cleanly": one rule for the check, the matchers and the gate. */
export function cleanExitCodes(signal: string): number[] {
  return [...new Set([0, 143, exitCodeForSignal(signal)].filter((c): c is number => c !== undefined))];
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'ash']);

/** Why the signal may not have reached node: PID 1 itself is a shell or a package manager. */
function pid1Cause(processes: ProcessTree | undefined, signal: string): string | undefined {
  const pid1 = processes?.pid1;
  if (!pid1 || pid1 === processes?.app) return undefined;
  if (SHELLS.has(pid1.program)) return `PID 1 is ${pid1.program} ("${pid1.args}"), which does not forward ${signal} to node`;
  if (isPackageManager(pid1)) return `PID 1 is ${pid1.program} ("${pid1.args}"), which does not wait for node to finish on ${signal}`;
  return undefined;
}

export const sigtermShutdown: Check = {
  id: 'sigterm-shutdown',
  title: 'Exits promptly and cleanly on the stop signal',
  needs: ['image', 'lifecycle'],
  help: 'Handle SIGTERM: stop accepting work, finish in-flight requests and exit 0 within the orchestrator grace period. Use an init so the signal reaches node.',
  run({ lifecycle, settings }) {
    const life = required(lifecycle, 'lifecycle');
    const lastLogLines = life.logs.slice(-10);
    const refused = startRefused(life, { lastLogLines });
    if (refused) return refused;
    if (life.exitedEarly || !life.shutdown) {
      const { exitCode = -1, afterMs = 0 } = life.exitedEarly ?? {};
      return verdict(
        'fail',
        `the app exited by itself with code ${exitCode} after ${formatMs(afterMs)}, before the stop signal was sent${lastLogLine(life)}`,
        { exitCode, afterMs, lastLogLines },
        'The app must keep running until it is told to stop: look at the log lines for why it exited.',
      );
    }
    const s = life.shutdown;
    const evidence = {
      signal: s.signal,
      budgetMs: s.budgetMs,
      exitedAfterMs: s.exitedAfterMs,
      timedBy: s.timedBy,
      exitCode: s.exitCode,
      killedAtBudget: s.killedAtBudget,
      oomKilled: s.oomKilled,
      lastLogLines,
    };
    const cause = pid1Cause(life.processes, s.signal);
    const handle = `Handle ${s.signal} in the app: \`process.on('SIGTERM', () => server.close(() => process.exit(0)))\`, and close idle connections.`;
    const useInit = 'Run node under an init that forwards signals: `ENTRYPOINT ["dumb-init", "--"]` with `CMD ["node", "…"]` in exec form.';
    if (s.killedAtBudget) {
      return verdict(
        'fail',
        `still running ${formatMs(s.budgetMs)} after ${s.signal}${cause ? ` (${cause})` : ''}; killed (exit ${s.exitCode ?? 'unknown'}). Expected an exit within ${formatMs(settings.shutdownBudgetMs)}`,
        evidence,
        cause ? useInit : handle,
      );
    }
    const after = formatMs(s.exitedAfterMs ?? 0);
    if (s.exitCode === 137) {
      return verdict('fail', `exited with 137 (killed) ${after} after ${s.signal}${s.oomKilled ? ', out of memory' : ''}`, evidence, s.oomKilled ? 'The app ran out of memory: raise --memory or fix the leak.' : handle);
    }
    const clean = cleanExitCodes(s.signal);
    if (s.exitCode === undefined || !clean.includes(s.exitCode)) {
      return verdict('warn', `exited ${after} after ${s.signal} but with code ${s.exitCode}; expected ${clean.join(' or ')}`, evidence, 'Exit with code 0 once shutdown has finished: a non-zero code reads as a crash to orchestrators.');
    }
    return verdict('pass', `exited ${after} after ${s.signal} with code ${s.exitCode} (budget ${formatMs(s.budgetMs)})`, evidence);
  },
  lines(result) {
    const e = result.evidence as { signal?: string; budgetMs: number; killedAtBudget?: boolean; exitedAfterMs?: number; exitCode?: number };
    const { lines, add } = lineWriter();
    if (e.signal) add('stop', `${e.signal}, budget ${formatMs(e.budgetMs)}, ${e.killedAtBudget ? 'killed at budget' : `exited after ${formatMs(e.exitedAfterMs ?? 0)}`}, exit code ${e.exitCode}`);
    return [...lines, ...logLines(result)];
  },
  locate: (stage) => stage.last('STOPSIGNAL') ?? stage.last('CMD') ?? stage.last('ENTRYPOINT'),
  metrics: [
    {
      key: 'shutdown',
      label: 'shutdown time',
      unit: 'ms',
      of: (result) => (result.evidence as { exitedAfterMs?: number; killedAtBudget?: boolean }).exitedAfterMs,
    },
  ],
};
