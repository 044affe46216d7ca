// Which container of the manifests is the audited one, and how Kubernetes would run it: what the audit
// can reproduce with plain Docker (command/args, literal env values, workingDir, runAsUser/runAsGroup,
// a read-only root with the emptyDir volumes as tmpfs, the memory limit), and what it cannot (valueFrom,
// envFrom, configMap/secret volumes), named so the report says so.
import { UsageError } from '../errors.js';
import type { K8sContainer, K8sPodSpec, K8sSecurityContext, Workload } from './parse.js';

/** Kubernetes' default terminationGracePeriodSeconds. */
export const DEFAULT_GRACE_SECONDS = 30;

export interface ManifestRun {
  /** Replaces the image's ENTRYPOINT (the manifest's `command`); with it the image's CMD is dropped, as Kubernetes does. */
  entrypoint?: string[];
  /** Replaces the image's CMD (the manifest's `args`). */
  cmd?: string[];
  /** The literal `value`s of `env` ($(VAR) references expanded as the kubelet does). */
  env: Record<string, string>;
  workingDir?: string;
  /** Docker's `--user`: runAsUser[:runAsGroup]; undefined: the image's own USER. */
  user?: string;
  readOnlyRootfs: boolean;
  /** Mount path → tmpfs options, for the emptyDir (and other writable, empty-at-start) volumes. */
  tmpfs: Record<string, string>;
  memoryBytes?: number;
}

/** The audited container of a manifest, and what the checks judge against it. */
export interface ManifestTarget {
  file: string;
  kind: Workload['kind'];
  workload: string;
  container: K8sContainer;
  containerIndex: number;
  pod: K8sPodSpec;
  /** runAsUser/runAsGroup/runAsNonRoot: the container's over the pod's. */
  security: K8sSecurityContext & { runAsNonRootFrom?: 'pod' | 'container' };
  graceSeconds: number;
  graceDeclared: boolean;
  run: ManifestRun;
  /** What the audited container took from the manifest, in words (for the report). */
  taken: string[];
  /** What the manifest says that plain Docker cannot reproduce, in words. */
  notReproducible: string[];
  /** The 1-based line where a path of the container (e.g. ['lifecycle', 'preStop']) is written. */
  containerLine(path: Array<string | number>): number;
  /** The same for a path of the pod spec (e.g. ['terminationGracePeriodSeconds']). */
  podLine(path: Array<string | number>): number;
}

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, m: 1e-3 };

/** A Kubernetes quantity in bytes ("64Mi", "1G", "129e6", "134217728"); undefined when it is not one. */
export function parseQuantity(input: string | number | undefined): number | undefined {
  if (input === undefined) return undefined;
  if (typeof input === 'number') return input >= 0 ? Math.ceil(input) : undefined;
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)(?:([eE][+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m)?)\s*$/.exec(input);
  if (!m) return undefined;
  const number = Number(m[1] + (m[2] ?? ''));
  const unit = m[3] ?? '';
  return Math.ceil(number * (BINARY[unit] ?? DECIMAL[unit]));
}

/** $(VAR) from the container's earlier literal env, as the kubelet expands it; $$ escapes; unknown stays as written. */
export function expandRefs(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole, name: string | undefined) => (name === undefined ? '$' : name in env ? env[name] : whole));
}

