// read-only-rootfs: with `readOnlyRootFilesystem: true` (--manifest), the audited container ran with a
// read-only root and the manifest's emptyDir volumes as tmpfs: the app must start and become ready, and
// a write it tried is named from its own words (Node's `EROFS: read-only file system, open '/app/x'`).
// Without it, what the app wrote to its root filesystem while it ran (the daemon's changes list, as
// `docker diff` shows it, minus the parents of what changed) is a warning that names the paths: what
// turning the option on would break.
import type { LiveProbe } from '../lifecycle/probe.js';
import type { FilesystemChange } from '../docker/port.js';
import { containerLocation } from '../manifest/location.js';
import { earlyExitText, lineWriter, logLines, notObserved, required, startRefused, verdict, type Check, type Verdict } from './check.js';
import { probeValue } from './probes/shared.js';

const EROFS = /EROFS: read-only file system, (\w+) '([^']+)'/;

/** The paths the app's output says it could not write. */
export function erofsPaths(lines: string[]): string[] {
  return [...new Set(lines.flatMap((l) => (EROFS.exec(l) ? [EROFS.exec(l)![2]] : [])))];
}

/** Changed paths without the directories that changed only because something below them did. */
export function leafChanges(changes: FilesystemChange[]): FilesystemChange[] {
  const paths = changes.map((c) => c.path);
  return changes.filter((c) => !(c.kind === 'modified' && paths.some((p) => p !== c.path && p.startsWith(`${c.path}/`))));
}

export const changesProbe: LiveProbe<FilesystemChange[]> = {
  // Armed before the stop, read after the exit: the bound spans the shutdown (a grace period up to minutes).
  timeoutMs: 10 * 60_000,
  // Read once the container has exited: everything the app wrote in its whole life, not a view of the
  // moment it was judged up (a "settled" app may not have run its start-up writes yet on a loaded host).
  aroundStop: async (context) => () => context.docker.containerChanges(context.containerId, { signal: context.signal }),
};

/** The folders to mount a volume on, for the paths written. */
const folders = (paths: string[]) => [...new Set(paths.map((p) => p.replace(/\/[^/]*$/, '') || '/'))];

export const readOnlyRootfs: Check = {
  id: 'read-only-rootfs',
  title: 'Runs with a read-only root filesystem',
  needs: ['image', 'lifecycle'],
  // By default with --manifest; without one it runs when named (`--only read-only-rootfs`) and reports the writes.
  withManifest: true,
  probe: changesProbe as LiveProbe,
  help: 'Write only where a volume is mounted (an emptyDir for /tmp and caches), so `readOnlyRootFilesystem: true` holds; never write into the app folder at run time.',
  run({ lifecycle, settings }): Verdict {
    const life = required(lifecycle, 'lifecycle');
    const target = settings.manifest;
    const readOnly = target?.run.readOnlyRootfs === true;
    const writable = Object.keys(target?.run.tmpfs ?? {});
    const lastLogLines = life.logs.slice(-10);
    const at = target ? containerLocation(target, ['securityContext', 'readOnlyRootFilesystem']) : undefined;
    const refused = startRefused(life, { lastLogLines });
    if (refused) return refused;
    const tried = erofsPaths(life.logs);
    const volumeHint = (paths: string[]) =>
      `Write to a mounted volume instead (an emptyDir at ${folders(paths).join(', ')} — \`volumeMounts: [{ name: cache, mountPath: ${folders(paths)[0]} }]\` with \`volumes: [{ name: cache, emptyDir: {} }]\`), or stop writing at run time (write it at build time).`;
    if (readOnly) {
      const evidence = { readOnly, writable, triedToWrite: tried, lastLogLines };
      if (life.exitedEarly) {
        const exit = earlyExitText(life.exitedEarly, settings);
        if (tried.length) return { ...verdict('fail', `with a read-only root filesystem the app tried to write ${tried.join(', ')} (EROFS) and ${exit.replace(/^the app /, '')}`, evidence, volumeHint(tried)), location: at };
        return { ...verdict('fail', `with a read-only root filesystem (writable: ${writable.join(', ') || 'nothing'}) ${notObserved(life, settings) ?? exit}`, evidence, 'Look at the log lines for what it could not do; make it write only under mounted volumes.'), location: at };
      }
      if (tried.length) return { ...verdict('fail', `with a read-only root filesystem the app runs but failed to write ${tried.join(', ')} (EROFS)`, evidence, volumeHint(tried)), location: at };
      const why = notObserved(life, settings);
      if (why) return verdict('error', `could not observe the app: ${why}`, evidence);
      const up = life.health ? life.health.outcome === 'healthy' : life.settle?.appSeen === true;
      if (!up) return { ...verdict('fail', 'with a read-only root filesystem the app did not become ready', evidence, 'Look at the log lines for what it could not write.'), location: at };
      return verdict('pass', `started and became ready with a read-only root filesystem (writable: ${writable.join(', ') || 'nothing'})`, evidence);
    }
    const probed = probeValue<FilesystemChange[]>(life, 'read-only-rootfs');
    if ('verdict' in probed) return probed.verdict;
    const leaves = leafChanges(probed.value);
    const evidence = { readOnly: false, changes: leaves.map((c) => `${c.kind === 'added' ? 'A' : c.kind === 'deleted' ? 'D' : 'C'} ${c.path}`) };
    if (!leaves.length) return verdict('pass', `the app wrote nothing to its root filesystem while it ran${writable.length ? ` (outside ${writable.join(', ')})` : ''}: readOnlyRootFilesystem: true would hold`, evidence);
    const paths = leaves.map((c) => c.path);
    const shown = paths.slice(0, 5).join(', ') + (paths.length > 5 ? ` and ${paths.length - 5} more` : '');
    return {
      ...verdict('warn', `the app wrote to its root filesystem while it ran: ${shown}; with readOnlyRootFilesystem: true ${paths.length === 1 ? 'that write fails' : 'those writes fail'}`, evidence, volumeHint(paths)),
      ...(at && target?.security.readOnlyRootFilesystem !== undefined ? { location: at } : {}),
    };
  },
  lines(result) {
    const e = result.evidence as { changes?: string[]; triedToWrite?: string[]; writable?: string[] };
    const { lines, add } = lineWriter();
    add('tried to write', e.triedToWrite?.join(', '));
    add('writable', e.writable?.join(', '));
    if (e.changes?.length && result.status !== 'pass') lines.push('changed:', ...e.changes.map((c) => `  ${c}`));
    return [...lines, ...logLines(result)];
  },
};
