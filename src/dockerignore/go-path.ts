// Go's path.Clean and path/filepath.Match (Unix), as moby's pattern matcher and fsutil call them: the
// matcher cleans and validates every pattern with them, and fsutil's followpaths expand a wildcard with
// Match. Ported from Go 1.17+ (src/path/path.go, src/path/filepath/match.go), where Match checks the
// whole pattern's syntax even after a mismatch.

/** Go's path.Clean (forward slashes; the context's patterns are slash-separated). */
export function goClean(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  return rooted ? `/${joined}` : joined || '.';
}

/** filepath.ErrBadPattern ("syntax error in pattern"), with why in words for a person. */
export class BadPatternError extends Error {
  constructor(readonly reason: string) {
    super('syntax error in pattern');
    this.name = 'BadPatternError';
  }
}

export const UNCLOSED_CLASS = 'the [ class is not closed with ] (a literal [ is written \\[)';
const MISPLACED_DASH = '"-" must sit between two characters in a [ class (a literal - is written \\-)';
const LEADING_BRACKET = '"]" cannot start a [ class or a range (a literal ] is written \\])';
const LONE_BACKSLASH = 'it ends with a lone \\ (a literal \\ is written \\\\)';

/**
 * filepath.Match on Unix: does the whole name match the shell pattern (`*` and `?` never match '/')?
 * A malformed pattern throws BadPatternError, whatever the name.
 */
export function filepathMatch(pattern: string, name: string): boolean {
  let pat = [...pattern];
  let s = [...name];
  pattern: while (pat.length > 0) {
    const { star, chunk, rest } = scanChunk(pat);
    pat = rest;
    if (star && chunk.length === 0) return !s.includes('/');
    const here = matchChunk(chunk, s);
    if (here && (here.length === 0 || pat.length > 0)) {
      s = here;
      continue;
    }
    if (star) {
      for (let i = 0; i < s.length && s[i] !== '/'; i++) {
        const t = matchChunk(chunk, s.slice(i + 1));
        if (t) {
          if (pat.length === 0 && t.length > 0) continue;
          s = t;
          continue pattern;
        }
      }
    }
    // Before answering false: the rest of the pattern must still be well formed.
    while (pat.length > 0) {
      const next = scanChunk(pat);
      pat = next.rest;
      matchChunk(next.chunk, []);
    }
    return false;
  }
  return s.length === 0;
}

function scanChunk(pattern: string[]): { star: boolean; chunk: string[]; rest: string[] } {
  let at = 0;
  let star = false;
  while (at < pattern.length && pattern[at] === '*') {
    at++;
    star = true;
  }
  const p = pattern.slice(at);
  let inRange = false;
  let i = 0;
  scan: for (; i < p.length; i++) {
    switch (p[i]) {
      case '\\':
        if (i + 1 < p.length) i++;
        break;
      case '[':
        inRange = true;
        break;
      case ']':
        inRange = false;
        break;
      case '*':
        if (!inRange) break scan;
        break;
    }
  }
  return { star, chunk: p.slice(0, i), rest: p.slice(i) };
}

/** The rest of s after the chunk, or undefined when it does not match; throws on a malformed chunk. */
function matchChunk(chunkIn: string[], sIn: string[]): string[] | undefined {
  let chunk = chunkIn;
  let s = sIn;
  // After a mismatch the chunk is still read to the end, for its syntax only.
  let failed = false;
  while (chunk.length > 0) {
    if (!failed && s.length === 0) failed = true;
    const head = chunk[0];
    if (head === '[') {
      let r = '';
      if (!failed) {
        r = s[0];
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
      let negated = false;
      if (chunk[0] === '^') {
        negated = true;
        chunk = chunk.slice(1);
      }
      let match = false;
      for (let ranges = 0; ; ranges++) {
        if (chunk[0] === ']' && ranges > 0) {
          chunk = chunk.slice(1);
          break;
        }
        const lo = getEsc(chunk);
        chunk = lo.rest;
        let hi = lo.char;
        if (chunk[0] === '-') {
          const end = getEsc(chunk.slice(1), true);
          chunk = end.rest;
          hi = end.char;
        }
        if (!failed && lo.char.codePointAt(0)! <= r.codePointAt(0)! && r.codePointAt(0)! <= hi.codePointAt(0)!) match = true;
      }
      if (match === negated) failed = true;
    } else if (head === '?') {
      if (!failed) {
        if (s[0] === '/') failed = true;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
    } else {
      if (head === '\\') {
        chunk = chunk.slice(1);
        if (chunk.length === 0) throw new BadPatternError(LONE_BACKSLASH);
      }
      if (!failed) {
        if (chunk[0] !== s[0]) failed = true;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
    }
  }
  return failed ? undefined : s;
}

/** One class character, maybe escaped; the class must go on after it. */
function getEsc(chunkIn: string[], afterDash = false): { char: string; rest: string[] } {
  let chunk = chunkIn;
  if (chunk.length === 0) throw new BadPatternError(UNCLOSED_CLASS);
  if (chunk[0] === '-' || (chunk[0] === ']' && afterDash)) throw new BadPatternError(MISPLACED_DASH);
  if (chunk[0] === ']') throw new BadPatternError(LEADING_BRACKET);
  if (chunk[0] === '\\') {
    chunk = chunk.slice(1);
    if (chunk.length === 0) throw new BadPatternError(UNCLOSED_CLASS);
  }
  // Go's utf8.RuneError of an invalid byte cannot occur: the text is already decoded.
  const rest = chunk.slice(1);
  if (rest.length === 0) throw new BadPatternError(UNCLOSED_CLASS);
  return { char: chunk[0], rest };
}
