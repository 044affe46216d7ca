// Logs of a container without a TTY come multiplexed: 8-byte frame headers
// [stream, 0, 0, 0, size (uint32 big-endian)] before each chunk of stdout or stderr.

export function demuxLogs(raw: Buffer): string[] {
  const looksMultiplexed = raw.length >= 8 && raw[0] <= 2 && raw[1] === 0 && raw[2] === 0 && raw[3] === 0;
  if (!looksMultiplexed) return splitLines(raw.toString('utf8'));
  const chunks: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= raw.length) {
    const size = raw.readUInt32BE(offset + 4);
    chunks.push(raw.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return splitLines(Buffer.concat(chunks).toString('utf8'));
}

function splitLines(text: string): string[] {
  return text.split(/\r?\n/).filter((line) => line.length > 0);
}
