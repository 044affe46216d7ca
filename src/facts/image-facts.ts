// Image facts: gathered once, read-only. Config, size and history from the daemon (`basics.ts`); files
// (passwd, package.json, lockfile, node_modules) through the archive endpoint of a created container,
// so no shell is needed in the image.
import type { DockerPort } from '../docker/port.js';
import type { ImageBasics } from './basics.js';
import { gatherDevDependencies, type DevDependencyFacts } from './deps-gather.js';
import { parseGroup, parsePasswd } from '../etc-files.js';
import { namesGroup, resolveUser, type ResolvedUser } from './passwd.js';

export type { ImageBasics } from './basics.js';
export type { DevDependencyFacts } from './deps-gather.js';

export interface FileFacts {
  user: ResolvedUser;
  hasPasswd: boolean;
  devDependencies: DevDependencyFacts;
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
