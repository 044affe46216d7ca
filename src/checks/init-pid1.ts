import { isShellForm } from '../facts/command.js';
import { isPackageManager } from '../lifecycle/process-tree.js';
import { unobserved } from '../observed.js';
import { lineWriter, logLines, notObserved, required, unobservedVerdict, verdict, type Check } from './check.js';

const SHELLS = new Set(['sh', 'bash', 'dash', 'ash']);

export const initPid1: Check = {
  id: 'init-pid1',
  title: 'An init (dumb-init) is PID 1, with the app below it',
  needs: ['image', 'lifecycle'],
  help: 'Run an init as PID 1 in exec form, e.g. `ENTRYPOINT ["dumb-init", "--"]` and `CMD ["node", "server.js"]`, so signals reach node and zombies are reaped.',
  run({ basics, lifecycle, settings }) {
    const life = required(lifecycle, 'lifecycle');
    const { entrypoint, cmd } = basics.image.config;
    const configured = { entrypoint, cmd, shellForm: basics.command.shellForm, acceptedInits: settings.acceptedInits };
    const why = notObserved(life, settings);
    if (why || !life.processes) {
      return verdict('error', `could not observe PID 1: ${why ?? 'no process table'}`, { configured, lastLogLines: life.logs.slice(-10) });
    }
    const { pid1, chainToApp, app, all } = life.processes;
    const evidence = {
      configured,
      pid1: pid1.args,
      processChain: chainToApp.map((p) => p.args),
      processes: all.map((p) => p.args),
      // What each process of the chain is by its executable (a retitled node shows its title as args).
      ...(chainToApp.some((p) => p.exe.ok) ? { executables: chainToApp.map((p) => (p.exe.ok ? p.exe.value : null)) } : {}),
      ...(life.processesUnstable ? { note: 'the process table was still changing when sampling ended: the last sample is shown' } : {}),
    };
    const shellFormNote = isShellForm(entrypoint) ? ' (shell-form ENTRYPOINT)' : isShellForm(cmd) ? ' (shell-form CMD)' : '';
    const chain = chainToApp.map((p) => p.program).join(' → ');
    if (!settings.acceptedInits.includes(pid1.program)) {
      const hint = isPackageManager(pid1)
        ? `${pid1.program} is PID 1: use \`ENTRYPOINT ["dumb-init", "--"]\` and \`CMD ["node", "<your entry file>"]\` instead of \`${pid1.program} start\`.`
        : SHELLS.has(pid1.program)
          ? 'A shell is PID 1 (shell-form CMD): write `CMD ["node", "…"]` in exec form, after `ENTRYPOINT ["dumb-init", "--"]`.'
          : 'Add `ENTRYPOINT ["dumb-init", "--"]` (install dumb-init in the runtime stage) and keep CMD in exec form.';
      return verdict(
        'fail',
        `PID 1 is "${pid1.args}"${shellFormNote}, not ${settings.acceptedInits.join(' or ')}: signals and zombie reaping depend on the app`,
        evidence,
        hint,
      );
    }
    if (!app) {
      // A node that retitled itself (process.title) is node only by its executable: without it, "no node" is not observed.
      const { unidentified } = life.processes;
      if (unidentified.length) {
        return unobservedVerdict(
          unobserved(`no process below PID 1 is node by its command line, and the executables of ${unidentified.length} process(es) were not read (${unidentified[0].exe.ok ? '' : unidentified[0].exe.why}), so a node that retitled itself cannot be ruled out: ${unidentified.map((p) => `"${p.args}"`).join(', ')}`),
          evidence,
        );
      }
      return verdict('fail', `PID 1 is ${pid1.program}, but no node process runs below it`, evidence, 'Make CMD start node (exec form), e.g. `CMD ["node", "server.js"]`.');
    }
    const shell = chainToApp.slice(1, -1).find((p) => SHELLS.has(p.program));
    const manager = chainToApp.slice(1, -1).find(isPackageManager);
    if (shell || manager) {
      const between = manager ? `${manager.program} ("${manager.args}")` : `a shell ("${shell!.args}")${shellFormNote}`;
      return verdict(
        'warn',
        `${pid1.program} is PID 1, but ${between} stands between it and node; chain: ${chain}`,
        evidence,
        manager ? `Start node directly: \`CMD ["node", "<entry file>"]\` rather than \`${manager.program} start\`.` : 'Use the exec form: `CMD ["node", "…"]`.',
      );
    }
    return verdict('pass', `PID 1 is ${pid1.program}; chain: ${chain}`, evidence);
  },
  lines(result) {
    const e = result.evidence as { pid1?: string; processChain?: string[]; note?: string };
    const { lines, add } = lineWriter();
    add('PID 1', e.pid1);
    if (e.processChain) add('chain', e.processChain.join('  →  '));
    add('note', e.note);
    return [...lines, ...logLines(result)];
  },
  locate: (stage) => stage.last('ENTRYPOINT') ?? stage.last('CMD'),
};
