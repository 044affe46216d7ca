// The build context's ignore file: which one applies, read as moby reads it (moby/patternmatcher
// ignorefile.ReadAll), and checked before any build as patternmatcher would check it when matching.
// Docker refuses a pattern Go's filepath.Match calls malformed (an unclosed [ class, a lone trailing \,
// ...) and one that its regexp compiler refuses (a reversed range, `\q`); we refuse them up front, naming
// the file, the line and the pattern, instead of letting a build fail later with "syntax error in pattern".
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { BadPatternError, filepathMatch, goClean } from './go-path.js';
import { compilePattern, PatternMatcher } from './patternmatcher.js';

export interface IgnorePattern {
  /** 1-based line in the file. */
  line: number;
  /** The line as written (trimmed), for messages. */
  written: string;
  /** As ReadAll gives it: cleaned, forward slashes, no leading '/', '!' kept in front. */
  pattern: string;
}

/** ignorefile.ReadAll: BOM, comments, trimming, `!`, Clean, no leading slash. */
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

/**
 * Why Docker refuses this pattern (a line of ReadAll's result): patternmatcher.New's check, then the
 * compile its first match makes. Undefined when Docker accepts it.
 */
export function ignorePatternProblem(raw: string): string | undefined {
  let p = raw.trim();
  if (!p) return undefined;
  p = goClean(p);
  if (p[0] === '!') {
    if (p.length === 1) return '"!" alone excludes nothing (write !path to keep a path)';
    p = p.slice(1);
  }
  try {
    filepathMatch(p, '.');
  } catch (err) {
    if (err instanceof BadPatternError) return err.reason;
    throw err;
  }
  return compilePattern(p).error?.reason;
}

/**
 * The patterns of an ignore file, or undefined when there is none. A pattern Docker would refuse is a
 * UsageError naming the file, the line and the pattern as written.
 */
export function readIgnoreFile(file: string): IgnorePattern[] | undefined {
  if (!existsSync(file) || !statSync(file).isFile()) return undefined;
  const patterns = parseIgnoreFile(readFileSync(file, 'utf8'));
  for (const p of patterns) {
    const problem = ignorePatternProblem(p.pattern);
    if (problem) throw new UsageError(`${file} line ${p.line}: ${JSON.stringify(p.written)} is not a valid pattern: ${problem}`);
  }
  return patterns;
}

export interface ContextIgnore {
  /** The ignore file that applies, relative to the context ("app.Dockerfile.dockerignore", ".dockerignore"); undefined: none. */
  file?: string;
  patterns: string[];
  matcher: PatternMatcher;
  /** Whether the file applied excludes this relative path (or a folder above it). */
  excludes(relativePath: string): boolean;
}

/**
 * The ignore rules of a context, as BuildKit's Dockerfile frontend picks them: `<Dockerfile>.dockerignore`
 * next to the Dockerfile in preference to the context's `.dockerignore`. Every builder of ours (the
 * classic one's tar too) and the layer-cache check use this one choice. Both files are checked, so a bad
 * pattern is refused whichever file a builder would read.
 */
export function contextIgnore(contextDir: string, dockerfile: string): ContextIgnore {
  const own = `${dockerfile}.dockerignore`;
  const ownPatterns = readIgnoreFile(path.join(contextDir, own));
  const sharedPatterns = readIgnoreFile(path.join(contextDir, '.dockerignore'));
  const [file, read] = ownPatterns ? [own, ownPatterns] : sharedPatterns ? ['.dockerignore', sharedPatterns] : [undefined, []];
  const patterns = read.map((p) => p.pattern);
  const matcher = new PatternMatcher(patterns);
  return { file, patterns, matcher, excludes: (relativePath) => matcher.matchesOrParentMatches(relativePath) };
}