/** "docker.io/library/node:20" → "node:20"; no tag → ":latest". For matching a manifest's image to the audited one. */
export function normaliseRef(ref: string): string {
  let r = ref.trim().replace(/^docker\.io\//, '').replace(/^index\.docker\.io\//, '').replace(/^library\//, '');
  if (r.includes('@')) return r;
  const lastSlash = r.lastIndexOf('/');
  if (!r.slice(lastSlash + 1).includes(':')) r += ':latest';
  return r;
}

/**
 * The container to audit: `--container NAME`; else the one whose image is the audited image reference;
 * else the only one. Anything else is exit 2 listing the candidates. Init containers are not candidates.
 */
export function selectContainer(workloads: Workload[], files: string[], options: { container?: string; imageRefs?: string[] }): { workload: Workload; index: number } {
  const all = workloads.flatMap((workload) => (workload.pod.containers ?? []).map((container, index) => ({ workload, index, container })));
  const describe = (list: typeof all) => list.map((c) => `${c.container.name} (${c.workload.kind}/${c.workload.name}, image ${c.container.image ?? '(none)'}, ${c.workload.file}:${c.workload.lineOf(['containers', c.index, 'name'])})`).join('; ');
  if (!all.length) throw new UsageError(`No container in ${files.join(', ')}: expected a Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob or Pod with containers`);
  let pool = all;
  if (options.container !== undefined) {
    pool = all.filter((c) => c.container.name === options.container);
    if (!pool.length) throw new UsageError(`No container named "${options.container}" in ${files.join(', ')}: the containers are ${describe(all)}`);
  } else if (options.imageRefs?.length) {
    const wanted = new Set(options.imageRefs.map(normaliseRef));
    const matching = all.filter((c) => c.container.image && wanted.has(normaliseRef(c.container.image)));
    if (matching.length) pool = matching;
  }
  if (pool.length > 1) {
    throw new UsageError(`Which container? ${pool.length} containers could be the audited one — name one with --container: ${describe(pool)}`);
  }
  return { workload: pool[0].workload, index: pool[0].index };
}

/** What the manifest says about running the chosen container, as Docker can reproduce it. Pure. */
export function manifestTarget(workload: Workload, index: number): ManifestTarget {
  const pod = workload.pod;
  const container = (pod.containers ?? [])[index];
  const taken: string[] = [];
  const notReproducible: string[] = [];
  const podSec = pod.securityContext ?? {};
  const ctrSec = container.securityContext ?? {};
  const security: ManifestTarget['security'] = {
    runAsUser: ctrSec.runAsUser ?? podSec.runAsUser,
    runAsGroup: ctrSec.runAsGroup ?? podSec.runAsGroup,
    runAsNonRoot: ctrSec.runAsNonRoot ?? podSec.runAsNonRoot,
    readOnlyRootFilesystem: ctrSec.readOnlyRootFilesystem,
    runAsNonRootFrom: ctrSec.runAsNonRoot !== undefined ? 'container' : podSec.runAsNonRoot !== undefined ? 'pod' : undefined,
  };

  const env: Record<string, string> = {};
  for (const entry of container.env ?? []) {
    if (!entry?.name) continue;
    if (entry.valueFrom) {
      const source = Object.keys(entry.valueFrom)[0] ?? 'valueFrom';
      notReproducible.push(`env ${entry.name} (valueFrom ${source}): not set`);
      continue;
    }
    env[entry.name] = expandRefs(String(entry.value ?? ''), env);
  }
  const envCount = Object.keys(env).length;
  if (envCount) taken.push(`env (${envCount}: ${Object.keys(env).join(', ')})`);
  for (const from of container.envFrom ?? []) {
    const source = Object.entries(from).find(([k]) => k !== 'prefix');
    notReproducible.push(`envFrom ${source ? `${source[0]} ${(source[1] as { name?: string })?.name ?? ''}`.trim() : ''}: not set`);
  }

  const run: ManifestRun = { env, readOnlyRootfs: security.readOnlyRootFilesystem === true, tmpfs: {} };
  const expand = (list: unknown[]) => list.map((a) => expandRefs(String(a), env));
  if (container.command?.length) {
    run.entrypoint = expand(container.command);
    run.cmd = container.args ? expand(container.args) : [];
    taken.push(`command ${JSON.stringify(run.entrypoint)}`);
  }
  if (container.args) {
    run.cmd = expand(container.args);
    taken.push(`args ${JSON.stringify(run.cmd)}`);
  }
  if (container.workingDir) {
    run.workingDir = container.workingDir;
    taken.push(`workingDir ${container.workingDir}`);
  }
  if (security.runAsUser !== undefined || security.runAsGroup !== undefined) {
    run.user = security.runAsUser !== undefined ? `${security.runAsUser}${security.runAsGroup !== undefined ? `:${security.runAsGroup}` : ''}` : undefined;
    if (run.user) taken.push(`user ${run.user} (runAsUser${security.runAsGroup !== undefined ? '/runAsGroup' : ''})`);
    else notReproducible.push(`runAsGroup ${security.runAsGroup} without runAsUser: the image's user and group are used`);
  }
  if (run.readOnlyRootfs) taken.push('read-only root filesystem');

  const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
  for (const mount of container.volumeMounts ?? []) {
    const volume = volumes.get(mount.name);
    const type = volume ? Object.keys(volume).find((k) => k !== 'name') ?? 'unknown' : 'undeclared';
    if (type === 'emptyDir' || type === 'ephemeral' || type === 'persistentVolumeClaim' || type === 'hostPath') {
      const size = type === 'emptyDir' ? parseQuantity(volume?.emptyDir?.sizeLimit) : undefined;
      run.tmpfs[mount.mountPath] = ['rw', 'mode=1777', ...(size ? [`size=${size}`] : [])].join(',');
      taken.push(`${type} ${mount.name} at ${mount.mountPath} as tmpfs${type === 'emptyDir' ? '' : ' (empty: its data is not reproduced)'}`);
    } else {
      notReproducible.push(`volume ${mount.name} (${type}) at ${mount.mountPath}: not mounted`);
    }
  }

  const memory = container.resources?.limits?.memory;
  if (memory !== undefined) {
    const bytes = parseQuantity(memory);
    if (bytes === undefined) throw new UsageError(`Bad manifest ${workload.file}:${workload.lineOf(['containers', index, 'resources', 'limits', 'memory'])}: resources.limits.memory "${memory}" is not a Kubernetes quantity`);
    run.memoryBytes = bytes;
    taken.push(`memory limit ${memory}`);
  }
  const graceDeclared = pod.terminationGracePeriodSeconds !== undefined;
  const graceSeconds = Number(pod.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS);
  return {
    file: workload.file,
    kind: workload.kind,
    workload: workload.name,
    container,
    containerIndex: index,
    pod,
    security,
    graceSeconds,
    graceDeclared,
    run,
    taken,
    notReproducible,
    containerLine: (path) => workload.lineOf(['containers', index, ...path]),
    podLine: (path) => workload.lineOf(path),
  };
}

/** The manifest's summary for the report: where, which container, what was taken and what was not. */
export function manifestSummary(target: ManifestTarget) {
  return {
    file: target.file,
    workload: `${target.kind}/${target.workload}`,
    container: target.container.name,
    taken: target.taken,
    notReproducible: target.notReproducible,
  };
}
