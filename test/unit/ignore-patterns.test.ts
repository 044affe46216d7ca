// The one .dockerignore matcher (src/dockerignore/), against moby's own tests carried over as table data:
// github.com/moby/patternmatcher at 5a6d8429a19bb6948a372ff19e86fe83599a04b7, patternmatcher_test.go
// (TestMatches, TestMatch's matchTests, TestCompile's compileTests, the TestCleanPatterns* and
// TestMatchesOrParentMatchesMalformedPattern… cases) and ignorefile/ignorefile_test.go (TestReadAll).
// Not carried: the Windows rows (`\` as the separator; the daemon walks Linux paths) and the subtest of
// the deprecated MatchesUsingParentResult (singular), an API fsutil no longer calls and we do not port.
// The deprecated top-level Matches(file, patterns) of TestMatch is taken as New + Clean + MatchesOrParentMatches
// (it differs only in checking one parent folder, at the pattern's depth; no row below tells them apart).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BadPatternError, goClean } from '../../src/dockerignore/go-path.js';
import { contextIgnore, parseIgnoreFile } from '../../src/dockerignore/ignorefile.js';
import { compilePattern, PatternMatcher, type MatchInfo, type MatchType } from '../../src/dockerignore/patternmatcher.js';

/** TestMatches' table: one pattern, one path, matched or not. */
const MATCHES: Array<[pattern: string, text: string, pass: boolean]> = [
  ['**', 'file', true],
  ['**', 'file/', true],
  ['**/', 'file', true], // weird one
  ['**/', 'file/', true],
  ['**', '/', true],
  ['**/', '/', true],
  ['**', 'dir/file', true],
  ['**/', 'dir/file', true],
  ['**', 'dir/file/', true],
  ['**/', 'dir/file/', true],
  ['**/**', 'dir/file', true],
  ['**/**', 'dir/file/', true],
  ['dir/**', 'dir/file', true],
  ['dir/**', 'dir/file/', true],
  ['dir/**', 'dir/dir2/file', true],
  ['dir/**', 'dir/dir2/file/', true],
  ['**/dir', 'dir', true],
  ['**/dir', 'dir/file', true],
  ['**/dir2/*', 'dir/dir2/file', true],
  ['**/dir2/*', 'dir/dir2/file/', true],
  ['**/dir2/**', 'dir/dir2/dir3/file', true],
  ['**/dir2/**', 'dir/dir2/dir3/file/', true],
  ['**file', 'file', true],
  ['**file', 'dir/file', true],
  ['**/file', 'dir/file', true],
  ['**file', 'dir/dir/file', true],
  ['**/file', 'dir/dir/file', true],
  ['**/file*', 'dir/dir/file', true],
  ['**/file*', 'dir/dir/file.txt', true],
  ['**/file*txt', 'dir/dir/file.txt', true],
  ['**/file*.txt', 'dir/dir/file.txt', true],
  ['**/file*.txt*', 'dir/dir/file.txt', true],
  ['**/**/*.txt', 'dir/dir/file.txt', true],
  ['**/**/*.txt2', 'dir/dir/file.txt', false],
  ['**/*.txt', 'file.txt', true],
  ['**/**/*.txt', 'file.txt', true],
  ['a**/*.txt', 'a/file.txt', true],
  ['a**/*.txt', 'a/dir/file.txt', true],
  ['a**/*.txt', 'a/dir/dir/file.txt', true],
  ['a/*.txt', 'a/dir/file.txt', false],
  ['a/*.txt', 'a/file.txt', true],
  ['a/*.txt**', 'a/file.txt', true],
  ['a[b-d]e', 'ae', false],
  ['a[b-d]e', 'ace', true],
  ['a[b-d]e', 'aae', false],
  ['a[^b-d]e', 'aze', true],
  ['.*', '.foo', true],
  ['.*', 'foo', false],
  ['abc.def', 'abcdef', false],
  ['abc.def', 'abc.def', true],
  ['abc.def', 'abcZdef', false],
  ['abc?def', 'abcZdef', true],
  ['abc?def', 'abcdef', false],
  ['a\\\\', 'a\\', true],
  ['**/foo/bar', 'foo/bar', true],
  ['**/foo/bar', 'dir/foo/bar', true],
  ['**/foo/bar', 'dir/dir2/foo/bar', true],
  ['abc/**', 'abc', false],
  ['abc/**', 'abc/def', true],
  ['abc/**', 'abc/def/ghi', true],
  ['**/.foo', '.foo', true],
  ['**/.foo', 'bar.foo', false],
  ['a(b)c/def', 'a(b)c/def', true],
  ['a(b)c/def', 'a(b)c/xyz', false],
  ['a.|)$(}+{bc', 'a.|)$(}+{bc', true],
  ['dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', true],
  ['dist/*.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', true],
  // Upstream adds this one when not on Windows.
  ['a\\*b', 'a*b', true],
];

