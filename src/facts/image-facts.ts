// Image facts: gathered once, read-only. Config, size and history from the daemon; files (passwd,
// package.json, lockfile, node_modules) through the archive endpoint of a created container, so no
// shell is needed in the image.
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { DockerPort, ImageInfo, LayerHistory } from '../docker/port.js';
import { locateApp, type AppLocation } from './app-location.js';
import { analyseCommand, type StartCommand } from './command.js';
import { devOnlyFromLockfile, devOnlyFromPackageJson, type DevOnlyPackage, type DevOnlySet } from './lockfile.js';
import { parseGroup, parsePasswd, resolveUser, type ResolvedUser } from './passwd.js';

export interface ImageBasics {
  image: ImageInfo;
  history: LayerHistory[];
  command: StartCommand;
}

export interface InstalledDevPackage extends DevOnlyPackage {
  /** Absolute path in the image. */
  imagePath: string;
  sizeBytes: number;
}

export interface DevDependencyFacts {
  app: AppLocation;
  /** Where the dev-only set came from, e.g. "build context: package-lock.json" or "image: /app/package.json". */
  from?: string;
  devOnly?: DevOnlySet;
  /** Dev-only packages that exist in the image under the app's node_modules. */
  installed: InstalledDevPackage[];
  notes: string[];
}

export interface FileFacts {
  user: ResolvedUser;
  hasPasswd: boolean;
  devDependencies: DevDependencyFacts;
}

export async function gatherImageBasics(docker: DockerPort, ref: string): Promise<ImageBasics> {
  const [image, history] = await Promise.all([docker.inspectImage(ref), docker.imageHistory(ref)]);
  return { image, history, command: analyseCommand(image.config.entrypoint, image.config.cmd) };
}

async function readText(docker: DockerPort, containerId: string, file: string, signal?: AbortSignal): Promise<string | undefined> {
  return (await docker.readFile(containerId, file, { signal }))?.toString('utf8');
}

function parseJson<T>(text: string | undefined, where: string, notes: string[]): T | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    notes.push(`${where} is not valid JSON (${(err as Error).message})`);
    return undefined;
  }
}

/** Runs `fn` over items with at most `limit` in flight: hundreds of dev packages make hundreds of calls. */
async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export async function gatherFileFacts(
  docker: DockerPort,
  containerId: string,
  basics: ImageBasics,
  contextDir: string | undefined,
  signal?: AbortSignal,
): Promise<FileFacts> {
  const [passwdText, groupText] = await Promise.all([
    readText(docker, containerId, '/etc/passwd', signal),
    readText(docker, containerId, '/etc/group', signal),
  ]);
  const user = resolveUser(
    basics.image.config.user,
    passwdText === undefined ? undefined : parsePasswd(passwdText),
    groupText === undefined ? undefined : parseGroup(groupText),
  );
  const devDependencies = await gatherDevDependencies(docker, containerId, basics, contextDir, signal);
  return { user, hasPasswd: passwdText !== undefined, devDependencies };
}

async function gatherDevDependencies(
  docker: DockerPort,
  containerId: string,
  basics: ImageBasics,
  contextDir: string | undefined,
  signal?: AbortSignal,
): Promise<DevDependencyFacts> {
  const notes: string[] = [];
  const stat = async (p: string) => {
    const s = await docker.statPath(containerId, p, { signal });
    return s && { isDirectory: s.isDirectory };
  };
  const app = await locateApp(basics.command, basics.image.config.workingDir, stat);

  // The lockfile that produced the install: the build context's when we built it, else the image's.
  let devOnly: DevOnlySet | undefined;
  let from: string | undefined;
  const contextLock = contextDir && ['npm-shrinkwrap.json', 'package-lock.json'].find((f) => existsSync(path.join(contextDir, f)));
  if (contextDir && contextLock) {
    const lock = parseJson<object>(readFileSync(path.join(contextDir, contextLock), 'utf8'), `build context ${contextLock}`, notes);
    if (lock) {
      devOnly = devOnlyFromLockfile(lock);
      from = `build context: ${contextLock}`;
    }
  }
  if (!devOnly && app.lockfile) {
    const lock = parseJson<object>(await readText(docker, containerId, app.lockfile, signal), `image ${app.lockfile}`, notes);
    if (lock) {
      devOnly = devOnlyFromLockfile(lock);
      from = `image: ${app.lockfile}`;
    }
  }
  if (!devOnly) {
    const contextPkg = contextDir && existsSync(path.join(contextDir, 'package.json')) ? path.join(contextDir, 'package.json') : undefined;
    const pkgText = contextPkg ? readFileSync(contextPkg, 'utf8') : app.packageJson ? await readText(docker, containerId, app.packageJson, signal) : undefined;
    const where = contextPkg ? 'build context: package.json' : `image: ${app.packageJson}`;
    const pkg = parseJson<Parameters<typeof devOnlyFromPackageJson>[0]>(pkgText, where, notes);
    if (pkg) {
      devOnly = devOnlyFromPackageJson(pkg);
      from = where;
      notes.push('no package-lock.json found: only direct devDependencies from package.json are checked, not transitive ones');
    }
  }
  if (!devOnly) notes.push('no package-lock.json or package.json found for the app: nothing to compare node_modules with');
  if (!app.installRoot) notes.push(`no node_modules found from ${app.startDir} upward`);

  const installed: InstalledDevPackage[] = [];
  if (devOnly && app.installRoot) {
    const root = app.installRoot === '/' ? '' : app.installRoot;
    const found = await mapLimited(devOnly.packages, 16, async (pkg) => {
      const imagePath = `${root}/${pkg.path}`;
      const s = await docker.statPath(containerId, imagePath, { signal });
      return s ? { ...pkg, imagePath } : undefined;
    });
    const present = found.filter((p): p is DevOnlyPackage & { imagePath: string } => p !== undefined);
    const sized = await mapLimited(present, 4, async (pkg) => ({ ...pkg, sizeBytes: await docker.treeSizeBytes(containerId, pkg.imagePath, { signal }) }));
    installed.push(...sized);
  }
  return { app, from, devOnly, installed, notes };
}
