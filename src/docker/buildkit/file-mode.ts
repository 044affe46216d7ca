// Go's os.FileMode bits of an lstat, as fsutil's mkstat sends them in a Stat: the type bits are Go's,
// not the kernel's S_IFMT, and only an entry without a type bit has data the receiver may request.
import { constants as fsConstants, type BigIntStats } from 'node:fs';

const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;
const MODE_DEVICE = 2 ** 26;
const MODE_NAMED_PIPE = 2 ** 25;
const MODE_SOCKET = 2 ** 24;
const MODE_SETUID = 2 ** 23;
const MODE_SETGID = 2 ** 22;
const MODE_CHAR_DEVICE = 2 ** 21;
const MODE_STICKY = 2 ** 20;
const MODE_IRREGULAR = 2 ** 19;
const MODE_TYPE = MODE_DIR + MODE_SYMLINK + MODE_NAMED_PIPE + MODE_SOCKET + MODE_DEVICE + MODE_CHAR_DEVICE + MODE_IRREGULAR;

/** Go's os.FileMode of an lstat, as a uint32. */
export function goFileMode(st: BigIntStats): number {
  const m = Number(st.mode);
  let mode = m & 0o777;
  switch (m & fsConstants.S_IFMT) {
    case fsConstants.S_IFBLK:
      mode += MODE_DEVICE;
      break;
    case fsConstants.S_IFCHR:
      mode += MODE_DEVICE + MODE_CHAR_DEVICE;
      break;
    case fsConstants.S_IFDIR:
      mode += MODE_DIR;
      break;
    case fsConstants.S_IFIFO:
      mode += MODE_NAMED_PIPE;
      break;
    case fsConstants.S_IFLNK:
      mode += MODE_SYMLINK;
      break;
    case fsConstants.S_IFSOCK:
      mode += MODE_SOCKET;
      break;
  }
  if (m & 0o2000) mode += MODE_SETGID;
  if (m & 0o4000) mode += MODE_SETUID;
  if (m & 0o1000) mode += MODE_STICKY;
  return mode;
}

/** fsutil: only entries without a type bit (regular files, and sockets once their bit is cleared) have data. */
export function fileCanRequestData(mode: number): boolean {
  return (mode & MODE_TYPE) === 0;
}

/** The mode fsutil sends: it clears the socket bit (archive/tar has no socket type), so a socket goes as an empty regular file. */
export function sentMode(st: BigIntStats): number {
  const mode = goFileMode(st);
  return mode & MODE_SOCKET ? mode - MODE_SOCKET : mode;
}
