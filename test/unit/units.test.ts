import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { DurationTooLongError, MAX_DURATION_MS, formatBytes, formatMs, parseDuration, parseSize } from '../../src/units.js';

describe('parseSize', () => {
  it('reads MB and GB as decimal, like docker images shows them', () => {
    expect(parseSize('250MB')).toBe(250_000_000);
    expect(parseSize('1.5GB')).toBe(1_500_000_000);
    expect(parseSize('300 mb')).toBe(300_000_000);
    expect(parseSize('20kB')).toBe(20_000);
  });
  it('reads MiB and GiB as binary', () => {
    expect(parseSize('240MiB')).toBe(240 * 2 ** 20);
    expect(parseSize('1GiB')).toBe(2 ** 30);
  });
  it('reads bare numbers as bytes', () => {
    expect(parseSize('1234')).toBe(1234);
    expect(parseSize(99)).toBe(99);
  });
  it('rejects what it cannot read', () => {
    expect(parseSize('big')).toBeUndefined();
    expect(parseSize('12 parsecs')).toBeUndefined();
    expect(parseSize('-5MB')).toBeUndefined();
    expect(parseSize(-1)).toBeUndefined();
  });
});

describe('parseDuration', () => {
  it('reads ms-style durations', () => {
    expect(parseDuration('5s')).toBe(5000);
    expect(parseDuration('1500ms')).toBe(1500);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('250')).toBe(250);
  });
  it('rejects what it cannot read', () => {
    expect(parseDuration('soon')).toBeUndefined();
    expect(parseDuration('-5s')).toBeUndefined();
  });
});

describe('formatting', () => {
  it('formats bytes in decimal units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(219_200_000)).toBe('219.2 MB');
    expect(formatBytes(1_380)).toBe('1.38 kB');
  });
  it('formats durations', () => {
    expect(formatMs(211)).toBe('211 ms');
    expect(formatMs(5000)).toBe('5.0 s');
  });
});

describe('parseDuration above the timer limit', () => {
  it('refuses durations longer than a Node timer can wait (2^31 - 1 ms), with a clear usage error', () => {
    expect(parseDuration(MAX_DURATION_MS)).toBe(2 ** 31 - 1);
    expect(parseDuration('24d')).toBe(24 * 86_400_000);
    for (const input of ['10000h', '30d', '1y', 2 ** 31]) {
      expect(() => parseDuration(input)).toThrow(DurationTooLongError);
      expect(() => parseDuration(input)).toThrow(UsageError);
    }
    expect(() => parseDuration('30d')).toThrow('Duration "30d" is too long: the longest is 24.8 days (2147483647 ms)');
  });
  it('still reads unreadable input as undefined', () => {
    expect(parseDuration('Infinity')).toBeUndefined();
    expect(parseDuration(Number.POSITIVE_INFINITY)).toBeUndefined();
  });
});
