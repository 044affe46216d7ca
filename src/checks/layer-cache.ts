import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { appendFile, cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { SourceLocation } from '../types.js';
import { formatMs } from '../units.js';
import { lineWriter, verdict, type Check, type ObserveContext, type Verdict } from './check.js';

export interface RebuildStep {
  /** The builder's step name, e.g. "[deps 4/4] RUN npm ci". */
  name: string;
  cached: boolean;
}

export interface LayerCacheObservation {
  skipped?: string;
  /** The source file changed in the copy of the context (relative path). */
  changedFile?: string;
  /** The ignore file the change was chosen under ("app.Dockerfile.dockerignore", ".dockerignore"), if any. */
  ignoreFile?: string;
  steps?: RebuildStep[];
  rebuildMs?: number;
  /** Every instruction of the Dockerfile, to give steps their lines. */
  instructions?: SourceLocation[];
}

interface ParsedStep {
  stage: string;
  /** "KEYWORD arguments", normalised. */
  instruction: string;
  keyword: string;
  cached: boolean;
  name: string;
}

const normalise = (text: string) => text.replace(/\\\n/g, ' ').replace(/\s+/g, ' ').trim();

/** BuildKit "[stage 3/7] RUN x" and classic "RUN x" step names; internal steps and FROM are left out. */
export function parseSteps(steps: RebuildStep[]): ParsedStep[] {
  const out: ParsedStep[] = [];
  const numbered = /^\[(?:(.+?) )?(\d+)\/(\d+)\] (.*)$/s;
  // BuildKit numbers the Dockerfile's steps; its other vertices ("copy /context /", "exporting to image") are not steps.
  const buildkit = steps.some((s) => numbered.test(s.name));
  for (const step of steps) {
    const m = numbered.exec(step.name);
    if (buildkit ? !m : /^\[/.test(step.name)) continue;
    const instruction = normalise(m ? m[4] : step.name);
    const keyword = instruction.split(' ')[0].toUpperCase();
    if (keyword === 'FROM' || !/^[A-Z]+$/.test(keyword)) continue;
    out.push({ stage: m?.[1] ?? '', instruction, keyword, cached: step.cached, name: step.name });
  }
  return out;
}

const INSTALL = /\b(npm\s+(ci|install|i)\b|pnpm\s+(install|i)\b|yarn(\s+install\b|\s*(&&|;|\||$))|bun\s+install\b)/;

export function isInstallStep(instruction: string): boolean {
  return /^RUN\b/.test(instruction) && INSTALL.test(instruction.replace(/^RUN\s+(--\S+\s+)*/, ''));
}

export interface RebuildAnalysis {
  reran: Array<{ step: string; location?: SourceLocation }>;
  /** Install steps that ran again, each with the first re-run COPY/ADD before it in its stage. */
  installsReran: Array<{ step: string; location?: SourceLocation; invalidatedBy?: { step: string; location?: SourceLocation } }>;
  installSteps: number;
  cachedSteps: number;
}

export function analyseRebuild(steps: RebuildStep[], instructions: SourceLocation[]): RebuildAnalysis {
  const parsed = parseSteps(steps);
  // The Dockerfile view drops flags (--chown, --mount); BuildKit's step names keep them.
  const bare = (text: string) => normalise(text).replace(/\s--[a-z-]+=\S+/g, '');
  const locate = (instruction: string) => instructions.find((i) => bare(i.instruction) === bare(instruction));
  const analysis: RebuildAnalysis = { reran: [], installsReran: [], installSteps: 0, cachedSteps: 0 };
  parsed.forEach((step, index) => {
    if (step.cached) analysis.cachedSteps++;
    else analysis.reran.push({ step: step.name, location: locate(step.instruction) });
    if (!isInstallStep(step.instruction)) return;
    analysis.installSteps++;
    if (step.cached) return;
    const cause = parsed.slice(0, index).find((s) => s.stage === step.stage && !s.cached && (s.keyword === 'COPY' || s.keyword === 'ADD'));
    analysis.installsReran.push({
      step: step.name,
      location: locate(step.instruction),
      invalidatedBy: cause && { step: cause.name, location: locate(cause.instruction) },
    });
  });
  return analysis;
}

const SOURCE = /\.(c|m)?(j|t)sx?$/;
const MANIFESTS = /(^|\/)(package\.json|package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|pnpm-workspace\.yaml|bun\.lockb?|\.npmrc|\.yarnrc(\.yml)?)$/;

async function firstSource(dir: string, relative: string, isSent: (p: string) => boolean): Promise<string | undefined> {
  const absolute = path.join(dir, relative);
  if (!existsSync(absolute)) return undefined;
  if (statSync(absolute).isFile()) return SOURCE.test(relative) && !MANIFESTS.test(relative) && isSent(relative) ? relative : undefined;
  const names = (await readdir(absolute)).sort();
  for (const name of names) {
    if (name === 'node_modules' || name === '.git') continue;
    const found = await firstSource(dir, path.posix.join(relative === '.' ? '' : relative, name), isSent);
    if (found) return found;
  }
  return undefined;
}

/**
 * The source file to touch: the entry script when a COPY sends it (matched by its path's tail), else the
 * first .js/.ts file a COPY sends. Never a manifest or a lockfile.
 */
async function fileToChange(dir: string, sources: string[], entryInImage: string | undefined, isSent: (p: string) => boolean): Promise<string | undefined> {
  if (entryInImage) {
    const parts = entryInImage.split('/').filter(Boolean);
    for (let i = 0; i < parts.length; i++) {
      const tail = parts.slice(i).join('/');
      if (SOURCE.test(tail) && isSent(tail) && existsSync(path.join(dir, tail)) && statSync(path.join(dir, tail)).isFile()) return tail;
    }
  }
  for (const source of sources) {
    if (/[*?[]/.test(source)) continue;
    const found = await firstSource(dir, path.posix.normalize(source.replace(/^\/+/, '')) || '.', isSent);
    if (found) return found;
  }
  return undefined;
}

async function observeLayerCache(ctx: ObserveContext): Promise<LayerCacheObservation> {
  const built = ctx.builtContext;
  if (ctx.target.kind !== 'context' || !ctx.contextDir || !ctx.dockerfile || !built) {
    return { skipped: 'the target is an image reference: there is no build context to change and rebuild' };
  }
  const view = await ctx.stage?.();
  if (!view) throw new Error(`could not read ${ctx.dockerfile} to locate the rebuilt steps`);
  const instructions = view.all;
  const temp = await mkdtemp(path.join(os.tmpdir(), 'image-audit-layer-cache-'));
  const tag = `node-image-audit/layer-cache-probe-${randomBytes(4).toString('hex')}:latest`;
  try {
    // A copy: the user's files are never touched. What is sent is decided by the audit's own build
    // (the ignore file that applied), the same for every builder.
    await cp(ctx.contextDir, temp, { recursive: true, verbatimSymlinks: true });
    const script = ctx.basics.command.entryScript;
    const entryInImage = script ? path.posix.resolve(ctx.basics.image.config.workingDir || '/', script) : undefined;
    const { isSent, ignoreFile } = built;
    const changedFile = await fileToChange(temp, view.copiedSources, entryInImage, isSent);
    if (!changedFile) return { skipped: `no .js/.ts source file is sent by a COPY of the build context${ignoreFile ? ` (with ${ignoreFile})` : ''}: nothing to change`, instructions };
    await appendFile(path.join(temp, changedFile), `\n// image-audit layer-cache probe ${Date.now()}\n`);
    ctx.onStatus?.(`layer-cache: rebuilding with ${changedFile} changed`);
    const started = performance.now();
    const result = await built.rebuild(temp, tag, ctx.signal);
    return { changedFile, ignoreFile, steps: result.steps, rebuildMs: Math.round(performance.now() - started), instructions };
  } finally {
    // By tag: when the rebuild is the audited image itself, only the tag goes.
    await ctx.docker.removeImage(tag).catch(() => undefined);
    await rm(temp, { recursive: true, force: true });
  }
}

/** The verdict over the rebuild (pure). */
export function layerCacheVerdict(o: LayerCacheObservation): Verdict {
  if (o.skipped) return verdict('skip', o.skipped, {});
  if (!o.steps?.length) return verdict('error', 'the rebuild stream did not say which steps came from the cache', { changedFile: o.changedFile });
  const a = analyseRebuild(o.steps, o.instructions ?? []);
  const evidence = {
    changedFile: o.changedFile,
    ignoreFile: o.ignoreFile,
    rebuildMs: o.rebuildMs,
    cachedSteps: a.cachedSteps,
    reran: a.reran,
    installsReran: a.installsReran,
  };
  if (!a.installSteps) return verdict('skip', 'the build has no dependency install step (npm ci/install, yarn install, pnpm install): nothing to keep cached', evidence);
  // Every step from the cache: the change never reached the build, so this rebuild proves nothing.
  if (!a.reran.length) {
    return verdict(
      'error',
      `changing ${o.changedFile} re-ran no step at all: the change did not reach the build (${o.ignoreFile ? `is it excluded by ${o.ignoreFile}?` : 'is the file sent by a COPY?'}), so whether the install stays cached was not observed`,
      evidence,
    );
  }
  if (a.installsReran.length) {
    const first = a.installsReran[0];
    const at = (l?: SourceLocation) => (l ? ` (line ${l.line})` : '');
    const cause = first.invalidatedBy ? `, invalidated by ${first.invalidatedBy.location?.instruction ?? first.invalidatedBy.step}${at(first.invalidatedBy.location)}` : '';
    return verdict(
      'fail',
      `changing ${o.changedFile} re-ran ${first.location?.instruction ?? first.step}${at(first.location)}${cause}; the rebuild took ${formatMs(o.rebuildMs ?? 0)}`,
      evidence,
      'Copy only the manifests before the install and the sources after it: `COPY package.json package-lock.json ./` + `RUN npm ci --omit=dev`, then `COPY . .` (with node_modules in .dockerignore).',
    );
  }
  return verdict('pass', `changing ${o.changedFile} kept ${a.installSteps} install step${a.installSteps > 1 ? 's' : ''} cached; the rebuild took ${formatMs(o.rebuildMs ?? 0)} (${a.reran.length} step${a.reran.length === 1 ? '' : 's'} re-ran)`, evidence);
}

export const layerCache: Check = {
  id: 'layer-cache',
  title: 'A source change does not reinstall the dependencies',
  needs: ['image'],
  // A rebuild: seconds when the install is cached, a whole install when it is not (see docs/bench.md).
  deep: true,
  help: 'Copy the package manifests and lockfile first, install, then copy the sources: `COPY package.json package-lock.json ./`, `RUN npm ci --omit=dev`, then `COPY src ./src`.',
  observe: observeLayerCache,
  run({ observed }) {
    return layerCacheVerdict(observed as LayerCacheObservation);
  },
  lines(result) {
    const e = result.evidence as { changedFile?: string; rebuildMs?: number; reran?: RebuildAnalysis['reran']; installsReran?: RebuildAnalysis['installsReran'] };
    const { lines, add } = lineWriter();
    add('changed', e.changedFile);
    add('rebuild', e.rebuildMs !== undefined ? formatMs(e.rebuildMs) : undefined);
    const where = (s: { step: string; location?: SourceLocation }) => (s.location ? `${s.location.file}:${s.location.line} ${s.location.instruction}` : s.step);
    for (const install of e.installsReran ?? []) {
      lines.push(`re-ran install: ${where(install)}`);
      if (install.invalidatedBy) lines.push(`  invalidated by: ${where(install.invalidatedBy)}`);
    }
    if (result.status !== 'pass') add('re-ran', (e.reran ?? []).map(where).join('; '));
    return lines;
  },
  locate: (stage) => stage.lastMatching(/^RUN\b.*\b(npm\s+(ci|install|i)|pnpm\s+(install|i)|yarn)\b/),
};
