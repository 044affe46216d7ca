import { describe, expect, it } from 'vitest';
import { demuxLogs } from '../../src/docker/logs.js';

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
