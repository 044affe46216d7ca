// Reading a .dockerignore as Docker does (moby/patternmatcher/ignorefile.ReadAll), and checking each
// pattern as patternmatcher.New does before any build: Docker refuses a pattern that Go's filepath.Match
// calls ErrBadPattern (an unclosed [ class, a lone trailing \, ...), and one whose [a-z] range its regexp
// compiler refuses (a reversed range). We refuse them up front, naming the file, the line and the pattern,
// instead of letting a build fail later with "syntax error in pattern" (or our tar's matcher throw).
import { existsSync, readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { goClean } from '../docker/go-path.js';

export interface IgnorePattern {
  /** 1-based line in the file. */
  line: number;
  /** The line as written (trimmed), for messages. */
  written: string;
  /** As ReadAll gives it: cleaned, forward slashes, no leading '/', '!' kept in front. */
  pattern: string;
}


/** moby/patternmatcher/ignorefile.ReadAll: BOM, comments, trimming, `!`, Clean, no leading slash. */
export function parseIgnoreFile(text: string): IgnorePattern[] {
  const patterns: IgnorePattern[] = [];
  // bufio.Scanner's lines: split on \n, a trailing \r dropped.
  const lines = text.replace(/^\ufeff/, '').split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, index) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.startsWith('#')) return;
    let pattern = line.trim();
    if (!pattern) return;
    const written = pattern;
    const invert = pattern[0] === '!';
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = goClean(pattern);
      if (pattern.length > 1 && pattern[0] === '/') pattern = pattern.slice(1);
    }
    if (invert) pattern = `!${pattern}`;
    patterns.push({ line: index + 1, written, pattern });
  });
  return patterns;
}

const UNCLOSED = 'the [ class is not closed with ] (a literal [ is written \\[)';
const DASH = '"-" must sit between two characters in a [ class (a literal - is written \\-)';

/**
 * Why patternmatcher.New (or the regexp it compiles a pattern to) refuses this pattern, or undefined when
 * Docker accepts it. The pattern is a line of ReadAll's result.
 */
export function ignorePatternProblem(raw: string): string | undefined {
  let p = raw.trim();
  if (!p) return undefined;
  p = goClean(p);
  if (p[0] === '!') {
    if (p.length === 1) return '"!" alone excludes nothing (write !path to keep a path)';
    p = p.slice(1);
  }
  return globProblem(p);
}

/** filepath.Match's ErrBadPattern, on Unix (a \ escapes the next character), and reversed ranges. */
function globProblem(p: string): string | undefined {
  const chars = [...p];
  let i = 0;
  /** getEsc: one class character, maybe escaped; a class must go on after it (to its ]). */
  const classChar = (): { char: string } | { problem: string } => {
    if (i >= chars.length) return { problem: UNCLOSED };
    if (chars[i] === '-') return { problem: DASH };
    if (chars[i] === ']') return { problem: '"]" cannot start a [ class or a range (a literal ] is written \\])' };
    if (chars[i] === '\\') {
      i++;
      if (i >= chars.length) return { problem: UNCLOSED };
    }
    const char = chars[i++];
    if (i >= chars.length) return { problem: UNCLOSED };
    return { char };
  };
  while (i < chars.length) {
    const ch = chars[i];
    if (ch === '[') {
      i++;
      if (chars[i] === '^') i++;
      for (let ranges = 0; ; ranges++) {
        if (i < chars.length && chars[i] === ']' && ranges > 0) {
          i++;
          break;
        }
        const lo = classChar();
        if ('problem' in lo) return lo.problem;
        let hi: { char: string } = lo;
        if (chars[i] === '-') {
          i++;
          if (chars[i] === ']') return DASH;
          const end = classChar();
          if ('problem' in end) return end.problem;
          hi = end;
        }
        // filepath.Match accepts z-a (it matches nothing), but the regexp Docker compiles the pattern to does not.
        if (hi.char.codePointAt(0)! < lo.char.codePointAt(0)!) return `the range ${lo.char}-${hi.char} is reversed`;
      }
    } else if (ch === '\\') {
      i++;
      if (i >= chars.length) return 'it ends with a lone \\ (a literal \\ is written \\\\)';
      i++;
    } else i++;
  }
  return undefined;
}

/**
 * The patterns of an ignore file, or undefined when there is none. A pattern Docker would refuse is a
 * UsageError naming the file, the line and the pattern as written.
 */
export function readIgnoreFile(file: string): IgnorePattern[] | undefined {
  if (!existsSync(file)) return undefined;
  const patterns = parseIgnoreFile(readFileSync(file, 'utf8'));
  for (const p of patterns) {
    const problem = ignorePatternProblem(p.pattern);
    if (problem) throw new UsageError(`${file} line ${p.line}: ${JSON.stringify(p.written)} is not a valid pattern: ${problem}`);
  }
  return patterns;
}
