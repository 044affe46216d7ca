// Text that came from the audited app (log lines, probe output, build output) is shown in a terminal:
// it must not be able to move the cursor, recolour, retitle or clear it, hide text with bidi
// controls, or flood the screen. One helper, so every quote of app output looks and is cut the same.

// ANSI/VT sequences: CSI (ESC [ … final), OSC (ESC ] … BEL or ST), DCS/SOS/PM/APC strings (ESC P|X|^|_ … ST),
// two-byte escapes (ESC + one char), and the 8-bit CSI (U+009B).
// eslint-disable-next-line no-control-regex
const ESCAPE_SEQUENCE = /\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b[ -/]*[0-~]?/g;
// C0 and C1 controls, DEL, and the bidi/zero-width controls that reorder or hide text.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': ' ' };

function visible(char: string): string {
  return NAMED[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * `text` made safe to print on one terminal line: escape sequences removed, other control characters
 * shown as escapes (`\n`, `\u0007`; a tab as a space), then cut to at most `maxChars` characters
 * (code points, never half a surrogate pair), the cut marked with "…".
 */
export function sanitizeForTerminal(text: string, maxChars: number): string {
  const clean = String(text).replace(ESCAPE_SEQUENCE, '').replace(CONTROL, visible);
  const chars = Array.from(clean);
  if (chars.length <= maxChars) return clean;
  return maxChars <= 0 ? '' : `${chars.slice(0, maxChars - 1).join('')}…`;
}
