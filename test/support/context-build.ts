// Builds a context folder the way an audit does (src/target: the build policy, BuildKit through a
// session, the classic builder with our tar), for tests about what of the folder lands in the image.
import { inject } from 'vitest';
import { DockerodePort } from '../../src/docker/dockerode-port.js';
import type { BuildResult } from '../../src/docker/port.js';
import { buildImage } from '../../src/target/build.js';
import { resolveContext } from '../../src/target/context.js';

export async function buildContext(
  dir: string,
  opts: { tag: string; dockerfile?: string; builder?: 'auto' | 'classic'; onProgress?: (line: string) => void },
): Promise<BuildResult> {
  const context = resolveContext(dir, opts.dockerfile ?? 'Dockerfile');
  return buildImage(new DockerodePort(), {
    context: context.tar,
    contextDir: context.dir,
    dockerfile: context.dockerfile,
    buildArgs: { NODE_IMAGE: inject('nodeImage') },
    tag: opts.tag,
    timeoutMs: 180_000,
    builder: opts.builder ?? 'auto',
    onProgress: opts.onProgress,
  });
}
