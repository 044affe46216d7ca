import type { ProcessNode } from '../lifecycle/process-tree.js';
import { notObserved, required, verdict, type Check } from './check.js';

const describe = (p: ProcessNode) => ({ uid: p.uid, gid: p.gid, command: p.args });

export const nonRootUser: Check = {
  id: 'non-root-user',
  title: 'Runs as a non-root user',
  needs: ['image', 'files', 'lifecycle'],
  run({ files, lifecycle }) {
    const { user } = required(files, 'files');
    const life = required(lifecycle, 'lifecycle');
    const configured = {
      user: user.configured || '(not set: root)',
      resolvedUid: user.uid,
      resolvedGid: user.gid,
      passwdName: user.name,
      notes: user.notes,
    };
    const why = notObserved(life);
    if (why || !life.processes) {
      return verdict('error', `could not observe the running processes: ${why ?? 'no process table'}`, { configured, logs: life.logs });
    }
    const { pid1, app } = life.processes;
    const observed = { pid1: describe(pid1), app: app ? describe(app) : undefined };
    const evidence = { configured, observed };
    const rootProcess = [pid1, app].find((p) => p?.uid === 0);
    if (rootProcess) {
      const who = rootProcess === pid1 ? 'PID 1' : 'the app';
      const reason = !user.configured
        ? 'the image sets no USER'
        : user.name && user.uid === 0
          ? `user "${user.configured.split(':')[0]}" maps to uid 0 in the image's /etc/passwd`
          : `USER is "${user.configured}"`;
      return verdict('fail', `${who} runs as uid 0 (${reason}); expected a non-root uid`, evidence);
    }
    const uids = [...new Set([pid1.uid, app?.uid].filter((u) => u !== undefined))].join(' and ');
    const name = user.name ? ` ("${user.name}")` : ' (no passwd entry)';
    const gidNote = user.gid === 0 ? '; primary group is gid 0' : '';
    return verdict('pass', `PID 1 and the app run as uid ${uids}${name}${gidNote}`, evidence);
  },
};
