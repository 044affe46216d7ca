// The build context as Docker's CLI sends it: a tar of the directory minus what .dockerignore
// excludes. The daemon does not apply .dockerignore to a tar sent through the API, so we must.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Readable } from 'node:stream';
import * as tarFs from 'tar-fs';
import { UsageError } from '../errors.js';

// A CommonJS module whose typings declare an ES default export: load it as CommonJS.
const dockerignore = createRequire(import.meta.url)('@balena/dockerignore') as typeof import('@balena/dockerignore').default;

export interface BuildContext {
  dir: string;
  /** The Dockerfile's path relative to the context, with forward slashes. */
  dockerfile: string;
  /** A fresh tar stream of the filtered context on each call. */
  tar: () => Readable;
  /** Pure predicate, for tests and the docs: is this relative path sent to the daemon? */
  isSent: (relativePath: string) => boolean;
}

export function resolveContext(dir: string, dockerfile = 'Dockerfile'): BuildContext {
  const contextDir = path.resolve(dir);
  if (!existsSync(contextDir) || !statSync(contextDir).isDirectory()) {
    throw new UsageError(`Build context is not a directory: ${dir}`);
  }
  const dockerfilePath = path.resolve(contextDir, dockerfile);
  const relativeDockerfile = path.relative(contextDir, dockerfilePath).split(path.sep).join('/');
  if (relativeDockerfile.startsWith('..')) {
    throw new UsageError(`The Dockerfile must be inside the build context: ${dockerfile}`);
  }
  if (!existsSync(dockerfilePath)) {
    throw new UsageError(`No Dockerfile at ${path.relative(process.cwd(), dockerfilePath) || dockerfilePath}`);
  }

  const ignoreFile = path.join(contextDir, '.dockerignore');
  const patterns = existsSync(ignoreFile) ? readFileSync(ignoreFile, 'utf8') : '';
  const rules = dockerignore({ ignorecase: false }).add(patterns);
  // With exception patterns (!keep/this) a file below an excluded folder may still be sent, so
  // folders are then walked and each file decided on its own, as the Docker CLI does.
  const hasExceptions = patterns.split(/\r?\n/).some((line) => line.trim().startsWith('!'));
  // The CLI always sends the Dockerfile and .dockerignore, even when .dockerignore excludes them.
  const alwaysSent = new Set([relativeDockerfile, '.dockerignore']);

  const isSent = (relativePath: string) => alwaysSent.has(relativePath) || !rules.ignores(relativePath);

  const tar = () =>
    tarFs.pack(contextDir, {
      ignore: (absolute: string) => {
        const relative = path.relative(contextDir, absolute).split(path.sep).join('/');
        if (!relative || isSent(relative)) return false;
        if (hasExceptions && statSync(absolute).isDirectory()) return false;
        return true;
      },
      map: (header) => ({ ...header, uid: 0, gid: 0, uname: 'root', gname: 'root' }),
    }) as unknown as Readable;

  return { dir: contextDir, dockerfile: relativeDockerfile, tar, isSent };
}
