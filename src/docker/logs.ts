// Output of a container without a TTY comes multiplexed: 8-byte frame headers
// [stream, 0, 0, 0, size (uint32 big-endian)] before each chunk of stdout (1) or stderr (2).
// One reader for both uses: logs read whole, and exec/helper output followed as a stream.

/** Returns a function to feed chunks to; calls back with each complete frame's stream and payload. */
export function frameReader(onFrame: (stream: number, payload: Buffer) => void): (chunk: Buffer) => void {
  let buffered: Buffer = Buffer.alloc(0);
  return (chunk) => {
    buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
    while (buffered.length >= 8) {
      const size = buffered.readUInt32BE(4);
      if (buffered.length < 8 + size) break;
      onFrame(buffered[0], Buffer.from(buffered.subarray(8, 8 + size)));
      buffered = buffered.subarray(8 + size);
    }
  };
}

export function demuxLogs(raw: Buffer): string[] {
  const looksMultiplexed = raw.length >= 8 && raw[0] <= 2 && raw[1] === 0 && raw[2] === 0 && raw[3] === 0;
  if (!looksMultiplexed) return splitLines(raw.toString('utf8'));
  const chunks: Buffer[] = [];
  frameReader((_stream, payload) => chunks.push(payload))(raw);
  return splitLines(Buffer.concat(chunks).toString('utf8'));
}

function splitLines(text: string): string[] {
  return text.split(/\r?\n/).filter((line) => line.length > 0);
}
