// Sizes and durations as people write them on the command line, and as reports print them.
// Sizes use Docker's convention: kB/MB/GB are decimal (what `docker images` shows), KiB/MiB/GiB
// binary. The `bytes` package reads "MB" as 2^20, which would disagree with Docker's own numbers.
import ms from 'ms';
import { UsageError } from './errors.js';

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** '250MB' → 250000000, '1.5GiB' → 1610612736, 1234 → 1234; undefined when unreadable. */
export function parseSize(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? Math.round(input) : undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(input);
  if (!match) return undefined;
  const unit = (match[2] || 'b').toLowerCase();
  const factor = SIZE_UNITS[unit] ?? SIZE_UNITS[`${unit}b`];
  return factor === undefined ? undefined : Math.round(Number(match[1]) * factor);
}

/** The longest delay Node's timers can wait (2^31 - 1 ms, about 24.8 days): a longer one fires at once. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** A duration that reads well but is longer than any wait can be: a usage error, whoever parses it. */
export class DurationTooLongError extends UsageError {
  constructor(readonly input: string | number) {
    super(`Duration "${input}" is too long: the longest is 24.8 days (${MAX_DURATION_MS} ms), the limit of Node's timers`);
  }
}

/**
 * '5s' → 5000, '1500ms' → 1500, '2m' → 120000, 300 → 300; a bare number string is milliseconds.
 * undefined when unreadable; throws DurationTooLongError above MAX_DURATION_MS (every wait is a timer).
 */
export function parseDuration(input: string | number): number | undefined {
  let value: number | undefined;
  if (typeof input === 'number') value = input;
  else if (typeof input === 'string') value = ms(input.trim() as ms.StringValue) as number | undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return undefined;
  if (value > MAX_DURATION_MS) throw new DurationTooLongError(input);
  return value;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 'B';
  for (const next of units) {
    if (value < 1000) break;
    value /= 1000;
    unit = next;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${unit}`;
}

export function formatMs(milliseconds: number): string {
  return milliseconds < 1000 ? `${Math.round(milliseconds)} ms` : `${(milliseconds / 1000).toFixed(1)} s`;
}
