// The build context's inputs a user can get wrong, refused before any build with exit 2 (UsageError):
// a .dockerignore pattern Docker would reject, and a Dockerfile that is a symlink leading out of the context.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { PatternMatcher } from '../../src/dockerignore/patternmatcher.js';
import { resolveContext } from '../../src/target/context.js';
import { ignorePatternProblem } from '../../src/dockerignore/ignorefile.js';

function makeContext(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ctx-inputs-'));
  for (const [name, content] of Object.entries({ Dockerfile: 'FROM scratch\n', 'app.js': '1', ...files })) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

/** The UsageError resolveContext throws, or undefined. */
function refusal(dir: string, dockerfile?: string): UsageError | undefined {
  try {
    resolveContext(dir, dockerfile);
    return undefined;
  } catch (err) {
    if (err instanceof UsageError) return err;
    throw err;
  }
}

describe('.dockerignore patterns that Docker rejects', () => {
  it('refuses an unclosed [ with a usage error naming the file, the line and the pattern', () => {
    const dir = makeContext({ '.dockerignore': '# deps\nnode_modules\n\n[\n*.log\n' });
    const error = refusal(dir);
    expect(error).toBeInstanceOf(UsageError);
    expect(error!.message).toBe(
      `${path.join(dir, '.dockerignore')} line 4: "[" is not a valid pattern: the [ class is not closed with ] (a literal [ is written \\[)`,
    );
  });

  it('checks every line as moby/patternmatcher does (filepath.Match syntax after Clean, then the regexp it compiles)', () => {
    const bad: Record<string, RegExp> = {
      '[': /not closed/,
      'src/[a': /not closed/,
      '[]': /"\]" cannot start/,
      '[^]x': /"\]" cannot start/,
      '[-a]': /"-"/,
      '[a-]': /"-"/,
      'a\\': /lone \\/,
      '[a\\': /not closed/,
      '[z-a]': /reversed/,
      // Valid for filepath.Match, refused by the regexp Docker compiles the pattern to (when it matches).
      '[[:alpha:]': /not closed/,
      'a\\q': /\\q is not an escape/,
      '!': /"!" alone/,
      '! ': /"!" alone/,
    };
    for (const [pattern, reason] of Object.entries(bad)) expect(ignorePatternProblem(pattern), pattern).toMatch(reason);
    const good = ['node_modules', '*.log', '**/*.tmp', '!keep.log', '[abc]', '[^a-c]x', '[]a]'.slice(1), 'a\\[b', 'x]', '[\\]]', 'foo(', 'a+b', '{x}', '/abs', '[[:alpha:]]', 'a\\d'];
    for (const pattern of good) expect(ignorePatternProblem(pattern), pattern).toBeUndefined();
  });

  it('matches ( ) + as plain characters for the classic builder path, as Docker does', async () => {
    // Valid for Docker: parentheses and plus are plain characters in .dockerignore.
    const dir = makeContext({ '.dockerignore': 'foo(\na+b\n(x)\n', 'foo(': 'x', 'a+b': 'x', 'aab': 'x', '(x)': 'x' });
    const context = resolveContext(dir);
    expect(context.isSent('foo(')).toBe(false);
    expect(context.isSent('a+b')).toBe(false);
    expect(context.isSent('aab')).toBe(true);
    expect(context.isSent('(x)')).toBe(false);
    expect(context.isSent('app.js')).toBe(true);
  });

  it('lets the BuildKit session walk match what Docker accepts: a ] outside a class is a plain character', () => {
    // Go's regexp reads "x]" as the two characters; a JavaScript regexp with the u flag refuses a lone ].
    const matcher = new PatternMatcher(['x]', 'foo(', 'a[]]b'.replace('[]]', '[\\]]')]);
    expect(matcher.matchesOrParentMatches('x]')).toBe(true);
    expect(matcher.matchesOrParentMatches('x')).toBe(false);
    expect(matcher.matchesOrParentMatches('foo(')).toBe(true);
    expect(matcher.matchesOrParentMatches('a]b')).toBe(true);
  });

  it("refuses a bad pattern in the Dockerfile's own ignore file (BuildKit reads <Dockerfile>.dockerignore first)", () => {
    const dir = makeContext({ 'docker/prod.Dockerfile': 'FROM scratch\n', 'docker/prod.Dockerfile.dockerignore': 'ok\nsrc/[a-\n' });
    const error = refusal(dir, 'docker/prod.Dockerfile');
    expect(error?.message).toBe(
      `${path.join(dir, 'docker/prod.Dockerfile.dockerignore')} line 2: "src/[a-" is not a valid pattern: the [ class is not closed with ] (a literal [ is written \\[)`,
    );
  });

  it('strips a UTF-8 BOM and CRLF line ends, skips comments, and names an exclusion as written', () => {
    expect(refusal(makeContext({ '.dockerignore': '\ufeff# c\r\nnode_modules\r\n!keep\r\n' }))).toBeUndefined();
    const error = refusal(makeContext({ '.dockerignore': 'a\r\n!  [x\r\n' }));
    expect(error?.message).toMatch(/\.dockerignore line 2: "!  \[x" is not a valid pattern: the \[ class is not closed/);
  });
});

describe('a Dockerfile that is a symlink', () => {
  it('refuses one that leads out of the context, as -f ../x is refused', () => {
    const outside = makeContext({});
    const dir = makeContext({});
    const elsewhere = path.join(outside, 'Dockerfile');
    symlinkSync(elsewhere, path.join(dir, 'linked.Dockerfile'));
    const error = refusal(dir, 'linked.Dockerfile');
    expect(error?.message).toBe(`The Dockerfile must be inside the build context: linked.Dockerfile is a symlink to ${elsewhere}, outside ${dir}`);
  });

  it('refuses the default Dockerfile when it is such a symlink', () => {
    const outside = makeContext({});
    const dir = mkdtempSync(path.join(tmpdir(), 'ctx-inputs-'));
    symlinkSync(path.relative(dir, path.join(outside, 'Dockerfile')), path.join(dir, 'Dockerfile'));
    expect(refusal(dir)?.message).toMatch(/^The Dockerfile must be inside the build context: Dockerfile is a symlink to .*, outside /);
  });

  it('refuses a Dockerfile reached through a symlinked folder that leads out', () => {
    const outside = makeContext({});
    const dir = makeContext({});
    symlinkSync(outside, path.join(dir, 'shared'));
    expect(refusal(dir, 'shared/Dockerfile')?.message).toMatch(/^The Dockerfile must be inside the build context: shared\/Dockerfile is a symlink to /);
  });

  it('accepts one that stays inside the context, and a context folder that is itself a symlink', () => {
    const dir = makeContext({ 'docker/real.Dockerfile': 'FROM scratch\n' });
    symlinkSync('docker/real.Dockerfile', path.join(dir, 'linked.Dockerfile'));
    expect(resolveContext(dir, 'linked.Dockerfile').dockerfile).toBe('linked.Dockerfile');
    const viaLink = path.join(mkdtempSync(path.join(tmpdir(), 'ctx-link-')), 'ctx');
    symlinkSync(dir, viaLink);
    expect(resolveContext(viaLink, 'linked.Dockerfile').dockerfile).toBe('linked.Dockerfile');
  });

  it('accepts a Dockerfile whose name starts with two dots (it is inside)', () => {
    const dir = makeContext({ '..Dockerfile': 'FROM scratch\n' });
    expect(resolveContext(dir, '..Dockerfile').dockerfile).toBe('..Dockerfile');
  });
});
