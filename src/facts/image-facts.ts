// Image facts: gathered once, read-only. Config, size and history from the daemon; files (passwd,
// package.json, lockfile, node_modules) through the archive endpoint of a created container, so no
// shell is needed in the image.
import { buildArgsOf } from './secrets-scan.js';
import type { DockerPort, ImageInfo, LayerHistory } from '../docker/port.js';
import { type AppLocation } from './app-location.js';
import { analyseCommand, type StartCommand } from './command.js';
import { gatherDevDependencies } from './deps-gather.js';
import type { Classification } from './deps-graph.js';
import type { DevOnlyPackage, DevOnlySet } from './lockfile.js';
import { namesGroup, parseGroup, parsePasswd, resolveUser, type ResolvedUser } from './passwd.js';

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
  /** Where the dev-only set came from, e.g. "build context: package-lock.json" or "image: /app/package-lock.json". */
  from?: string;
  devOnly?: DevOnlySet;
  /** Dev-only packages that exist in the image under the app's node_modules. */
  installed: InstalledDevPackage[];
  notes: string[];
  /** The app's package.json the production set starts from ("image: /app/package.json" or the context's). */
  manifestFrom?: string;
  /** The tree sorted into production, dev-only and extraneous packages (absent when nothing was read). */
  classification?: Classification;
  productionCount?: number;
  /** A second lockfile that describes the same tree (npm's hidden lockfile, pnpm's .pnpm/lock.yaml). */
  crossCheck?: { from: string; devOnlyCount: number; agrees: boolean };
  /** The entry script needs no package: it exists and requires no bare package name. */
  bundledEntry?: { path: string; bareRequires: string[] };
  /** A read that failed twice (e.g. a transient daemon error): what and why. */
  readErrors: string[];
}

export interface FileFacts {
  user: ResolvedUser;
  hasPasswd: boolean;
  devDependencies: DevDependencyFacts;
}

export async function gatherImageBasics(docker: DockerPort, ref: string): Promise<ImageBasics> {
  const [image, history] = await Promise.all([docker.inspectImage(ref), docker.imageHistory(ref)]);
  // Build-arg values recorded in the history ("RUN |1 NPM_TOKEN=hunter2 …") never reach a report.
  const masked = history.map((layer) => ({ ...layer, createdBy: maskBuildArgValues(layer.createdBy) }));
  return { image, history: masked, command: analyseCommand(image.config.entrypoint, image.config.cmd) };
}

/** "|2 A=1 TOKEN=x /bin/sh -c …" → "|2 A=*** TOKEN=*** /bin/sh -c …": every build arg's value, secret-looking or not. */
export function maskBuildArgValues(createdBy: string): string {
  let out = createdBy;
  for (const { name, value } of buildArgsOf(createdBy)) {
    if (value) out = out.replace(`${name}=${value}`, `${name}=***`);
  }
  return out;
}

async function readText(docker: DockerPort, containerId: string, file: string, signal?: AbortSignal): Promise<string | undefined> {
  return (await docker.readFile(containerId, file, { signal }))?.toString('utf8');
}

export async function gatherFileFacts(
  docker: DockerPort,
  containerId: string,
  basics: ImageBasics,
  contextDir: string | undefined,
  signal?: AbortSignal,
): Promise<FileFacts> {
  // Side by side: every archive read costs the daemon a helper process (~0.2 s of CPU on 2 cores),
  // so the reads overlap, and /etc/group is read only when USER names a group (user:group).
  const [passwdText, groupText, devDependencies] = await Promise.all([
    readText(docker, containerId, '/etc/passwd', signal),
    namesGroup(basics.image.config.user) ? readText(docker, containerId, '/etc/group', signal) : Promise.resolve(undefined),
    gatherDevDependencies(docker, containerId, basics, contextDir, signal),
  ]);
  const user = resolveUser(
    basics.image.config.user,
    passwdText === undefined ? undefined : parsePasswd(passwdText),
    groupText === undefined ? undefined : parseGroup(groupText),
  );
  return { user, hasPasswd: passwdText !== undefined, devDependencies };
}

