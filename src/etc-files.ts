// The two name tables of a Linux root filesystem, /etc/passwd and /etc/group, parsed as getpwnam and
// getgrnam read them. A leaf: the image's facts resolve USER through them, and the port names the users
// and groups Podman's process listing gives by name.

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
}

/** Every well-formed line, in file order (a lookup takes the first match, as getpwnam and getpwuid do). */
export function parsePasswd(text: string): PasswdEntry[] {
  return text
    .split('\n')
    .filter((line) => line.trim() && !line.startsWith('#'))
    .map((line) => line.split(':'))
    .filter((f) => f.length >= 4 && /^\d+$/.test(f[2]) && /^\d+$/.test(f[3]))
    .map((f) => ({ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '', shell: f[6] ?? '' }));
}

export function parseGroup(text: string): GroupEntry[] {
  return text
    .split('\n')
    .filter((line) => line.trim() && !line.startsWith('#'))
    .map((line) => line.split(':'))
    .filter((f) => f.length >= 3 && /^\d+$/.test(f[2]))
    .map((f) => ({ name: f[0], gid: Number(f[2]) }));
}
