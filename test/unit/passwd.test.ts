import { describe, expect, it } from 'vitest';
import { parseGroup, parsePasswd } from '../../src/etc-files.js';
import { namesGroup, resolveUser } from '../../src/facts/passwd.js';

const passwd = parsePasswd(
  ['root:x:0:0:root:/root:/bin/bash', 'node:x:1000:1000::/home/node:/bin/bash', 'admin:x:0:0::/nonexistent:/bin/sh', '# comment', 'broken-line'].join('\n'),
);
const group = parseGroup(['root:x:0:', 'node:x:1000:', 'staff:x:50:'].join('\n'));

describe('resolveUser', () => {
  it('resolves a name through the image passwd', () => {
    expect(resolveUser('node', passwd, group)).toMatchObject({ uid: 1000, gid: 1000, name: 'node', notes: [] });
  });
  it('flags a name that maps to uid 0', () => {
    const user = resolveUser('admin', passwd, group);
    expect(user).toMatchObject({ uid: 0, gid: 0, name: 'admin' });
    expect(user.notes).toEqual([`user "admin" maps to uid 0 in the image's /etc/passwd`]);
  });
  it('treats no USER as root', () => {
    expect(resolveUser('', passwd, group)).toMatchObject({ uid: 0, gid: 0, name: 'root' });
  });
  it('accepts a numeric uid with no passwd entry, noting gid 0', () => {
    const user = resolveUser('1001', undefined, undefined);
    expect(user).toMatchObject({ uid: 1001, gid: 0, name: undefined });
    expect(user.notes[0]).toContain('its primary group is gid 0');
  });
  it('resolves user:group by name and by number', () => {
    expect(resolveUser('node:staff', passwd, group)).toMatchObject({ uid: 1000, gid: 50 });
    expect(resolveUser('1000:7', passwd, group)).toMatchObject({ uid: 1000, gid: 7, name: 'node' });
  });
  it('says when a name is not in the image', () => {
    const user = resolveUser('appuser', passwd, group);
    expect(user.uid).toBeUndefined();
    expect(user.notes[0]).toContain('not in the image');
  });
});

describe('namesGroup', () => {
  it('is true only for a group given by name, the one case resolveUser reads /etc/group for', () => {
    expect(['node', '1000', 'node:1000', '1000:', '', 'node:staff', '1000:staff'].map(namesGroup)).toEqual([false, false, false, false, false, true, true]);
  });
});
