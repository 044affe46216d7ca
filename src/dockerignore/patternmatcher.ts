// moby/patternmatcher (github.com/moby/patternmatcher, patternmatcher.go; moby 20.10's pkg/fileutils is
// the same algorithm): the one matcher of .dockerignore patterns here, for the classic builder's tar
// (src/target/context.ts), the BuildKit session's walk (src/docker/buildkit/walk.ts) and the file the
// layer-cache check changes. Its own tests are upstream's, carried over in test/unit/ignore-patterns.test.ts.
import { BadPatternError, filepathMatch, goClean } from './go-path.js';
import { goRegexp } from './go-regexp.js';

export type MatchType = 'exact' | 'prefix' | 'suffix' | 'regexp';

export class Pattern {
  readonly exclusion: boolean;
  /** The pattern after Clean, without its leading '!'. */
  readonly cleaned: string;
  private compiled?: { type: MatchType; regexp?: RegExp; error?: BadPatternError };

  constructor(cleaned: string, exclusion: boolean) {
    this.cleaned = cleaned;
    this.exclusion = exclusion;
  }

  /** Pattern.match: compiled on first use, as upstream; a pattern Go's regexp refuses throws each time. */
  match(path: string): boolean {
    this.compiled ??= compilePattern(this.cleaned);
    const { type, regexp, error } = this.compiled;
    if (error) throw error;
    const p = this.cleaned;
    switch (type) {
      case 'exact':
        return path === p;
      case 'prefix':
        // strip the trailing **
        return path.startsWith(p.slice(0, -2));
      case 'suffix': {
        // strip the leading **; "**/foo" matches "foo"
        const suffix = p.slice(2);
        return path.endsWith(suffix) || (suffix[0] === '/' && path === suffix.slice(1));
      }
      case 'regexp':
        return regexp!.test(path);
    }
  }
}

/** Whether each pattern matched the parent folder (patternmatcher.MatchInfo); undefined: not known. */
export interface MatchInfo {
  parentMatched: boolean[];
}

export class PatternMatcher {
  readonly patterns: Pattern[] = [];
  /** Whether any pattern is an exception (`!path`). */
  readonly exclusions: boolean = false;

  /** patternmatcher.New: trims, drops empty patterns, Cleans, and refuses what filepath.Match calls malformed. */
  constructor(patterns: readonly string[]) {
    for (const raw of patterns) {
      let p = raw.trim();
      if (!p) continue;
      p = goClean(p);
      let exclusion = false;
      if (p[0] === '!') {
        if (p.length === 1) throw new Error('illegal exclusion pattern: "!"');
        exclusion = true;
        p = p.slice(1);
        this.exclusions = true;
      }
      filepathMatch(p, '.');
      this.patterns.push(new Pattern(p, exclusion));
    }
  }

  /** MatchesOrParentMatches: does the path, or a folder above it, match (exceptions applied in order)? */
  matchesOrParentMatches(file: string): boolean {
    const parentDirs = parentsOf(file);
    let matched = false;
    for (const pattern of this.patterns) {
      // An inclusion once matched, or an exception before any match, changes nothing.
      if (pattern.exclusion !== matched) continue;
      let match = pattern.match(file);
      for (const dir of parentDirs) {
        if (match) break;
        match = matchQuietly(pattern, dir);
      }
      if (match) matched = !pattern.exclusion;
    }
    return matched;
  }

  /**
   * MatchesUsingParentResults: the same answer, reusing what the parent folder's call found (a walk
   * passes each folder's MatchInfo to its entries); without it, as matchesOrParentMatches.
   */
  matchesUsingParentResults(file: string, parent?: MatchInfo): [boolean, MatchInfo] {
    const parentMatched = parent?.parentMatched ?? [];
    if (parentMatched.length && parentMatched.length !== this.patterns.length) throw new Error('wrong number of values in parentMatched');
    let matched = false;
    const info: MatchInfo = { parentMatched: new Array<boolean>(this.patterns.length).fill(false) };
    this.patterns.forEach((pattern, i) => {
      let match = parentMatched.length ? parentMatched[i] : false;
      if (!match) {
        if (pattern.exclusion !== matched) return;
        match = pattern.match(file);
        if (!match && !parentMatched.length) {
          for (const dir of parentsOf(file)) {
            match = matchQuietly(pattern, dir);
            if (match) break;
          }
        }
      }
      info.parentMatched[i] = match;
      if (match) matched = !pattern.exclusion;
    });
    return [matched, info];
  }
}

/** Upstream ignores the error of a parent's match (`match, _ = pattern.match(...)`). */
function matchQuietly(pattern: Pattern, path: string): boolean {
  try {
    return pattern.match(path);
  } catch {
    return false;
  }
}

/** "a", "a/b" for "a/b/c": each folder above the path, outermost first (none for a top-level name). */
function parentsOf(file: string): string[] {
  const slash = file.lastIndexOf('/');
  // filepath.Dir: "." without a slash; the root "/" for "/x".
  const parent = slash < 0 ? '.' : goClean(file.slice(0, slash) || '/');
  if (parent === '.') return [];
  const dirs = parent.split('/');
  return dirs.map((_, i) => dirs.slice(0, i + 1).join('/'));
}

/**
 * Pattern.compile: the match type, and for 'regexp' the expression upstream builds (its Go source,
 * which upstream's TestCompile compares) compiled with Go's syntax.
 */
export function compilePattern(cleaned: string): { type: MatchType; source?: string; regexp?: RegExp; error?: BadPatternError } {
  let source = '^';
  let type: MatchType = 'exact';
  const chars = [...cleaned];
  for (let i = 0, at = 0; at < chars.length; i++) {
    const ch = chars[at++];
    if (ch === '*') {
      if (chars[at] === '*') {
        at++;
        // "**/" is "**": the slash is eaten.
        if (chars[at] === '/') at++;
        if (at >= chars.length) {
          // "**" at the end: everything below (as .gitignore).
          if (type === 'exact') type = 'prefix';
          else {
            source += '.*';
            type = 'regexp';
          }
        } else {
          source += '(.*/)?';
          type = 'regexp';
        }
        if (i === 0) type = 'suffix';
      } else {
        source += '[^/]*';
        type = 'regexp';
      }
    } else if (ch === '?') {
      source += '[^/]';
      type = 'regexp';
    } else if ('.+()|{}$'.includes(ch)) {
      source += `\\${ch}`;
    } else if (ch === '\\') {
      if (at < chars.length) {
        source += `\\${chars[at++]}`;
        type = 'regexp';
      } else {
        source += '\\';
      }
    } else if (ch === '[' || ch === ']') {
      source += ch;
      type = 'regexp';
    } else {
      source += ch;
    }
  }
  if (type !== 'regexp') return { type };
  source += '$';
  try {
    return { type, source, regexp: goRegexp(source) };
  } catch (err) {
    if (err instanceof BadPatternError) return { type, source, error: err };
    throw err;
  }
}
