// Integration set-up: a Docker engine must answer and the Node base image must exist (see
// scripts/setup.sh). The teardown fails the run if any container of ours is left on the daemon.
import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { DockerodePort } from '../../src/docker/dockerode-port.js';
import { randomUUID } from 'node:crypto';
import { SESSION_LABEL } from '../../src/docker/reaper.js';

declare module 'vitest' {
  export interface ProvidedContext {
    nodeImage: string;
  }
}

export default async function setup(project: TestProject) {
  const docker = new DockerodePort();
  await docker.ping();
  // Every audit of this run (workers and the CLIs they start inherit it) carries this session label;
  // the teardown counts only these, so other runs on the same daemon are left alone.
  const session = `test-${randomUUID()}`;
  process.env.IMAGE_AUDIT_SESSION = session;
  const nodeImage =
    process.env.NODE_IMAGE ||
    execFileSync('bash', ['scripts/node-base-image.sh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  project.provide('nodeImage', nodeImage);
  // The CLI tests run the built bin, as users do: build it from the sources under test.
  // tsc emits even with type errors; the typecheck is its own step of scripts/test.sh.
  try {
    // The same build users get: tsc for the library, the bundled CLI (scripts/build.mjs).
    execFileSync(process.execPath, ['scripts/build.mjs', '--tolerate-type-errors'], { stdio: 'inherit' });
  } catch {
    console.warn('global-setup: tsc reported type errors; testing what it emitted');
  }

  return async () => {
    const left = await docker.listContainers(`${SESSION_LABEL}=${session}`);
    if (left.length) {
      await Promise.allSettled(left.map((id) => docker.removeContainer(id)));
      throw new Error(`${left.length} audit container(s) were left on the daemon after the suite: ${left.join(', ')}`);
    }
  };
}
