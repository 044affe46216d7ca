import { candidateOf, findingsIn, looksSecretName, MAX_SCANNED_FILE_BYTES, buildArgsOf, secretEnv, type SecretKind } from '../facts/secrets-scan.js';
import { walkImageExport, type ImageLayout } from '../facts/layers.js';
import { historyKey, layerScanCache, type LayerScanCache } from '../facts/layer-scan-cache.js';
import type { StageView } from '../facts/dockerfile.js';
import type { SourceLocation } from '../types.js';
import { formatBytes, formatMs } from '../units.js';
import { lineWriter, verdict, type Check, type ObserveContext } from './check.js';

export interface SecretFinding {
  kind: SecretKind;
  /** 1-based layer number, base first; absent for the config's ENV. */
  layer?: number;
  /** The history's created_by of that layer (or of the RUN that had the build arg), shortened. */
  createdBy?: string;
  /** The Dockerfile line that made the layer, when the audit built the image. */
  source?: SourceLocation;
  path?: string;
  /** e.g. "//registry.npmjs.org/:_authToken", "NPM_TOKEN", "RSA PRIVATE KEY". */
  what: string;
  /** The value: never printed as such, the redactor masks it wherever bytes leave (run() hands it over). */
  value?: string;
  /** How long the value is, which stays readable once it is masked. */
  length?: number;
  /** A later layer deletes the file: it is gone from the filesystem but still in the image. */
  deletedLater?: boolean;
}

export interface SecretsObservation {
  findings: SecretFinding[];
  layers: number;
  layerBytes: number;
  filesRead: number;
  durationMs: number;
  /** Every layer was scanned clean before, by this scanner (the layer cache): no export was read this time. */
  fromCache?: boolean;
}

const KIND_LABEL: Record<SecretKind, string> = {
  'npmrc-token': '.npmrc credential',
  'env-file': '.env file',
  'private-key': 'private key',
  'git-credentials': '.git/config credentials',
  'env-var': 'secret-looking ENV',
  'build-arg': 'secret-looking build arg',
};

// Evidence quotes the history shortened; the redactor masks the values in it, whole or cut.
const short = (text: string) => (text.length > 120 ? `${text.slice(0, 117)}…` : text);
const valued = (value: string | undefined) => (value ? { value, length: value.length } : {});

/** What the layers hold: each candidate finding with its layer tar's name, whiteouts of files we look at, and the layout. */
interface LayerScan {
  raw: Array<{ layerName: string; path: string; kind: SecretKind; what: string; value?: string }>;
  whiteouts: Array<{ layerName: string; path: string }>;
  filesRead: number;
  layout: Pick<ImageLayout, 'layers' | 'history' | 'layerBytes'>;
}

/** Every layer read from the image export (`docker save`), as it streams. */
async function scanExport(ctx: ObserveContext): Promise<LayerScan & { layout: ImageLayout; filesReadIn: Map<string, number> }> {
  const raw: LayerScan['raw'] = [];
  const whiteouts: LayerScan['whiteouts'] = [];
  const filesReadIn = new Map<string, number>();
  let filesRead = 0;
  const exported = await ctx.docker.exportImage(ctx.imageRef, { signal: ctx.signal, sizeBytes: ctx.basics.image.sizeBytes });
  const layout = await walkImageExport(exported, {
    wants: (path, size) => size <= MAX_SCANNED_FILE_BYTES && candidateOf(path) !== undefined,
    onFile: (file, content) => {
      filesRead++;
      filesReadIn.set(file.layer, (filesReadIn.get(file.layer) ?? 0) + 1);
      for (const f of findingsIn(candidateOf(file.path)!, content.toString('utf8'))) raw.push({ layerName: file.layer, path: file.path, ...f });
    },
    // Only whiteouts of files we look at are kept: memory stays bounded on images that delete a lot.
    onWhiteout: (layerName, path) => {
      if (path.endsWith('/') || candidateOf(path)) whiteouts.push({ layerName, path });
    },
    signal: ctx.signal,
  });
  return { raw, whiteouts, filesRead, layout, filesReadIn };
}

/**
 * The scan without an export, when every layer of the image was scanned clean before (by diffID, by this
 * scanner: src/facts/layer-scan-cache.ts) and which history entries make no layer is known: no finding in
 * any layer, the same counts as a fresh scan. Undefined when anything is missing: then the export is read.
 */
