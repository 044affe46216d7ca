// Resolves the image's USER the way the container runtime does: through the image's own /etc/passwd
// and /etc/group, never the host's.
import type { GroupEntry, PasswdEntry } from '../etc-files.js';

export interface ResolvedUser {
  /** USER as configured in the image ('' means not set, i.e. root). */
  configured: string;
  uid?: number;
  gid?: number;
  /** The passwd name the uid maps to, when the image has one. */
  name?: string;
  /** Why uid or gid could not be resolved, or what is notable (no passwd entry, gid 0). */
  notes: string[];
  /** The image's /etc/passwd entries (undefined when it has none), to name the uids processes really run as. */
  passwd?: PasswdEntry[];
}

/** The image's passwd name of a uid (the first entry, as getpwuid), or undefined when it has none. */
export function userNameOf(passwd: PasswdEntry[] | undefined, uid: number): string | undefined {
  return passwd?.find((e) => e.uid === uid)?.name;
}

const isNumeric = (s: string) => /^\d+$/.test(s);

/** Whether resolveUser needs /etc/group for this USER: only a group given by name (`user:group`). */
export function namesGroup(configured: string): boolean {
  const groupPart = configured.split(':', 2)[1];
  return !!groupPart && !isNumeric(groupPart);
}

export function resolveUser(configured: string, passwd: PasswdEntry[] | undefined, group: GroupEntry[] | undefined): ResolvedUser {
  const notes: string[] = [];
  const [userPart, groupPart] = configured.split(':', 2);
  let uid: number | undefined;
  let gid: number | undefined;
  let name: string | undefined;

  if (!userPart) {
    uid = 0;
    name = passwd?.find((e) => e.uid === 0)?.name ?? 'root';
    gid = 0;
    notes.push('no USER in the image: the container runs as root');
  } else if (isNumeric(userPart)) {
    uid = Number(userPart);
    const entry = passwd?.find((e) => e.uid === uid);
    name = entry?.name;
    gid = entry?.gid;
    if (!entry) {
      gid = 0;
      notes.push(`uid ${uid} has no entry in the image's /etc/passwd${passwd ? '' : ' (the image has none)'}: its primary group is gid 0`);
    }
  } else {
    const entry = passwd?.find((e) => e.name === userPart);
    if (entry) {
      uid = entry.uid;
      gid = entry.gid;
      name = entry.name;
      if (uid === 0) notes.push(`user "${userPart}" maps to uid 0 in the image's /etc/passwd`);
    } else {
      notes.push(`user "${userPart}" is not in the image's /etc/passwd: the container cannot start as it`);
    }
  }

  if (groupPart) {
    if (isNumeric(groupPart)) gid = Number(groupPart);
    else {
      const g = group?.find((e) => e.name === groupPart);
      if (g) gid = g.gid;
      else notes.push(`group "${groupPart}" is not in the image's /etc/group`);
    }
  }
  return { configured, uid, gid, name, notes, ...(passwd ? { passwd } : {}) };
}
