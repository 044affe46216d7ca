// The build context as Docker's CLI sends it to the classic builder: a tar of the directory minus what
// the ignore file excludes. The daemon does not apply .dockerignore to a tar sent through the API, so we
// must. BuildKit does not get this tar when the request carries the directory (BuildRequest.contextDir):
// src/docker/buildkit/ lets BuildKit read the directory through a session and apply the ignore file
// itself, as `docker build` does. Measured on docker 20.10: BuildKit given a tar applies no .dockerignore,
// and cannot leave out of `COPY . .` a Dockerfile or .dockerignore that .dockerignore lists (they must be
// in the tar); through the session it does, and the classic builder removes them from the tar's result
// itself. The tar still goes to BuildKit when a request carries no directory.
import { existsSync, lstatSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { UsageError } from '../errors.js';
import { contextIgnore } from '../dockerignore/ignorefile.js';
import { tarChunks, type TarEntry } from './tar.js';

export interface BuildContext {
  dir: string;
  /** The Dockerfile's path relative to the context, with forward slashes. */
  dockerfile: string;
  /** A fresh tar stream of the filtered context on each call (the classic builder's context). */
  tar: () => Readable;
  /** The ignore file that applies (`<Dockerfile>.dockerignore`, else `.dockerignore`), relative; undefined: none. */
  ignoreFile?: string;
  /** Pure predicate: is this relative path sent to the daemon? */
  isSent: (relativePath: string) => boolean;
}

export function resolveContext(dir: string, dockerfile = 'Dockerfile'): BuildContext {
  const contextDir = path.resolve(dir);
  if (!existsSync(contextDir) || !statSync(contextDir).isDirectory()) {
    throw new UsageError(`Build context is not a directory: ${dir}`);
  }
  const dockerfilePath = path.resolve(contextDir, dockerfile);
  const relativeDockerfile = path.relative(contextDir, dockerfilePath).split(path.sep).join('/');
  if (isOutside(relativeDockerfile)) {
    throw new UsageError(`The Dockerfile must be inside the build context: ${dockerfile}`);
  }
  const shownPath = path.relative(process.cwd(), dockerfilePath) || dockerfilePath;
  if (!existsSync(dockerfilePath)) {
    throw new UsageError(`No Dockerfile at ${shownPath}`);
  }
  if (statSync(dockerfilePath).isDirectory()) {
    throw new UsageError(`The Dockerfile ${shownPath} is a directory: give the file's path (e.g. ${path.join(dockerfile, 'Dockerfile')})`);
  }
  // A symlink (the Dockerfile, or a folder on its path) may lead out of the context: the daemon could
  // not read it there (BuildKit fails with a path of its own temp folder), so it is refused like -f ../x.
  const realDockerfile = realpathSync(dockerfilePath);
  if (isOutside(path.relative(realpathSync(contextDir), realDockerfile))) {
    throw new UsageError(`The Dockerfile must be inside the build context: ${dockerfile} is a symlink to ${realDockerfile}, outside ${dir}`);
  }

  // Checked before any build: a pattern Docker refuses is a usage error naming its file and line. As
  // BuildKit does, <Dockerfile>.dockerignore (next to the Dockerfile) applies in place of .dockerignore
  // when there is one, for the classic builder's tar too: the set of files sent does not depend on the
  // builder the audit ends up with.
  const ignore = contextIgnore(contextDir, relativeDockerfile);
  // The CLI always sends the Dockerfile and .dockerignore, even when excluded: the classic daemon reads
  // .dockerignore from the tar and removes both itself when it lists them.
  const alwaysSent = new Set([relativeDockerfile, '.dockerignore']);
  // With exception patterns (!keep/this) a file below an excluded folder may still be sent, so
  // folders are then walked and each file decided on its own, as the Docker CLI does. The CLI adds
  // the Dockerfile and .dockerignore as exceptions, so an excluded folder holding the Dockerfile is walked.
  const hasExceptions = ignore.matcher.exclusions || [...alwaysSent].some((p) => ignore.excludes(p));

  const isSent = (relativePath: string) => alwaysSent.has(relativePath) || !ignore.excludes(relativePath);

  function* entries(absolute: Buffer, relative: Buffer | undefined): Generator<TarEntry> {
    const names = readdirSync(absolute, { encoding: 'buffer' }).sort(Buffer.compare);
    for (const name of names) {
      const childAbsolute = Buffer.concat([absolute, Buffer.from('/'), name]);
      const childRelative = relative ? Buffer.concat([relative, Buffer.from('/'), name]) : name;
      // Patterns are text: a name that is not UTF-8 is matched with its bytes decoded, but sent as bytes.
      const sent = isSent(childRelative.toString('utf8'));
      const stat = lstatSync(childAbsolute);
      const common = { name: childRelative, mode: stat.mode, mtimeSeconds: stat.mtimeMs / 1000 };
      if (stat.isDirectory()) {
        if (sent) yield { ...common, type: 'directory' };
        if (sent || hasExceptions) yield* entries(childAbsolute, childRelative);
        continue;
      }
      if (!sent) continue;
      if (stat.isFile()) yield { ...common, type: 'file', source: childAbsolute, sizeBytes: stat.size };
      else if (stat.isSymbolicLink()) yield { ...common, type: 'symlink', linkname: readlinkSync(childAbsolute, { encoding: 'buffer' }) };
      // A FIFO is sent as a FIFO (never read); devices as devices. Sockets have no tar type: the CLI skips them.
      else if (stat.isFIFO()) yield { ...common, type: 'fifo' };
      else if (stat.isCharacterDevice() || stat.isBlockDevice()) {
        yield { ...common, type: stat.isCharacterDevice() ? 'character-device' : 'block-device', ...deviceNumbers(stat.rdev) };
      }
    }
  }

  const tar = () => Readable.from(tarChunks(entries(Buffer.from(contextDir), undefined)), { objectMode: false });

  return { dir: contextDir, dockerfile: relativeDockerfile, tar, ignoreFile: ignore.file, isSent };
}

/** A relative path that climbs out of its base ("..", "../x"; not "..x", a name inside). */
function isOutside(relative: string): boolean {
  return relative === '..' || relative.startsWith('../') || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative);
}

/** Linux's dev_t split (glibc's major()/minor()). */
function deviceNumbers(rdev: number): { devmajor: number; devminor: number } {
  const dev = BigInt(rdev);
  return {
    devmajor: Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn)),
    devminor: Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn)),
  };
}
