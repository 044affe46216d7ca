import { constants } from 'node:os';
import { isPackageManager, type ProcessTree } from '../lifecycle/process-tree.js';
import { formatMs } from '../units.js';
import { unobserved, valueOf } from '../observed.js';
import { earlyExitText, lastLogLine, lineWriter, logLines, oomHint, required, startRefused, unobservedVerdict, verdict, type Check } from './check.js';

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
    if (life.exitedEarly) {
      const exit = life.exitedEarly;
      const evidence = { exitCode: valueOf(exit.exitCode), afterMs: valueOf(exit.afterMs), oomKilled: exit.oomKilled, lastLogLines };
      if (exit.oomKilled) return verdict('fail', `${earlyExitText(exit, settings)}, before the stop signal was sent`, evidence, oomHint(settings));
      // An exit whose code the engine did not give says nothing about how the app ends: no verdict from it.
      if (!exit.exitCode.ok) return unobservedVerdict(exit.exitCode, evidence, 'error', 'could not see how the app stopped before the stop signal (its exit code is not known)');
      return verdict(
        'fail',
        `${earlyExitText(exit, settings)}, before the stop signal was sent${lastLogLine(life)}`,
        evidence,
        'The app must keep running until it is told to stop: look at the log lines for why it exited.',
      );
    }
    if (!life.shutdown) return unobservedVerdict(unobserved('the lifecycle recorded neither the stop signal nor an exit'), { lastLogLines });
    const s = life.shutdown;
    const evidence = {
      signal: s.signal,
      budgetMs: s.budgetMs,
      exitedAfterMs: valueOf(s.exitedAfterMs),
      timedBy: s.timedBy,
      exitCode: valueOf(s.exitCode),
      killedAtBudget: s.killedAtBudget,
      sigkill: s.sigkill,
      finishedAfterMs: s.finishedAfterMs,
      oomKilled: s.oomKilled,
      lastLogLines,
    };
    const cause = pid1Cause(life.processes, s.signal);
    const handle = `Handle ${s.signal} in the app: \`process.on('SIGTERM', () => server.close(() => process.exit(0)))\`, and close idle connections.`;
    const useInit = 'Run node under an init that forwards signals: `ENTRYPOINT ["dumb-init", "--"]` with `CMD ["node", "…"]` in exec form.';
    if (s.killedAtBudget) {
      return verdict(
        'fail',
        `still running ${formatMs(s.budgetMs)} after ${s.signal}${cause ? ` (${cause})` : ''}; killed (exit ${valueOf(s.exitCode) ?? 'unknown'}). Expected an exit within ${formatMs(settings.shutdownBudgetMs)}`,
        evidence,
        cause ? useInit : handle,
      );
    }
    // No verdict from a time the clocks disagree about, nor from an exit that was not seen.
    if (!s.exitCode.ok) return unobservedVerdict(s.exitCode, evidence, 'error', `could not see the app exit after ${s.signal}`);
    if (!s.exitedAfterMs.ok) return unobservedVerdict(s.exitedAfterMs, evidence, 'error', 'could not time the shutdown');
    const code = s.exitCode.value;
    const afterMs = s.exitedAfterMs.value;
    const after = formatMs(afterMs);
    if (afterMs > s.budgetMs) {
      return verdict('fail', `exited by itself ${after} after ${s.signal} with code ${code}, past the budget of ${formatMs(s.budgetMs)}`, evidence, cause ? useInit : handle);
    }
    if (code === 137) {
      return verdict('fail', `exited with 137 (killed) ${after} after ${s.signal}${s.oomKilled ? ', out of memory' : ''}`, evidence, s.oomKilled ? oomHint(settings) : handle);
    }
    const clean = cleanExitCodes(s.signal);
    if (!clean.includes(code)) {
      return verdict('warn', `exited ${after} after ${s.signal} but with code ${code}; expected ${clean.join(' or ')}`, evidence, 'Exit with code 0 once shutdown has finished: a non-zero code reads as a crash to orchestrators.');
    }
    return verdict('pass', `exited ${after} after ${s.signal} with code ${code} (budget ${formatMs(s.budgetMs)})`, evidence);
  },
  lines(result) {
    const e = result.evidence as { signal?: string; budgetMs: number; killedAtBudget?: boolean; exitedAfterMs?: number; exitCode?: number; notObserved?: string };
    const { lines, add } = lineWriter();
    const end = e.killedAtBudget ? 'killed at budget' : e.exitedAfterMs !== undefined ? `exited after ${formatMs(e.exitedAfterMs)}` : 'exit time not observed';
    if (e.signal) add('stop', `${e.signal}, budget ${formatMs(e.budgetMs)}, ${end}, exit code ${e.exitCode ?? 'not observed'}`);
    add('not observed', e.notObserved);
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
