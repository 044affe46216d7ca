// Text that came from the audited app (log lines, probe output, build output) is shown in a terminal
// and written into reports (JUnit, SARIF, HTML, Markdown): it must not be able to move the cursor,
// recolour, retitle or clear a terminal, hide or reorder text with bidi or invisible characters, flood
// the screen, or make a report illegal (XML 1.0 forbids most C0 controls, U+FFFE, U+FFFF and lone
// surrogates). One module, so every quote of app output looks and is cut the same everywhere.

// ANSI/VT sequences, removed whole (their bodies too: an OSC title must not survive as "]0;TITLE"):
// CSI (ESC [ … final), OSC (ESC ] … BEL or ST), DCS/SOS/PM/APC strings (ESC P|X|^|_ … ST), two-byte
// escapes (ESC + one char), and their 8-bit forms: CSI U+009B, OSC U+009D, DCS/SOS/PM/APC U+0090,
// U+0098, U+009E, U+009F (each string ends at BEL, ST = ESC \ or U+009C, or the end of the text).
// eslint-disable-next-line no-control-regex
const ESCAPE_SEQUENCE = /\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x1b\x9c]*(?:\x1b\\|\x9c)?|\x1b[ -/]*[0-~]?/g;

// Shown as escapes: C0 and C1 controls, DEL; the bidi controls and marks (U+061C, U+200E/F, U+202A–E,
// U+2066–9) and the zero-width/invisible ones (U+200B–D, U+2060–4, U+FEFF); line and paragraph
// separators; interlinear annotation controls; the noncharacters U+FFFE/U+FFFF and U+FDD0–U+FDEF;
// lone surrogates (half a pair); and the invisible tag characters U+E0000–U+E007F (as their pairs).
// eslint-disable-next-line no-control-regex
const CONTROL = /\udb40[\udc00-\udc7f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufdd0-\ufdef\ufeff\ufff9-\ufffb\ufffe\uffff]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': ' ' };

/** `\u202e` for a BMP code point or a lone surrogate, `\u{e0041}` beyond the BMP. */
function escaped(char: string): string {
  const code = char.codePointAt(0)!;
  return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

function visible(char: string): string {
  return NAMED[char] ?? escaped(char);
}

function cut(text: string, maxChars: number): string {
  const chars = Array.from(text);
  if (chars.length <= maxChars) return text;
  return maxChars <= 0 ? '' : `${chars.slice(0, maxChars - 1).join('')}…`;
}

/**
 * `text` made safe to print on one terminal line: escape sequences removed, other control characters
 * shown as escapes (`\n`, `\u0007`; a tab as a space), then cut to at most `maxChars` characters
 * (code points, never half a surrogate pair), the cut marked with "…".
 */
export function sanitizeForTerminal(text: string, maxChars: number): string {
  return cut(String(text).replace(ESCAPE_SEQUENCE, '').replace(CONTROL, visible), maxChars);
}

/**
 * The same rules for text that keeps its lines (report bodies: JUnit, SARIF): line breaks (`\r\n` and
 * `\n`, as `\n`) and tabs stay, a lone `\r` is shown as `\r`; everything else as `sanitizeForTerminal`.
 * The result holds only characters XML 1.0 allows, none of them a control, bidi or invisible one.
 */
export function sanitizeMultiline(text: string, maxChars = Number.POSITIVE_INFINITY): string {
  const clean = String(text)
    .replace(ESCAPE_SEQUENCE, '')
    .replace(/\r\n/g, '\n')
    .replace(CONTROL, (char) => (char === '\n' || char === '\t' ? char : char === '\r' ? '\\r' : escaped(char)));
  return cut(clean, maxChars);
}
