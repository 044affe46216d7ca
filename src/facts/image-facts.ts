// Image facts: gathered once, read-only. Config, size and history from the daemon; files (passwd,
// package.json, lockfile, node_modules) through the archive endpoint of a created container, so no
// shell is needed in the image.
import type { DockerPort, ImageInfo, LayerHistory } from '../docker/port.js';
import { type AppLocation } from './app-location.js';
import { analyseCommand, type StartCommand } from './command.js';
import { gatherDevDependencies } from './deps-gather.js';
import type { Classification } from './deps-graph.js';
import type { Manifest } from './deps-tree.js';
import type { DevOnlyPackage, DevOnlySet } from './lockfile.js';
import type { Observed } from '../observed.js';
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

/** A file the facts were read from: where ("image: /app/package.json", "build context: package.json") and what it holds. */
export interface FoundFile<T> {
  from: string;
  value: T;
}

export interface DevDependencyFacts {
  app: AppLocation;
  /**
   * The node_modules folders Node would look in for the app (from its folder upward) and those that
   * exist; not observed when one could not be looked at (then "none there" is not known).
   */
  nodeModules: Observed<{ lookedFor: string[]; found: string[] }>;
  /**
   * The app's package.json (the image's own, else the build context's): `undefined` when there is none
   * (an observation), not observed when it could not be read or parsed (the file and why).
   */
  manifest: Observed<FoundFile<Manifest> | undefined>;
  /**
   * The dev-only set of the lockfile that belongs to the installed tree: `undefined` when there is none,
   * not observed when the one found could not be read or parsed (the file and why).
   */
  lockfile: Observed<FoundFile<DevOnlySet> | undefined>;
  /** Read only when no node_modules was found: the entry file's bare requires (evidence, not the verdict). */
  entrySource?: Observed<{ path: string; bareRequires: string[] }>;
  /** Folders of the image's NODE_PATH that exist: Node loads packages from them too (not read by this check). */
  nodePath?: Observed<string[]>;
  /** Dev-only packages that exist in the image under the app's node_modules. */
  installed: InstalledDevPackage[];
  notes: string[];
  /** The tree sorted into production, dev-only and extraneous packages (absent when nothing was read). */
  classification?: Classification;
  productionCount?: number;
  /** A second lockfile that describes the same tree (npm's hidden lockfile, pnpm's .pnpm/lock.yaml). */
  crossCheck?: { from: string; devOnlyCount: number; agrees: boolean };
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
  // Secret build-arg values the history recorded ("RUN |1 NPM_TOKEN=hunter2 …") are masked by the
  // redactor where bytes leave (src/redact), fed by the audit from this history.
  return { image, history, command: analyseCommand(image.config.entrypoint, image.config.cmd) };
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

