// Whether the terminal report is coloured (src/cli/run.ts colorWanted): only on a terminal that can show
// colour, and never when the user said no (--no-color, NO_COLOR) or the terminal cannot (TERM=dumb).
import { describe, expect, it } from 'vitest';
import { colorWanted } from '../../src/cli/run.js';

describe('colorWanted', () => {
  const tty = true;
  it('colours a terminal by default', () => {
    expect(colorWanted({ flag: true, env: { TERM: 'xterm-256color' }, isTTY: tty })).toBe(true);
    expect(colorWanted({ flag: true, env: {}, isTTY: tty })).toBe(true);
  });
  it('never colours what is not a terminal', () => {
    expect(colorWanted({ flag: true, env: { TERM: 'xterm' }, isTTY: false })).toBe(false);
  });
  it('does not colour a dumb terminal', () => {
    expect(colorWanted({ flag: true, env: { TERM: 'dumb' }, isTTY: tty })).toBe(false);
  });
  it('respects NO_COLOR when it is set to anything but the empty string (no-color.org)', () => {
    expect(colorWanted({ flag: true, env: { NO_COLOR: '1', TERM: 'xterm' }, isTTY: tty })).toBe(false);
    expect(colorWanted({ flag: true, env: { NO_COLOR: '0', TERM: 'xterm' }, isTTY: tty })).toBe(false);
    expect(colorWanted({ flag: true, env: { NO_COLOR: '', TERM: 'xterm' }, isTTY: tty })).toBe(true);
  });
  it('respects --no-color', () => {
    expect(colorWanted({ flag: false, env: { TERM: 'xterm' }, isTTY: tty })).toBe(false);
  });
});
