import { describe, expect, it } from 'vitest';
import { demuxLogs, frameReader } from '../../src/docker/logs.js';

const frame = (stream: 1 | 2, text: string) => {
  const body = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
};

describe('demuxLogs', () => {
  it('strips the frame headers of stdout and stderr, in order', () => {
    const raw = Buffer.concat([frame(1, 'listening on 3000\n'), frame(2, 'FATAL: no config\n'), frame(1, 'partial '), frame(1, 'line\n')]);
    expect(demuxLogs(raw)).toEqual(['listening on 3000', 'FATAL: no config', 'partial line']);
  });
  it('passes TTY logs (no frames) through', () => {
    expect(demuxLogs(Buffer.from('a\r\nb\n'))).toEqual(['a', 'b']);
  });
});

describe('frameReader', () => {
  it('reassembles frames split anywhere across chunks, keeping stdout and stderr apart', () => {
    const raw = Buffer.concat([frame(1, 'out one\n'), frame(2, 'err\n'), frame(1, 'out two\n')]);
    for (const cut of [1, 5, 8, 9, 15, raw.length - 1]) {
      const seen: string[] = [];
      const feed = frameReader((stream, payload) => seen.push(`${stream}:${payload.toString()}`));
      feed(raw.subarray(0, cut));
      feed(raw.subarray(cut));
      expect(seen).toEqual(['1:out one\n', '2:err\n', '1:out two\n']);
    }
  });
});
