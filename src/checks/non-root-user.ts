import type { PasswdEntry } from '../etc-files.js';
import { userNameOf } from '../facts/passwd.js';
import type { ProcessNode } from '../lifecycle/process-tree.js';
import { unobserved } from '../observed.js';
import { lineWriter, logLines, notObserved, required, unobservedVerdict, verdict, type Check } from './check.js';

/** A process as observed: its uid and gid, and the image's passwd name of that uid. */
const describe = (p: ProcessNode, passwd: PasswdEntry[] | undefined) => ({ uid: p.uid, gid: p.gid, user: userNameOf(passwd, p.uid), command: p.args });

export const nonRootUser: Check = {
  id: 'non-root-user',
  title: 'Runs as a non-root user',
  needs: ['image', 'files', 'lifecycle'],
  help: 'Add a non-root user and switch to it with USER (e.g. `USER node`). A user named anything that maps to uid 0 is still root.',
  run({ files, lifecycle, daemon, settings }) {
    const { user } = required(files, 'files');
    const life = required(lifecycle, 'lifecycle');
    const configured = {
      user: user.configured || '(not set: root)',
      resolvedUid: user.uid,
      resolvedGid: user.gid,
      passwdName: user.name,
      notes: user.notes,
    };
    if (daemon?.userns || daemon?.rootless) {
      // Host `ps` shows remapped uids there: uid 100000 may be root inside. Judging would be a guess.
      return verdict(
        'skip',
        `cannot judge on a ${daemon.userns ? 'user-namespaced' : 'rootless'} daemon: the uids seen from the host are not the container's (USER resolves to uid ${user.uid ?? 'unknown'})`,
        { configured, daemon },
      );
    }
    const why = notObserved(life, settings);
    if (why || !life.processes) {
      return verdict('error', `could not observe the running processes: ${why ?? 'no process table'}`, { configured, lastLogLines: life.logs.slice(-10) });
    }
    const { pid1, app } = life.processes;
    const observed = { pid1: describe(pid1, user.passwd), app: app ? describe(app, user.passwd) : undefined };
    const evidence = { configured, observed };
    const rootProcess = [pid1, app].find((p) => p?.uid === 0);
    if (rootProcess) {
      const who = rootProcess === pid1 ? 'PID 1' : 'the app';
      const alias = user.name !== undefined && user.uid === 0 && user.configured.split(':')[0] !== 'root' && user.configured !== '';
      const reason = !user.configured
        ? 'the image sets no USER'
        : alias
          ? `user "${user.configured.split(':')[0]}" maps to uid 0 in the image's /etc/passwd`
          : `USER is "${user.configured}"`;
      const hint = alias
        ? `"${user.configured.split(':')[0]}" is uid 0: create a real user (\`RUN useradd --uid 10001 app\`) or use the base image's \`USER node\`.`
        : rootProcess === app && pid1.uid !== 0
          ? 'The entrypoint switches back to root: drop privileges before exec-ing node, or set USER in the image.'
          : 'Add `USER node` (or another non-root user) after the steps that need root, and `COPY --chown=node:node` the app files.';
      return verdict('fail', `${who} runs as uid 0 (${reason}); expected a non-root uid`, evidence, hint);
    }
    if (!app) {
      // PID 1 is not root, but the app's own uid was not seen: no verdict about it is drawn.
      const unidentified = life.processes.unidentified.length ? ` (${life.processes.unidentified.length} process(es) could not be identified: their executables were not read)` : '';
      return unobservedVerdict(unobserved(`no node process was seen below PID 1${unidentified}, so the uid the app runs as is not known (PID 1 runs as uid ${pid1.uid})`), evidence);
    }
    // What the processes run as, named through the image's /etc/passwd: not what USER says (an app may
    // change its own uid and gid at start).
    const uids = [...new Set([pid1.uid, app.uid])]
      .map((uid) => {
        const name = userNameOf(user.passwd, uid);
        return `${uid}${name ? ` ("${name}")` : ' (no passwd entry)'}`;
      })
      .join(' and ');
    const gidNote = [pid1, app].some((p) => p.gid === 0) ? '; primary group is gid 0' : '';
    return verdict('pass', `PID 1 and the app run as uid ${uids}${gidNote}`, evidence);
  },
  lines(result) {
    type Seen = { uid: number; gid?: number; user?: string };
    const e = result.evidence as { configured?: { user?: string; resolvedUid?: number; resolvedGid?: number; passwdName?: string; notes?: string[] }; observed?: { pid1: Seen; app?: Seen } };
    const seen = (p: Seen) => `uid ${p.uid}${p.gid !== undefined ? ` gid ${p.gid}` : ''}${p.user ? ` (${p.user})` : ''}`;
    const { lines, add } = lineWriter();
    add('USER', e.configured?.user);
    const c = e.configured;
    add('resolves to', c?.resolvedUid !== undefined ? `uid ${c.resolvedUid} gid ${c.resolvedGid}${c.passwdName ? ` (${c.passwdName})` : ''}` : undefined);
    if (e.observed) add('observed', `PID 1 ${seen(e.observed.pid1)}${e.observed.app ? `, app ${seen(e.observed.app)}` : ''}`);
    for (const note of c?.notes ?? []) add('note', note);
    return [...lines, ...logLines(result)];
  },
  locate: (stage) => stage.last('USER'),
};
