// The walk fsutil's sender makes (fs.go, filter.go, followlinks.go): lexical order (Go's filepath.WalkDir
// sorts names bytewise), symlinks not followed, include and exclude patterns applied with moby's matcher
// (src/dockerignore/), so that what reaches BuildKit is what `docker build` sends. A folder that is itself
// filtered out is still walked when a pattern may keep something inside it, and is then sent just before
// the first entry kept inside it. Pure of gRPC: it yields entries, ./diffcopy.ts sends them.
import type { BigIntStats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { filepathMatch, goClean } from '../../dockerignore/go-path.js';
import { PatternMatcher, type MatchInfo, type Pattern } from '../../dockerignore/patternmatcher.js';

export interface WalkEntry {
  /** Relative, '/'-separated, as bytes. */
  relative: Buffer;
  absolute: Buffer;
  stat: BigIntStats;
  linkname?: Buffer;
}

interface VisitedDir {
  entry: WalkEntry;
  /** The relative path as text (for the matchers), with a trailing '/'. */
  pathWithSep: string;
  includeInfo?: MatchInfo;
  excludeInfo?: MatchInfo;
  emitted: boolean;
}

const SLASH = Buffer.from('/');

/** What the daemon asked the session for: patterns as .dockerignore writes them, and paths to follow. */
export interface SessionFilter {
  includePatterns?: string[];
  excludePatterns?: string[];
  followPaths?: string[];
}

/** The include and exclude matchers, with what fsutil's SkipDir needs to know of their patterns. */
interface Filters {
  include?: PatternMatcher;
  exclude?: PatternMatcher;
  /** Every include is a plain folder prefix: a folder none of them lies under can be skipped whole. */
  onlyPrefixIncludes: boolean;
  /** Every exception (`!…`) of the excludes is a plain folder prefix: the same, for excluded folders. */
  onlyPrefixExcludeExceptions: boolean;
}

export async function* walkFiltered(root: string, filter: SessionFilter, signal?: AbortSignal): AsyncGenerator<WalkEntry> {
  const filters = await filtersOf(root, filter);
  const parents: VisitedDir[] = [];

  async function* visit(absolute: Buffer, relative: Buffer | undefined, depth: number): AsyncGenerator<WalkEntry> {
    const names = await listFolder(absolute, parents[depth - 1]);
    for (const name of names) {
      signal?.throwIfAborted();
      const childAbsolute = Buffer.concat([absolute, SLASH, name]);
      const childRelative = relative ? Buffer.concat([relative, SLASH, name]) : name;
      const stat = await lstatIfThere(childAbsolute);
      if (!stat) continue;
      const entry: WalkEntry = { relative: childRelative, absolute: childAbsolute, stat };
      // Patterns are text: a name that is not UTF-8 is matched with its bytes decoded (as Go's regexp
      // reads invalid bytes as U+FFFD), but sent as bytes.
      const text = childRelative.toString('utf8');
      parents.length = depth;
      const dir: VisitedDir | undefined = stat.isDirectory() ? { entry, pathWithSep: `${text}/`, emitted: false } : undefined;
      const { skip, skipDir } = filterEntry(filters, text, dir, parents[depth - 1]);
      if (skipDir) continue;

      if (!skip) {
        if (stat.isSymbolicLink()) {
          const linkname = await readlinkIfThere(childAbsolute);
          if (!linkname) continue;
          entry.linkname = linkname;
        }
        // Folders filtered out themselves but holding this entry are sent first, outermost first.
        for (const p of parents) {
          if (p.emitted) continue;
          p.emitted = true;
          yield p.entry;
        }
        if (dir) dir.emitted = true;
        yield entry;
      }
      if (dir) {
        parents.push(dir);
        yield* visit(childAbsolute, childRelative, depth + 1);
        parents.length = depth;
      }
    }
  }

  yield* visit(Buffer.from(path.resolve(root)), undefined, 0);
}

/** The session's patterns as matchers; followpaths become include patterns (with their links resolved). */
async function filtersOf(root: string, filter: SessionFilter): Promise<Filters> {
  let includePatterns = filter.includePatterns?.length ? [...filter.includePatterns] : undefined;
  if (filter.followPaths?.length) {
    const targets = await followLinks(root, filter.followPaths);
    if (targets) includePatterns = dedupePaths([...(includePatterns ?? []), ...targets]);
  }
  const matcher = (patterns: string[] | undefined, what: string) => {
    if (!patterns?.length) return undefined;
    try {
      return new PatternMatcher(patterns);
    } catch (err) {
      // As fsutil words it (Go prints a []string as [a b]).
      throw new Error(`invalid ${what}: [${patterns.join(' ')}]: ${(err as Error).message}`);
    }
  };
  const include = matcher(includePatterns, 'includepatterns');
  const exclude = matcher(filter.excludePatterns, 'excludepatterns');
  return {
    include,
    exclude,
    onlyPrefixIncludes: include ? include.patterns.every((p) => p.exclusion || isPlainPrefix(p)) : true,
    onlyPrefixExcludeExceptions: exclude ? exclude.patterns.every((p) => !p.exclusion || isPlainPrefix(p)) : true,
  };
}

/**
 * fsutil's filter for one entry: `skip` it (not sent; a folder is still walked), or `skipDir` (fsutil's
 * SkipDir: a folder no pattern can keep anything inside of is not walked at all). A folder's match
 * results are kept on it for its children's matches.
 */
function filterEntry(filters: Filters, text: string, dir: VisitedDir | undefined, parent: VisitedDir | undefined): { skip: boolean; skipDir: boolean } {
  const { include, exclude } = filters;
  let skip = false;
  let skipDir = false;
  if (include) {
    const [matched, info] = matchWith(include, 'includepatterns', text, parent?.includeInfo);
    if (dir) dir.includeInfo = info;
    if (!matched) {
      if (dir && filters.onlyPrefixIncludes) {
        skipDir = !include.patterns.some((p) => !p.exclusion && `${withoutTrailingGlob(p)}/`.startsWith(`${text}/`));
      }
      skip = true;
    }
  }
  if (exclude && !skipDir) {
    const [matched, info] = matchWith(exclude, 'excludepatterns', text, parent?.excludeInfo);
    if (dir) dir.excludeInfo = info;
    if (matched) {
      if (dir && filters.onlyPrefixExcludeExceptions) {
        skipDir = !(exclude.exclusions && exclude.patterns.some((p) => p.exclusion && `${withoutTrailingGlob(p)}/`.startsWith(`${text}/`)));
      }
      skip = true;
    }
  }
  return { skip, skipDir };
}

/** A folder's names in Go's order (bytewise); [] for a folder gone since it was listed, or one filtered out that cannot be read. */
async function listFolder(absolute: Buffer, parent: VisitedDir | undefined): Promise<Buffer[]> {
  try {
    return (await readdir(absolute, { encoding: 'buffer' })).sort(Buffer.compare);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // A folder gone since it was listed is skipped (fsutil turns "not exist" into SkipDir).
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    // An unreadable folder that was filtered out is no error (fsutil: skip && ErrPermission).
    if (parent && !parent.emitted && code === 'EACCES') return [];
    throw err;
  }
}

/** An entry's lstat, or undefined when it is gone since its folder was listed. */
async function lstatIfThere(absolute: Buffer): Promise<BigIntStats | undefined> {
  try {
    return await lstat(absolute, { bigint: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** A symlink's target, or undefined when the link is gone since its folder was listed. */
async function readlinkIfThere(absolute: Buffer): Promise<Buffer | undefined> {
  try {
    return await readlink(absolute, { encoding: 'buffer' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------
// followpaths (fsutil followlinks.go): each path, with every symlink on its way resolved inside the
// folder, becomes an include pattern, so that a Dockerfile or a COPY source reached through a link is sent.

async function followLinks(root: string, paths: string[]): Promise<string[] | undefined> {
  const resolved = new Set<string>();
  const readSymlink = async (p: string, allowWildcard: boolean): Promise<string[] | undefined> => {
    const base = path.posix.basename(p);
    if (allowWildcard && containsWildcards(base)) {
      const parentDir = path.posix.dirname(p);
      let names: string[];
      try {
        names = await readdir(path.join(root, parentDir));
      } catch {
        return undefined;
      }
      let out: string[] | undefined;
      for (const name of names.sort()) {
        if (!goMatches(base, name)) continue;
        const targets = await readSymlink(path.posix.join(parentDir, name), false);
        if (targets) (out ??= []).push(...targets);
      }
      return out;
    }
    if (p === '.' || p === '/') return undefined;
    let linkname: string;
    try {
      const st = await lstat(path.join(root, p));
      if (!st.isSymbolicLink()) return undefined;
      linkname = await readlink(path.join(root, p));
    } catch {
      return undefined;
    }
    const link = goClean(linkname);
    if (link.startsWith('/')) return [link];
    return [path.posix.join('/', path.posix.join(path.posix.dirname(p), link))];
  };
  const append = async (input: string): Promise<void> => {
    let p = goClean(`./${input}`);
    let current = '.';
    for (;;) {
      const slash = p.indexOf('/');
      const head = slash >= 0 ? p.slice(0, slash) : p;
      current = goClean(`${current}/${head}`);
      const targets = await readSymlink(current, true);
      p = slash >= 0 ? p.slice(slash + 1) : '';
      if ((p === '' || targets) && resolved.has(current)) return;
      if (targets) {
        resolved.add(current);
        for (const target of targets) await append(goClean(`${target}/${p}`));
        return;
      }
      if (p === '') {
        resolved.add(current);
        return;
      }
    }
  };
  for (const p of paths) await append(p);
  return dedupePaths([...resolved].sort());
}

/** fsutil's dedupePaths: drops paths below one already listed; "." (everything) means no filter. */
function dedupePaths(sorted: string[]): string[] | undefined {
  const out: string[] = [];
  let last: string | undefined;
  for (const s of sorted) {
    if (s === '.') return undefined;
    if (last !== undefined && s.startsWith(`${last}/`)) continue;
    out.push(s);
    last = s;
  }
  return out;
}

function containsWildcards(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name[i];
    if (ch === '\\') i++;
    else if (ch === '*' || ch === '?' || ch === '[') return true;
  }
  return false;
}

/** A match whose error (a pattern Go's regexp refuses) is worded as fsutil words it. */
function matchWith(matcher: PatternMatcher, what: string, file: string, parent: MatchInfo | undefined): [boolean, MatchInfo] {
  try {
    return matcher.matchesUsingParentResults(file, parent);
  } catch (err) {
    throw new Error(`failed to match ${what}: ${(err as Error).message}`);
  }
}

/** filepath.Match as fsutil calls it here: a malformed pattern matches nothing. */
function goMatches(pattern: string, name: string): boolean {
  try {
    return filepathMatch(pattern, name);
  } catch {
    return false;
  }
}

/** A pattern that is a folder and no more (a trailing "/**" or "/*" aside): no wildcard, class or escape. */
const isPlainPrefix = (p: Pattern) => !/[*[\]?^\\]/.test(withoutTrailingGlob(p));

/** The pattern without a trailing "/**" or "/*": the folder it keeps or leaves out (fsutil's onlyPrefix checks). */
function withoutTrailingGlob(p: Pattern): string {
  let s = p.cleaned;
  if (s.endsWith('/**')) s = s.slice(0, -3);
  if (s.endsWith('/*')) s = s.slice(0, -2);
  return s;
}