async function scanFromCache(cache: LayerScanCache, basics: ObserveContext['basics']): Promise<LayerScan | undefined> {
  const diffIds = basics.image.layers;
  if (!diffIds?.length) return undefined;
  // The history API lists the config's history newest first, with the same created_by lines.
  const createdBy = basics.history.map((h) => h.createdBy).reverse();
  const [layers, emptyLayers] = await Promise.all([Promise.all(diffIds.map((id) => cache.cleanLayer(id))), cache.emptyLayers(basics.image.id, historyKey(createdBy))]);
  if (!emptyLayers || emptyLayers.length !== createdBy.length || emptyLayers.filter((e) => !e).length !== diffIds.length) return undefined;
  if (!layers.every((l) => l !== undefined)) return undefined;
  return {
    raw: [],
    whiteouts: [],
    filesRead: layers.reduce((sum, l) => sum + l!.filesRead, 0),
    layout: {
      layers: diffIds,
      history: createdBy.map((c, i) => ({ created_by: c, ...(emptyLayers[i] ? { empty_layer: true } : {}) })),
      layerBytes: layers.reduce((sum, l) => sum + l!.layerBytes, 0),
    },
  };
}

/** After a fresh scan: the layers without a finding are remembered by diffID (never one with a finding). */
async function remember(cache: LayerScanCache, basics: ObserveContext['basics'], scan: Awaited<ReturnType<typeof scanExport>>): Promise<void> {
  const diffIds = basics.image.layers;
  const { layout } = scan;
  // The export's layers are the image's RootFS layers, in the same order; anything else is not trusted.
  if (!diffIds || diffIds.length !== layout.layers.length || layout.history.filter((h) => !h.empty_layer).length !== diffIds.length) return;
  const withFindings = new Set(scan.raw.map((r) => r.layerName));
  await Promise.all([
    ...layout.layers.map((name, i) => {
      const layerBytes = layout.layerSizes.get(name);
      if (withFindings.has(name) || layerBytes === undefined) return undefined;
      return cache.rememberCleanLayer(diffIds[i], { layerBytes, filesRead: scan.filesReadIn.get(name) ?? 0 });
    }),
    cache.rememberImage(basics.image.id, historyKey(layout.history.map((h) => h.created_by)), layout.history.map((h) => Boolean(h.empty_layer))),
  ]);
  await cache.prune();
}

async function observeSecrets(ctx: ObserveContext): Promise<SecretsObservation> {
  const started = performance.now();
  const cache = layerScanCache(ctx.settings.layerCacheDir);
  let scan = cache ? await scanFromCache(cache, ctx.basics) : undefined;
  const cached = scan !== undefined;
  if (!scan) {
    const fresh = await scanExport(ctx);
    if (cache) await remember(cache, ctx.basics, fresh);
    scan = fresh;
  }
  const { raw, whiteouts, filesRead, layout } = scan;

  // Layer n is made by the n-th history entry that is not an empty layer.
  const layerHistory = layout.history.filter((h) => !h.empty_layer);
  const stage = await ctx.stage?.();
  const sourceOf = (createdBy: string | undefined) => (stage && createdBy ? stage.madeLayer({ createdBy, sizeBytes: 0, created: '' }) : undefined);
  const layerIndex = new Map(layout.layers.map((name, i) => [name, i]));
  const findings: SecretFinding[] = raw.map((r) => {
    const index = layerIndex.get(r.layerName) ?? -1;
    const createdBy = layerHistory[index]?.created_by;
    const deletedLater = whiteouts.some((w) => (layerIndex.get(w.layerName) ?? -1) > index && (w.path === r.path || (w.path.endsWith('/') && r.path.startsWith(w.path))));
    return {
      kind: r.kind,
      layer: index + 1 || undefined,
      createdBy: createdBy && short(createdBy),
      source: sourceOf(createdBy),
      path: `/${r.path}`,
      what: r.what,
      ...valued(r.value),
      deletedLater: deletedLater || undefined,
    };
  });

  // The config: ENV values are in every container of the image; build args are in its history.
  for (const env of secretEnv(ctx.basics.image.config.env)) {
    const setBy = [...layout.history].reverse().find((h) => new RegExp(`\\bENV\\b.*\\b${env.name}=`).test(h.created_by ?? ''))?.created_by;
    findings.push({ kind: 'env-var', what: env.name, ...valued(env.value), createdBy: setBy && short(setBy), source: sourceOf(setBy) });
  }
  const seenArgs = new Set<string>();
  layout.history.forEach((h) => {
    for (const arg of buildArgsOf(h.created_by ?? '')) {
      if (!arg.value || !looksSecretName(arg.name) || seenArgs.has(`${arg.name}=${arg.value}`)) continue;
      seenArgs.add(`${arg.name}=${arg.value}`);
      const index = layerHistory.indexOf(h);
      findings.push({ kind: 'build-arg', what: arg.name, ...valued(arg.value), layer: index >= 0 ? index + 1 : undefined, createdBy: short(h.created_by ?? ''), source: sourceOf(h.created_by) });
    }
  });
  return { findings, layers: layout.layers.length, layerBytes: layout.layerBytes, filesRead, durationMs: Math.round(performance.now() - started), fromCache: cached || undefined };
}

