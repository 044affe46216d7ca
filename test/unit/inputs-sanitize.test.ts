import { describe, expect, it } from 'vitest';
import { sanitizeForTerminal } from '../../src/report/sanitize.js';

describe('sanitizeForTerminal', () => {
  it('removes ANSI escape sequences: colours, cursor moves, screen clears, titles, hyperlinks', () => {
    expect(sanitizeForTerminal('\x1b[31mred\x1b[0m \x1b[2J\x1b[Hcleared', 100)).toBe('red cleared');
    expect(sanitizeForTerminal('\x1b]0;pwned title\x07after', 100)).toBe('after');
    expect(sanitizeForTerminal('\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\', 100)).toBe('link');
    expect(sanitizeForTerminal('a\x9b2Kb \x1bcreset \x1b(Bdone\x1b', 100)).toBe('ab reset done');
  });
  it('shows other control characters as escapes, on one line', () => {
    expect(sanitizeForTerminal('line1\nline2\r\nbell\x07 tab\there\x7f', 100)).toBe('line1\\nline2\\r\\nbell\\u0007 tab here\\u007f');
    expect(sanitizeForTerminal('abc\u202Egnp.exe', 100)).toBe('abc\\u202egnp.exe');
  });
  it('cuts at maxChars code points, marking the cut, never splitting a surrogate pair', () => {
    expect(sanitizeForTerminal('short', 5)).toBe('short');
    expect(sanitizeForTerminal('abcdef', 5)).toBe('abcd…');
    expect(sanitizeForTerminal('😀😀😀😀', 3)).toBe('😀😀…');
    expect(sanitizeForTerminal('x'.repeat(10_000), 200)).toHaveLength(200);
    expect(sanitizeForTerminal('abc', 0)).toBe('');
  });
  it('cuts after escaping, so the limit holds for what reaches the terminal', () => {
    expect(sanitizeForTerminal('\x1b[31m' + 'y'.repeat(50), 10)).toBe('yyyyyyyyy…');
  });
});