/** TestMatches' multiPatternTests: patterns in order (exceptions included), one path. */
const MULTI: Array<[patterns: string[], text: string, pass: boolean]> = [
  [['**', '!util/docker/web'], 'util/docker/web/foo', false],
  [['**', '!util/docker/web', 'util/docker/web/foo'], 'util/docker/web/foo', true],
  [['**', '!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', false],
  [['**', '!dist/*.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', false],
];

/** TestMatch's matchTests (Go's filepath Match tests, as patternmatcher keeps them): 'bad' is ErrBadPattern. */
const MATCH_TESTS: Array<[pattern: string, s: string, match: boolean | 'bad']> = [
  ['abc', 'abc', true],
  ['*', 'abc', true],
  ['*c', 'abc', true],
  ['a*', 'a', true],
  ['a*', 'abc', true],
  ['a*', 'ab/c', true],
  ['a*/b', 'abc/b', true],
  ['a*/b', 'a/c/b', false],
  ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
  ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false],
  ['a*b?c*x', 'abxbbxdbxebxczzx', true],
  ['a*b?c*x', 'abxbbxdbxebxczzy', false],
  ['ab[c]', 'abc', true],
  ['ab[b-d]', 'abc', true],
  ['ab[e-g]', 'abc', false],
  ['ab[^c]', 'abc', false],
  ['ab[^b-d]', 'abc', false],
  ['ab[^e-g]', 'abc', true],
  ['a\\*b', 'a*b', true],
  ['a\\*b', 'ab', false],
  ['a?b', 'a☺b', true],
  ['a[^a]b', 'a☺b', true],
  ['a???b', 'a☺b', false],
  ['a[^a][^a][^a]b', 'a☺b', false],
  ['[a-ζ]*', 'α', true],
  ['*[a-ζ]', 'A', false],
  ['a?b', 'a/b', false],
  ['a*b', 'a/b', false],
  ['[\\]a]', ']', true],
  ['[\\-]', '-', true],
  ['[x\\-]', 'x', true],
  ['[x\\-]', '-', true],
  ['[x\\-]', 'z', false],
  ['[\\-x]', 'x', true],
  ['[\\-x]', '-', true],
  ['[\\-x]', 'a', false],
  ['[]a]', ']', 'bad'],
  ['[-]', '-', 'bad'],
  ['[x-]', 'x', 'bad'],
  ['[x-]', '-', 'bad'],
  ['[x-]', 'z', 'bad'],
  ['[-x]', 'x', 'bad'],
  ['[-x]', '-', 'bad'],
  ['[-x]', 'a', 'bad'],
  ['\\', 'a', 'bad'],
  ['[a-b-c]', 'a', 'bad'],
  ['[', 'a', 'bad'],
  ['[^', 'a', 'bad'],
  ['[^bc', 'a', 'bad'],
  ['a[', 'a', 'bad'], // upstream: "was nil but IMO its wrong"
  ['a[', 'ab', 'bad'],
  ['*x', 'xxx', true],
];

/** TestCompile's compileTests (the "/" separator): the match type and, for 'regexp', upstream's Go source. */
const COMPILE_TESTS: Array<[pattern: string, type: MatchType, source: string]> = [
  ['*', 'regexp', '^[^/]*$'],
  ['file*', 'regexp', '^file[^/]*$'],
  ['*file', 'regexp', '^[^/]*file$'],
  ['a*/b', 'regexp', '^a[^/]*/b$'],
  ['**', 'suffix', ''],
  ['**/**', 'regexp', '^(.*/)?.*$'],
  ['dir/**', 'prefix', ''],
  ['**/dir', 'suffix', ''],
  ['**/dir2/*', 'regexp', '^(.*/)?dir2/[^/]*$'],
  ['**/dir2/**', 'regexp', '^(.*/)?dir2/.*$'],
  ['**file', 'suffix', ''],
  ['**/file*txt', 'regexp', '^(.*/)?file[^/]*txt$'],
  ['**/**/*.txt', 'regexp', '^(.*/)?(.*/)?[^/]*\\.txt$'],
  ['a[b-d]e', 'regexp', '^a[b-d]e$'],
  ['.*', 'regexp', '^\\.[^/]*$'],
  ['abc.def', 'exact', ''],
  ['abc?def', 'regexp', '^abc[^/]def$'],
  ['**/foo/bar', 'suffix', ''],
  ['a(b)c/def', 'exact', ''],
  ['a.|)$(}+{bc', 'exact', ''],
  ['dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'exact', ''],
];

/** Upstream's top-level Matches(file, patterns): New, Clean the file, "." never matches. */
function matches(file: string, patterns: string[]): boolean {
  const pm = new PatternMatcher(patterns);
  const cleaned = goClean(file);
  return cleaned !== '.' && pm.matchesOrParentMatches(cleaned);
}

/** The walk's way: each parent folder's MatchInfo handed to the next (TestMatches/MatchesUsingParentResults). */
function matchesWalking(pm: PatternMatcher, text: string): boolean {
  const slash = text.lastIndexOf('/');
  const parent = slash < 0 ? '.' : goClean(text.slice(0, slash) || '/');
  let info: MatchInfo | undefined;
  if (parent !== '.') {
    const dirs = parent.split('/');
    for (let i = 0; i < dirs.length; i++) info = pm.matchesUsingParentResults(dirs.slice(0, i + 1).join('/'), info)[1];
  }
  return pm.matchesUsingParentResults(text, info)[0];
}

const cases: Array<[string[], string, boolean]> = [...MATCHES.map(([p, t, pass]): [string[], string, boolean] => [[p], t, pass]), ...MULTI];

describe('moby/patternmatcher TestMatches', () => {
  it.each(cases)('MatchesOrParentMatches(%j, %j) is %s', (patterns, text, pass) => {
    expect(new PatternMatcher(patterns).matchesOrParentMatches(text)).toBe(pass);
  });
  it.each(cases)('MatchesUsingParentResults(%j, %j), parents first, is %s', (patterns, text, pass) => {
    expect(matchesWalking(new PatternMatcher(patterns), text)).toBe(pass);
  });
  it.each(cases)('MatchesUsingParentResults(%j, %j) without parent results is %s', (patterns, text, pass) => {
    expect(new PatternMatcher(patterns).matchesUsingParentResults(text)[0]).toBe(pass);
  });
});

describe('moby/patternmatcher TestMatch (Go filepath.Match cases)', () => {
  it.each(MATCH_TESTS)('Matches(%j against %j) is %s', (pattern, s, match) => {
    if (match === 'bad') expect(() => matches(s, [pattern])).toThrow(BadPatternError);
    else expect(matches(s, [pattern])).toBe(match);
  });
});

describe('moby/patternmatcher TestCompile', () => {
  it.each(COMPILE_TESTS)('compiles %j as a %s match', (pattern, type, source) => {
    const compiled = compilePattern(goClean(pattern));
    expect(compiled.type).toBe(type);
    if (type === 'regexp') expect(compiled.source).toBe(source);
    expect(compiled.error).toBeUndefined();
  });
});

describe('moby/patternmatcher: the other cases', () => {
  it('matches with a wildcard, a plain pattern, and exceptions in order (TestWildcardMatches … TestExclusionPatternMatchesPatternAfter)', () => {
    expect(matches('fileutils.go', ['*'])).toBe(true);
    expect(matches('fileutils.go', ['*.go'])).toBe(true);
    expect(matches('fileutils.go', ['!fileutils.go', '*.go'])).toBe(true);
    expect(matches('docs/README.md', ['docs', '!docs/README.md'])).toBe(false);
    expect(matches('docs/README.md', ['docs/', '!docs/README.md'])).toBe(false);
    expect(matches('docs/README.md', ['docs/*', '!docs/README.md'])).toBe(false);
    expect(matches('fileutils.go', ['*.go', '!fileutils.go'])).toBe(false);
  });
  it('never matches "." and nothing with no patterns (TestExclusionPatternMatchesWholeDirectory, TestMatchesWithNoPatterns)', () => {
    expect(matches('.', ['*.go'])).toBe(false);
    expect(matches('/any/path/there', [])).toBe(false);
  });
  it('refuses "!" alone and a malformed pattern (TestSingleExclamationError, TestCleanPatternsErrorSingleException, TestMatchesWithMalformedPatterns)', () => {
    expect(() => matches('fileutils.go', ['!'])).toThrow('illegal exclusion pattern: "!"');
    expect(() => new PatternMatcher(['!'])).toThrow();
    expect(() => matches('/any/path/there', ['['])).toThrow('syntax error in pattern');
  });
  it('cleans patterns: empty ones dropped, spaces trimmed, exceptions noted (TestCleanPatterns*)', () => {
    expect(new PatternMatcher(['docs', 'config']).patterns).toHaveLength(2);
    expect(new PatternMatcher(['docs', 'config', '']).patterns).toHaveLength(2);
    expect(new PatternMatcher(['docs', '!docs/README.md']).exclusions).toBe(true);
    expect(new PatternMatcher(['docs', '  !docs/README.md']).exclusions).toBe(true);
    expect(new PatternMatcher(['docs', '!docs/README.md  ']).exclusions).toBe(true);
  });
  it('accepts a pattern its regexp refuses, then fails every match of it (TestMatchesOrParentMatchesMalformedPatternDoesNotPanicOnRepeatedCall)', () => {
    const pm = new PatternMatcher(['[Local-Only]/']);
    expect(() => pm.matchesOrParentMatches('x')).toThrow(new BadPatternError('').message);
    expect(() => pm.matchesOrParentMatches('x')).toThrow(BadPatternError);
  });
});

describe('moby/patternmatcher/ignorefile TestReadAll', () => {
  it('reads comments, blank lines, leading slashes and exceptions as ReadAll does', () => {
    expect(parseIgnoreFile('')).toEqual([]);
    const content = 'test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! ';
    expect(parseIgnoreFile(content).map((p) => p.pattern)).toEqual(['test1', 'test2', 'a/file/here', 'lastfile', '!inverted/abs/path', '!', '!']);
  });
});

// Ours, from Go's regexp/syntax (the regexp a pattern compiles to keeps Go's meaning, not JavaScript's).
describe('the regexp a pattern compiles to, read as Go reads it', () => {
  it.each([
    ['a\\d', 'a5', true],
    ['a\\d', 'ad', false],
    ['[[:alpha:]]', 'x', true],
    ['[[:alpha:]]', '1', false],
    ['[[:^alpha:]]', '1', true],
    ['a\\x41', 'aA', true],
    ['x]', 'x]', true],
    ['a[\\]]b', 'a]b', true],
    ['*.\\w', 'f.js', false],
    ['**/\\w*', 'src/a', true],
  ] as const)('%j matches %j: %s', (pattern, path, expected) => {
    expect(new PatternMatcher([pattern]).matchesOrParentMatches(path)).toBe(expected);
  });
  it.each(['[[:alpha:]', '\\q', '[z-a]', '[[:nope:]]', 'a\\1', '\\C'])('refuses %j when it matches, as Go regexp.Compile does', (pattern) => {
    const pm = new PatternMatcher([pattern]);
    expect(() => pm.matchesOrParentMatches('x')).toThrow(BadPatternError);
  });
});

describe('which ignore file applies: one choice for every builder and for layer-cache', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'context-ignore-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'docker'));
  writeFileSync(path.join(dir, '.dockerignore'), 'node_modules\n');
  writeFileSync(path.join(dir, 'app.Dockerfile.dockerignore'), 'node_modules\nserver.js\n');
  writeFileSync(path.join(dir, 'docker/web.Dockerfile.dockerignore'), 'src/legacy\n');

  it('takes <Dockerfile>.dockerignore in preference to .dockerignore', () => {
    const ignore = contextIgnore(dir, 'app.Dockerfile');
    expect(ignore.file).toBe('app.Dockerfile.dockerignore');
    expect(ignore.excludes('server.js')).toBe(true);
    expect(ignore.excludes('src/server.js')).toBe(false);
  });
  it('finds it next to a Dockerfile in a subfolder', () => {
    const ignore = contextIgnore(dir, 'docker/web.Dockerfile');
    expect(ignore.file).toBe('docker/web.Dockerfile.dockerignore');
    expect(ignore.excludes('src/legacy/a.js')).toBe(true);
    expect(ignore.excludes('node_modules/x/index.js')).toBe(false);
  });
  it('falls back to .dockerignore, and to nothing', () => {
    expect(contextIgnore(dir, 'Dockerfile').file).toBe('.dockerignore');
    expect(contextIgnore(dir, 'Dockerfile').excludes('node_modules/x')).toBe(true);
    const empty = mkdtempSync(path.join(os.tmpdir(), 'context-ignore-none-'));
    expect(contextIgnore(empty, 'Dockerfile')).toMatchObject({ file: undefined, patterns: [] });
    rmSync(empty, { recursive: true, force: true });
  });
});