export function describeFinding(f: SecretFinding): string {
  const where = f.layer ? `layer ${f.layer}${f.source ? ` (${f.source.file}:${f.source.line} ${f.source.instruction})` : f.createdBy ? ` (${f.createdBy})` : ''}` : f.source ? `${f.source.file}:${f.source.line} ${f.source.instruction}` : 'the image config';
  const value = f.value ? ` = ${f.value} (${f.length ?? f.value.length} chars)` : '';
  const path = f.path ? `${f.path}: ` : '';
  return `${KIND_LABEL[f.kind]}: ${path}${f.what}${value}${f.deletedLater ? ' (deleted by a later layer, still in the image)' : ''} — ${where}`;
}

function hintFor(findings: SecretFinding[]): string {
  const kinds = new Set(findings.map((f) => f.kind));
  if (kinds.has('npmrc-token') || kinds.has('build-arg')) {
    return 'Pass registry credentials as a BuildKit secret, never as a file or build arg: `RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci` and build with `--secret id=npmrc,src=$HOME/.npmrc`; a later `rm` does not remove a layer.';
  }
  if (kinds.has('env-file')) return 'Keep .env files out of the image (add `.env*` to .dockerignore) and pass configuration at run time (orchestrator secrets or --env-file).';
  if (kinds.has('env-var')) return 'Do not bake secrets into ENV: pass them at run time (orchestrator secrets, `docker run --env`), and only non-secret defaults in the Dockerfile.';
  return 'Keep keys and credentials out of the build context (.dockerignore) and mount them at build time with `RUN --mount=type=secret`.';
}

export const secrets: Check = {
  id: 'secrets',
  title: 'Has no secrets in any layer or in the config',
  needs: ['image'],
  help: 'Use BuildKit secret mounts (`RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci`) for registry tokens, keep .env files and keys out of the context with .dockerignore, and pass secrets at run time.',
  observe: observeSecrets,
  run({ observed, basics }) {
    const o = observed as SecretsObservation;
    const evidence = { findings: o.findings, layers: o.layers, layerBytes: o.layerBytes, filesRead: o.filesRead, scanMs: o.durationMs, fromCache: o.fromCache };
    if (!o.findings.length && o.layerBytes === 0 && basics.image.sizeBytes > 0) {
      // An export whose layers we could not recognise is not a clean image: nothing was looked at.
      return verdict('error', `could not read any layer of the image export (${o.layers} layers recognised): the layers were not scanned`, evidence);
    }
    if (!o.findings.length) {
      // Say what was done this time: a cached scan read no export (never claim bytes streamed that were not).
      const how = o.fromCache
        ? `${formatBytes(o.layerBytes)}, each layer scanned clean before by this scanner version: layer cache, ${o.filesRead} candidate files read then`
        : `${formatBytes(o.layerBytes)} streamed, ${o.filesRead} candidate files read`;
      return verdict('pass', `no credentials in ${o.layers} layers (${how}) nor in the config's ENV and build args`, evidence);
    }
    const first = o.findings[0];
    const more = o.findings.length > 1 ? ` and ${o.findings.length - 1} more` : '';
    const found = verdict('fail', `${o.findings.length} secret${o.findings.length > 1 ? 's' : ''} in the image: ${describeFinding(first)}${more}`, evidence, hintFor(o.findings));
    return { ...found, secrets: o.findings.flatMap((f) => (f.value ? [f.value] : [])) };
  },
  lines(result) {
    const e = result.evidence as { findings?: SecretFinding[]; layers?: number; layerBytes?: number; scanMs?: number };
    const { lines, add } = lineWriter();
    for (const f of (e.findings ?? []).slice(0, 10)) lines.push(describeFinding(f));
    if ((e.findings?.length ?? 0) > 10) lines.push(`… ${e.findings!.length - 10} more`);
    if (e.layers !== undefined) add('scanned', `${e.layers} layers, ${formatBytes(e.layerBytes ?? 0)} in ${formatMs(e.scanMs ?? 0)}`);
    return lines;
  },
  // The evidence names each layer's line; the verdict points at the likeliest culprit in the final stage.
  locate: (stage) =>
    stage.lastMatching(/^ARG\s+\S*(TOKEN|SECRET|PASSWORD|PASSWD|AUTH|CREDENTIAL|KEY)/i) ??
    stage.lastMatching(/^(COPY|ADD)\b.*(\.npmrc|\.env\b|id_rsa|\.pem|\.key\b)/i) ??
    stage.lastMatching(/^ENV\b.*(TOKEN|SECRET|PASSWORD|PASSWD|AUTH|CREDENTIAL|KEY)\w*\s*=?/i),
};
