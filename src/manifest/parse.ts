// Kubernetes manifests: multi-document YAML (kubectl's, Helm's and kustomize's output), read with the
// `yaml` library. Each workload (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod) gives
// its pod spec and where each part of it is written (file, line), for SARIF locations. A file that is
// not YAML is exit 2 naming the file, the line and the cause.
import { readFileSync } from 'node:fs';
import type { Document, LineCounter } from 'yaml';
import { UsageError } from '../errors.js';
// Loaded on first use: only an audit with --manifest reads YAML here.
import { yamlLibrary as yaml } from '../yaml-library.js';

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Pod'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

/** The part of a pod spec this tool reads (everything else is kept as it came). */
export interface K8sContainer {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: Array<{ name: string; value?: string; valueFrom?: Record<string, unknown> }>;
  envFrom?: Array<Record<string, unknown>>;
  ports?: Array<{ containerPort?: number; name?: string; protocol?: string }>;
  resources?: { limits?: Record<string, string | number>; requests?: Record<string, string | number> };
  securityContext?: K8sSecurityContext;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  livenessProbe?: K8sProbe;
  readinessProbe?: K8sProbe;
  startupProbe?: K8sProbe;
  lifecycle?: { preStop?: K8sHandler; postStart?: K8sHandler };
}

export interface K8sSecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  readOnlyRootFilesystem?: boolean;
}

export interface K8sHandler {
  exec?: { command?: string[] };
  httpGet?: { path?: string; port?: number | string; host?: string; scheme?: string; httpHeaders?: Array<{ name: string; value: string }> };
  tcpSocket?: { port?: number | string; host?: string };
  /** The `sleep` action (Kubernetes 1.29+). */
  sleep?: { seconds?: number };
}

export interface K8sProbe extends K8sHandler {
  grpc?: { port?: number; service?: string };
  initialDelaySeconds?: number;
  timeoutSeconds?: number;
  periodSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}

export interface K8sPodSpec {
  containers?: K8sContainer[];
  initContainers?: K8sContainer[];
  volumes?: Array<{ name: string; emptyDir?: { medium?: string; sizeLimit?: string } } & Record<string, unknown>>;
  securityContext?: K8sSecurityContext;
  terminationGracePeriodSeconds?: number;
}

export interface Workload {
  file: string;
  kind: WorkloadKind;
  name: string;
  /** 1-based line of the document's `kind:`. */
  line: number;
  pod: K8sPodSpec;
  /** The line where a path of the pod spec is written (e.g. ['containers', 0, 'lifecycle', 'preStop']), or the nearest written parent's. */
  lineOf(path: Array<string | number>): number;
}

/** Where the pod spec sits in each kind. */
function podPath(kind: WorkloadKind): string[] {
  if (kind === 'Pod') return ['spec'];
  if (kind === 'CronJob') return ['spec', 'jobTemplate', 'spec', 'template', 'spec'];
  return ['spec', 'template', 'spec'];
}

/** Every workload of one file's text. Throws UsageError (exit 2) with file:line and the cause when it is not YAML. */
export function parseManifestText(file: string, text: string): Workload[] {
  const { LineCounter, parseAllDocuments } = yaml();
  const counter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: false });
  const list = Array.isArray(docs) ? docs : [docs];
  const workloads: Workload[] = [];
  for (const doc of list as Document[]) {
    const error = doc.errors[0];
    if (error) {
      const line = counter.linePos(error.pos[0]).line;
      throw new UsageError(`Bad manifest ${file}:${line}: ${error.message.split('\n')[0]}`);
    }
    // A List (kubectl get -o yaml) holds its objects under items.
    const root = doc.toJS({ maxAliasCount: 1000 }) as Record<string, unknown> | null;
    if (!root || typeof root !== 'object') continue;
    const objects: Array<{ value: Record<string, unknown>; prefix: Array<string | number> }> =
      root.kind === 'List' && Array.isArray(root.items) ? root.items.map((value, i) => ({ value: value as Record<string, unknown>, prefix: ['items', i] })) : [{ value: root, prefix: [] }];
    for (const { value, prefix } of objects) {
      const kind = value?.kind as WorkloadKind;
      if (!WORKLOAD_KINDS.includes(kind)) continue;
      const inner = podPath(kind);
      let pod: unknown = value;
      for (const key of inner) pod = (pod as Record<string, unknown> | undefined)?.[key];
      if (!pod || typeof pod !== 'object') throw new UsageError(`Bad manifest ${file}:${lineAt(doc, counter, [...prefix, 'kind'])}: ${kind} has no pod spec at ${inner.join('.')}`);
      const name = String((value.metadata as Record<string, unknown> | undefined)?.name ?? '(unnamed)');
      workloads.push({
        file,
        kind,
        name,
        line: lineAt(doc, counter, [...prefix, 'kind']),
        pod: pod as K8sPodSpec,
        lineOf: (path) => lineAt(doc, counter, [...prefix, ...inner, ...path]),
      });
    }
  }
  return workloads;
}

/** The line of the deepest node of `path` that is written (a default is at its parent's line). */
function lineAt(doc: Document, counter: LineCounter, path: Array<string | number>): number {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node && (yaml().isMap(node) || yaml().isSeq(node) || node.range)) {
      // A map's range starts at its first key; its key's line is the one above for `key:\n  child`.
      const pair = n > 0 ? keyLine(doc, counter, path.slice(0, n)) : undefined;
      return pair ?? (node.range ? counter.linePos(node.range[0]).line : 1);
    }
  }
  return 1;
}

/** The line of the key that holds `path` (e.g. `preStop:`), when the parent is a map. */
function keyLine(doc: Document, counter: LineCounter, path: Array<string | number>): number | undefined {
  const parent = doc.getIn(path.slice(0, -1), true) as unknown;
  const last = path[path.length - 1];
  if (yaml().isMap(parent)) {
    const pair = parent.items.find((p) => (p.key as { value?: unknown } | null)?.value === last);
    const range = (pair?.key as { range?: [number, number, number] } | null)?.range;
    if (range) return counter.linePos(range[0]).line;
  }
  if (yaml().isSeq(parent) && typeof last === 'number') {
    const range = (parent.items[last] as { range?: [number, number, number] } | undefined)?.range;
    if (range) return counter.linePos(range[0]).line;
  }
  return undefined;
}

/** Every workload of the files, in order. A missing or unreadable file is exit 2. */
export function readManifests(files: string[]): Workload[] {
  return files.flatMap((file) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`Cannot read manifest ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
    return parseManifestText(file, text.replace(/^\uFEFF/, ''));
  });
}
