// A tar writer for build contexts. Names are bytes, not strings: a file whose name is not UTF-8 must
// reach the daemon with the same name, as the Docker CLI sends it (tar-stream only writes UTF-8 names).
import { open } from 'node:fs/promises';

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'fifo' | 'character-device' | 'block-device';

export interface TarEntry {
  /** The entry's name in the archive (relative, '/'-separated), as raw bytes. */
  name: Buffer;
  type: TarEntryType;
  mode: number;
  mtimeSeconds: number;
  /** Regular files: where to read the content, and how many bytes the header promises. */
  source?: Buffer;
  sizeBytes?: number;
  linkname?: Buffer;
  devmajor?: number;
  devminor?: number;
}

const BLOCK = 512;
const TYPEFLAG: Record<TarEntryType, string> = {
  file: '0',
  symlink: '2',
  'character-device': '3',
  'block-device': '4',
  directory: '5',
  fifo: '6',
};
const MAX_OCTAL_SIZE = 0o77777777777;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let length = body.length + 1;
  while (String(length).length + body.length !== length) length = String(length).length + body.length;
  return Buffer.concat([Buffer.from(String(length)), body]);
}

function headerBlock(fields: {
  name: Buffer;
  mode: number;
  sizeBytes: number;
  mtimeSeconds: number;
  typeflag: string;
  linkname?: Buffer;
  devmajor?: number;
  devminor?: number;
}): Buffer {
  const block = Buffer.alloc(BLOCK);
  fields.name.copy(block, 0, 0, Math.min(100, fields.name.length));
  block.write(octal(fields.mode & 0o7777, 8), 100, 'ascii');
  block.write(octal(0, 8), 108, 'ascii');
  block.write(octal(0, 8), 116, 'ascii');
  block.write(octal(Math.min(fields.sizeBytes, MAX_OCTAL_SIZE), 12), 124, 'ascii');
  block.write(octal(Math.max(0, Math.floor(fields.mtimeSeconds)), 12), 136, 'ascii');
  block.write(fields.typeflag, 156, 'ascii');
  fields.linkname?.copy(block, 157, 0, Math.min(100, fields.linkname.length));
  block.write('ustar\u000000', 257, 'ascii');
  block.write('root', 265, 'ascii');
  block.write('root', 297, 'ascii');
  block.write(octal(fields.devmajor ?? 0, 8), 329, 'ascii');
  block.write(octal(fields.devminor ?? 0, 8), 337, 'ascii');
  block.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(octal(sum, 7) + ' ', 148, 'ascii');
  return block;
}

function padding(sizeBytes: number): Buffer {
  return Buffer.alloc((BLOCK - (sizeBytes % BLOCK)) % BLOCK);
}

/** The header block(s) of one entry: a PAX header first when a name, link or size does not fit ustar. */
export function entryHeader(entry: TarEntry): Buffer {
  const name = entry.type === 'directory' ? Buffer.concat([entry.name, Buffer.from('/')]) : entry.name;
  const sizeBytes = entry.type === 'file' ? (entry.sizeBytes ?? 0) : 0;
  const records: Buffer[] = [];
  if (name.length > 100) records.push(paxRecord('path', name));
  if (entry.linkname && entry.linkname.length > 100) records.push(paxRecord('linkpath', entry.linkname));
  if (sizeBytes > MAX_OCTAL_SIZE) records.push(paxRecord('size', Buffer.from(String(sizeBytes))));
  const main = headerBlock({
    name,
    mode: entry.mode,
    sizeBytes,
    mtimeSeconds: entry.mtimeSeconds,
    typeflag: TYPEFLAG[entry.type],
    linkname: entry.linkname,
    devmajor: entry.devmajor,
    devminor: entry.devminor,
  });
  if (!records.length) return main;
  const pax = Buffer.concat(records);
  const paxHeader = headerBlock({ name: Buffer.from('PaxHeader'), mode: 0o644, sizeBytes: pax.length, mtimeSeconds: 0, typeflag: 'x' });
  return Buffer.concat([paxHeader, pax, padding(pax.length), main]);
}

/** The archive's bytes: each entry's header, then a file's content read lazily, then the end blocks. */
export async function* tarChunks(entries: Iterable<TarEntry>): AsyncGenerator<Buffer> {
  for (const entry of entries) {
    yield entryHeader(entry);
    if (entry.type !== 'file' || !entry.source || !entry.sizeBytes) continue;
    yield* fileContent(entry.source, entry.sizeBytes);
    yield padding(entry.sizeBytes);
  }
  yield Buffer.alloc(BLOCK * 2);
}

/** Exactly sizeBytes bytes (the header promised them): a file that shrank meanwhile is padded with zeros. */
async function* fileContent(source: Buffer, sizeBytes: number): AsyncGenerator<Buffer> {
  const handle = await open(source, 'r');
  try {
    let left = sizeBytes;
    while (left > 0) {
      const chunk = Buffer.alloc(Math.min(left, 256 * 1024));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) {
        yield Buffer.alloc(left);
        return;
      }
      left -= bytesRead;
      yield chunk.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}
