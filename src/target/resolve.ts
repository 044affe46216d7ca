// A target is a build context directory (built here) or an image reference already in the daemon.
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { BuildResult, DockerPort } from '../docker/port.js';
import { UsageError } from '../errors.js';
import type { TargetSpec } from '../types.js';
import { BUILD_TIMEOUT_MS, buildImage } from './build.js';
import { REFERENCE_GRAMMAR, referenceProblem } from './reference.js';

export { BUILD_TIMEOUT_MS };

export interface ResolvedTarget {
  /** What the daemon knows the image by: the built image id, or the reference as given. */
  imageRef: string;
  /** The context directory, when we built it: its lockfile is the truth for the install. */
  contextDir?: string;
  dockerfile?: string;
  builder?: 'buildkit' | 'classic';
  /** What the checks may use of the context: what was sent, and a rebuild of a copy (layer-cache). */
  context?: {
    ignoreFile?: string;
    isSent(relativePath: string): boolean;
    rebuild(copyDir: string, tag: string, signal: AbortSignal): Promise<BuildResult>;
  };
}

/**
 * A path that exists as a directory is a build context; anything else is an image reference, which
 * must follow Docker's grammar (a usage error before any daemon call otherwise).
 */
export function parseTarget(
  target: string,
  build: { dockerfile?: string; buildArgs?: Record<string, string>; target?: string; buildTimeoutMs?: number } = {},
): TargetSpec {
  const looksLikePath = target === '.' || target.startsWith('./') || target.startsWith('../') || path.isAbsolute(target);
  if ((existsSync(target) && statSync(target).isDirectory()) || looksLikePath) {
    return { kind: 'context', dir: target, dockerfile: build.dockerfile, buildArgs: build.buildArgs, buildTarget: build.target, buildTimeoutMs: build.buildTimeoutMs };
  }
  const problem = referenceProblem(target);
  if (problem) {
    throw new UsageError(`Bad image reference ${JSON.stringify(target)}: ${problem}. An image reference is ${REFERENCE_GRAMMAR}`);
  }
  return { kind: 'image', ref: target };
}

/**
 * The tag of a built image: readable (folder, Dockerfile variant, stage) and unique on the daemon (a hash
 * of the absolute context path, the Dockerfile and the stage), so two projects whose folders share a name
 * keep their own tags, and repeated runs of one replace its tag instead of piling up images.
 */
export function imageTagFor(contextDir: string, dockerfile: string, buildTarget?: string): string {
  // A path component of a reference: lowercase alphanumerics joined by single separators.
  const clean = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/[._-]{2,}/g, '-')
      .slice(0, 40)
      .replace(/^[._-]+|[._-]+$/g, '') || 'app';
  const base = path.basename(dockerfile);
  const variant = base === 'Dockerfile' ? '' : `-${clean(base.replace(/\.?Dockerfile$/i, ''))}`;
  const stage = buildTarget ? `-${clean(buildTarget)}` : '';
  const hash = createHash('sha256')
    .update([path.resolve(contextDir), dockerfile, buildTarget ?? ''].join('\0'))
    .digest('hex')
    .slice(0, 8);
  return `node-image-audit/${clean(path.basename(contextDir))}${variant}${stage}-${hash}:latest`;
}

export async function resolveTarget(
  docker: DockerPort,
  spec: TargetSpec,
  builder: 'auto' | 'classic',
  onProgress?: (line: string) => void,
  signal?: AbortSignal,
): Promise<ResolvedTarget> {
  if (spec.kind === 'image') return { imageRef: spec.ref };
  // Loaded on demand: auditing an image reference needs no tar or ignore-file code.
  const { resolveContext } = await import('./context.js');
  const context = resolveContext(spec.dir, spec.dockerfile);
  // A copy of the context is built with the same Dockerfile path, arguments, stage, builder and deadline.
  const build = (dir: string, tag: string, buildSignal: AbortSignal | undefined, progress?: (line: string) => void) => {
    const built = dir === context.dir ? context : resolveContext(dir, context.dockerfile);
    return buildImage(docker, {
      context: built.tar,
      contextDir: built.dir,
      dockerfile: built.dockerfile,
      buildArgs: spec.buildArgs ?? {},
      target: spec.buildTarget,
      tag,
      timeoutMs: spec.buildTimeoutMs ?? BUILD_TIMEOUT_MS,
      builder,
      signal: buildSignal,
      onProgress: progress,
    });
  };
  const result = await build(context.dir, imageTagFor(context.dir, context.dockerfile, spec.buildTarget), signal, onProgress);
  return {
    imageRef: result.imageId,
    contextDir: context.dir,
    dockerfile: context.dockerfile,
    builder: result.builder,
    context: { ignoreFile: context.ignoreFile, isSent: context.isSent, rebuild: (copyDir, tag, rebuildSignal) => build(copyDir, tag, rebuildSignal) },
  };
}
