// A target is a build context directory (built here) or an image reference already in the daemon.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { DockerPort } from '../docker/port.js';
import type { TargetSpec } from '../types.js';

export interface ResolvedTarget {
  /** What the daemon knows the image by: the built image id, or the reference as given. */
  imageRef: string;
  /** The context directory, when we built it: its lockfile is the truth for the install. */
  contextDir?: string;
  dockerfile?: string;
  builder?: 'buildkit' | 'classic';
}

/** A path that exists as a directory is a build context; anything else is an image reference. */
export function parseTarget(
  target: string,
  build: { dockerfile?: string; buildArgs?: Record<string, string>; target?: string; buildTimeoutMs?: number } = {},
): TargetSpec {
  const looksLikePath = target === '.' || target.startsWith('./') || target.startsWith('../') || path.isAbsolute(target);
  if ((existsSync(target) && statSync(target).isDirectory()) || looksLikePath) {
    return { kind: 'context', dir: target, dockerfile: build.dockerfile, buildArgs: build.buildArgs, buildTarget: build.target, buildTimeoutMs: build.buildTimeoutMs };
  }
  return { kind: 'image', ref: target };
}

/** Long enough for a cold `npm ci` of a large app on a small machine; a hung build still ends. */
export const BUILD_TIMEOUT_MS = 20 * 60_000;

function tagFor(dir: string, dockerfile: string, buildTarget?: string): string {
  const clean = (s: string) => s.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[-._]+|[-._]+$/g, '') || 'app';
  const variant = path.basename(dockerfile) === 'Dockerfile' ? '' : `-${clean(path.basename(dockerfile).replace(/\.?Dockerfile$/i, ''))}`;
  return `node-image-audit/${clean(path.basename(dir))}${variant}${buildTarget ? `-${clean(buildTarget)}` : ''}:latest`;
}

export async function resolveTarget(docker: DockerPort, spec: TargetSpec, onProgress?: (line: string) => void): Promise<ResolvedTarget> {
  if (spec.kind === 'image') return { imageRef: spec.ref };
  // Loaded on demand: auditing an image reference needs no tar or ignore-file code.
  const { resolveContext } = await import('./context.js');
  const context = resolveContext(spec.dir, spec.dockerfile);
  const tag = tagFor(context.dir, context.dockerfile, spec.buildTarget);
  const result = await docker.build({
    context: context.tar,
    dockerfile: context.dockerfile,
    buildArgs: spec.buildArgs ?? {},
    target: spec.buildTarget,
    tag,
    timeoutMs: spec.buildTimeoutMs ?? BUILD_TIMEOUT_MS,
    // An escape hatch for daemons whose BuildKit misbehaves; classic semantics differ (see README).
    builder: process.env.IMAGE_AUDIT_BUILDER === 'classic' ? 'classic' : 'auto',
    onProgress,
  });
  return { imageRef: result.imageId, contextDir: context.dir, dockerfile: context.dockerfile, builder: result.builder };
}
