import { isShellForm } from '../facts/command.js';
import { notObserved, required, verdict, type Check } from './check.js';

const SHELLS = new Set(['sh', 'bash', 'dash', 'ash']);

export const initPid1: Check = {
  id: 'init-pid1',
  title: 'An init (dumb-init) is PID 1, with the app below it',
  needs: ['image', 'lifecycle'],
  run({ basics, lifecycle, settings }) {
    const life = required(lifecycle, 'lifecycle');
    const { entrypoint, cmd } = basics.image.config;
    const configured = {
      entrypoint,
      cmd,
      shellForm: basics.command.shellForm,
      acceptedInits: settings.acceptedInits,
    };
    const why = notObserved(life);
    if (why || !life.processes) {
      return verdict('error', `could not observe PID 1: ${why ?? 'no process table'}`, { configured, logs: life.logs });
    }
    const { pid1, chainToApp, app, all } = life.processes;
    const evidence = {
      configured,
      pid1: pid1.args,
      processChain: chainToApp.map((p) => p.args),
      processes: all.map((p) => p.args),
    };
    const shellFormNote = isShellForm(entrypoint) ? ' (shell-form ENTRYPOINT)' : isShellForm(cmd) ? ' (shell-form CMD)' : '';
    if (!settings.acceptedInits.includes(pid1.program)) {
      return verdict(
        'fail',
        `PID 1 is "${pid1.args}"${shellFormNote}, not ${settings.acceptedInits.join(' or ')}: signals and zombie reaping depend on the app`,
        evidence,
      );
    }
    if (!app) {
      return verdict('fail', `PID 1 is ${pid1.program}, but no node process runs below it`, evidence);
    }
    const shell = chainToApp.slice(1, -1).find((p) => SHELLS.has(p.program));
    if (shell) {
      return verdict(
        'warn',
        `${pid1.program} is PID 1, but a shell ("${shell.args}")${shellFormNote} stands between it and node: use the exec form`,
        evidence,
      );
    }
    return verdict('pass', `PID 1 is ${pid1.program}; chain: ${chainToApp.map((p) => p.program).join(' → ')}`, evidence);
  },
};
