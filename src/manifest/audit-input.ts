// What --manifest changes in an audit: the chosen container (found before anything is built or run, so
// a bad file or an ambiguous choice is exit 2 at once), the settings Kubernetes implies (the grace period
// as the shutdown budget, limits.memory as the memory limit, the first containerPort as the app's port,
// each unless the caller set it), and the create options of the audited container.
import path from 'node:path';
import type { ContainerSpec } from '../docker/port.js';
import { UsageError } from '../errors.js';
import type { AuditOptions, TargetSpec } from '../types.js';
import { readManifests } from './parse.js';
import { manifestTarget, selectContainer, type ManifestTarget } from './select.js';

/** The audited container of the manifests, or undefined without --manifest. Throws UsageError (exit 2). */
export function resolveManifest(options: Pick<AuditOptions, 'manifest' | 'container'>, spec: TargetSpec): ManifestTarget | undefined {
  const files = options.manifest ?? [];
  if (!files.length) {
    if (options.container !== undefined) throw new UsageError(`--container ${options.container} names a container of a Kubernetes manifest: give the manifest with --manifest FILE`);
    return undefined;
  }
  const workloads = readManifests(files);
  const chosen = selectContainer(workloads, files, { container: options.container, imageRefs: spec.kind === 'image' ? [spec.ref] : [] });
  const target = manifestTarget(chosen.workload, chosen.index);
  // SARIF locations are relative to the build context when the manifest is inside it, else absolute.
  if (spec.kind === 'context') {
    const relative = path.relative(path.resolve(spec.dir), path.resolve(target.file));
    if (!relative.startsWith('..') && !path.isAbsolute(relative)) return { ...target, file: relative };
  }
  return { ...target, file: path.resolve(target.file) };
}

/** The settings Kubernetes implies, where the caller did not set them. */
export function manifestSettings(
  target: ManifestTarget,
  options: Pick<AuditOptions, 'shutdownBudget' | 'memory' | 'port'>,
): { shutdownBudgetMs?: number; memoryBytes?: number; port?: number } {
  const port = (target.container.ports ?? []).find((p) => typeof p.containerPort === 'number' && (p.protocol ?? 'TCP').toUpperCase() === 'TCP')?.containerPort;
  return {
    ...(options.shutdownBudget === undefined ? { shutdownBudgetMs: target.graceSeconds * 1000 } : {}),
    ...(options.memory === undefined && target.run.memoryBytes !== undefined ? { memoryBytes: target.run.memoryBytes } : {}),
    ...(options.port === undefined && port ? { port } : {}),
  };
}

/** The audited container's create options from the manifest (env: the manifest's, then --env over it). */
export function manifestContainerOptions(target: ManifestTarget): Partial<ContainerSpec> {
  const run = target.run;
  return {
    ...(run.entrypoint ? { entrypoint: run.entrypoint } : {}),
    ...(run.cmd ? { cmd: run.cmd } : {}),
    ...(run.user !== undefined ? { user: run.user } : {}),
    ...(run.workingDir !== undefined ? { workingDir: run.workingDir } : {}),
    ...(run.readOnlyRootfs ? { readOnlyRootfs: true } : {}),
    ...(Object.keys(run.tmpfs).length ? { tmpfs: run.tmpfs } : {}),
  };
}
