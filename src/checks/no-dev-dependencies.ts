import { posix as path } from 'node:path';
import { analyseCommand } from '../facts/command.js';
import type { ClassifiedPackage } from '../facts/deps-graph.js';
import type { DevDependencyFacts } from '../facts/image-facts.js';
import { observed, valueOf } from '../observed.js';
import { formatBytes } from '../units.js';
import { lineWriter, required, unobservedVerdict, verdict, type Check, type Verdict } from './check.js';

const FIX = 'Install production dependencies only in the stage copied to the runtime image: `npm ci --omit=dev` (or `npm prune --omit=dev` after the build; `yarn install --production`, `pnpm install --prod`).';

/** Total bytes of packages, a package nested in another counted once; undefined sizes are left out. */
function totalBytes(packages: ClassifiedPackage[]): { bytes: number; unknown: number } {
  const outer = packages.filter((p) => !packages.some((q) => q !== p && p.path.startsWith(`${q.path}/`)));
  return { bytes: outer.reduce((sum, p) => sum + (p.sizeBytes ?? 0), 0), unknown: outer.filter((p) => p.sizeBytes === undefined).length };
}

const sizeText = ({ bytes, unknown }: { bytes: number; unknown: number }) => `${formatBytes(bytes)}${unknown ? `, ${unknown} size${unknown === 1 ? '' : 's'} unknown` : ''}`;
const names = (list: ClassifiedPackage[]) => list.slice(0, 5).map((p) => p.name).join(', ') + (list.length > 5 ? `, and ${list.length - 5} more` : '');
const listed = (list: ClassifiedPackage[]) => list.map((p) => ({ name: p.name, version: p.version, path: p.path, sizeBytes: p.sizeBytes ?? null, ...(p.devBy ? { devBy: p.devBy } : {}) }));

const nodeModulesOf = (root: string) => `${root === '/' ? '' : root}/node_modules`;

/**
 * The verdict over the gathered facts (pure). An observed absence is an observation: with no
 * node_modules where Node looks for the app's packages, nothing it can require from the image is a
 * devDependency (pass). `skip` and `error` are for what could not be located or read.
 */
export function devDependenciesVerdict(dev: DevDependencyFacts, runningEntry?: string, moreNotes: string[] = []): Verdict {
  const looked = valueOf(dev.nodeModules);
  const roots = dev.app.installRoots ?? (dev.app.installRoot ? [dev.app.installRoot] : []);
  const nodeModules = roots.map(nodeModulesOf);
  const notes = [...dev.notes, ...moreNotes];
  const manifest = valueOf(dev.manifest);
  const lockfile = valueOf(dev.lockfile);
  const entry = valueOf(dev.entrySource ?? observed(undefined));
  const evidence: Record<string, unknown> = {
    from: lockfile?.from,
    entryScript: dev.app.entryScript,
    runningEntry,
    nodeModules: nodeModules[0],
    otherNodeModules: nodeModules.slice(1),
    lookedFor: looked?.lookedFor,
    packageJson: dev.app.packageJson,
    manifestFrom: manifest?.from,
    devOnlyCount: lockfile?.value.packages.length,
    installedCount: dev.classification?.installedCount,
    productionCount: dev.productionCount,
    crossCheck: dev.crossCheck,
    entryRequires: entry?.bareRequires,
    searched: dev.app.searched,
    readErrors: dev.readErrors,
    ...(!dev.manifest.ok ? { packageJsonNotRead: dev.manifest.why } : {}),
    ...(!dev.lockfile.ok ? { lockfileNotRead: dev.lockfile.why } : {}),
    notes,
  };
  if (dev.app.pnp && !roots.length) {
    return verdict('skip', `the app uses Yarn Plug'n'Play (${dev.app.pnp}), which this check does not read yet: nothing to judge`, evidence);
  }
  if (!dev.nodeModules.ok) return unobservedVerdict(dev.nodeModules, evidence, 'error', 'could not tell where the app loads packages from');
  if (!roots.length) {
    // The facts looked from the entry the image's command names; the running app showed another one.
    const elsewhere = runningEntry && dev.app.entryScript && runningEntry !== dev.app.entryScript && !runningEntry.startsWith(`${dev.app.startDir}/`);
    if (elsewhere) return verdict('skip', `the running app's entry is ${runningEntry}, not ${dev.app.entryScript} (read from the image's command): where it loads packages from was not looked at: nothing to judge`, evidence);
    return absenceVerdict(dev, looked!.lookedFor, evidence);
  }

  // The app's node_modules first (its message is the one users know), then a workspace package's own.
  const readError =
    nodeModules.map((dir) => dev.readErrors?.find((e) => e.startsWith(`reading ${dir}:`))).find(Boolean) ?? dev.readErrors?.find((e) => /^reading \S*\/node_modules: /.test(e));
  if (readError) return verdict('error', `could not read the app's node_modules (tried twice): ${readError}`, evidence);
  if (!dev.manifest.ok) return unobservedVerdict(dev.manifest, evidence, 'error', "could not read the app's package.json");
  // Without the app's package.json the lockfile is all there is to judge by.
  if (!dev.lockfile.ok && !manifest) return unobservedVerdict(dev.lockfile, evidence, 'error', 'could not read the lockfile');
  if (!lockfile && !manifest && dev.lockfile.ok) return verdict('skip', `nothing to compare with: ${notes.join('; ')}`, evidence);
  const where = nodeModules.join(', ');
  const c = dev.classification;
  if (!c) return verdict('skip', `${where} could not be read: nothing to judge`, evidence);
  const leaked = c.dev;
  const extraneous = c.extraneous;
  Object.assign(evidence, {
    leaked: listed(leaked),
    leakedBytes: totalBytes(leaked).bytes,
    extraneous: listed(extraneous),
    extraneousBytes: totalBytes(extraneous).bytes,
    reachableButLockDev: c.reachableButLockDev.map((p) => `${p.name}@${p.version ?? '?'}`),
  });
  const basis = lockfile ? ` (${lockfile.from})` : manifest ? ' (no lockfile: the devDependencies closure in the image)' : '';
  const others = extraneous.length ? `; and ${extraneous.length} other package${extraneous.length === 1 ? '' : 's'} nothing requires (${sizeText(totalBytes(extraneous))})` : '';
  // A leak found through package.json stands whatever the lockfile says: it can only name more.
  if (leaked.length) {
    return verdict(
      'fail',
      `${leaked.length} dev-only package${leaked.length === 1 ? ' is' : 's are'} installed in ${where} (${sizeText(totalBytes(leaked))}): ${names(leaked)}${others}`,
      evidence,
      FIX,
    );
  }
  if (extraneous.length) {
    // Whether these are dev-only is what the unread lockfile would tell.
    if (!dev.lockfile.ok) return unobservedVerdict(dev.lockfile, evidence, 'error', `${extraneous.length} package${extraneous.length === 1 ? '' : 's'} in ${where} that the app never requires may be dev-only, and the lockfile could not be read`);
    return verdict(
      'warn',
      `${extraneous.length} package${extraneous.length === 1 ? '' : 's'} in ${where} that the app never requires (${sizeText(totalBytes(extraneous))}): ${names(extraneous)}; none is dev-only${basis}`,
      evidence,
      'Remove what the app does not require: rebuild node_modules from the lockfile with `npm ci --omit=dev` (or `npm prune --omit=dev`) instead of copying a folder that collected other installs.',
    );
  }
  if (!manifest) {
    return verdict('pass', `none of the ${lockfile!.value.packages.length} dev-only packages of ${lockfile!.from} is in ${where} (the app's package.json was not found, so extraneous packages were not looked for)`, evidence);
  }
  const all = c.installedCount === 1 ? 'the only package' : `all ${c.installedCount} packages`;
  return verdict('pass', `${all} in ${where} ${c.installedCount === 1 ? 'is' : 'are'} required by the app's production dependencies${basis}`, evidence);
}

/** No node_modules where Node looks: a pass, once the entry is located and read and nothing else can serve packages. */
function absenceVerdict(dev: DevDependencyFacts, lookedFor: string[], evidence: Record<string, unknown>): Verdict {
  const { entryScript, entryKind, startDir } = dev.app;
  const none = `no node_modules where the app resolves packages from (looked for ${lookedFor.join(', ')})`;
  if (!entryScript) {
    return verdict('skip', `the image's command names no entry script, so where the app loads packages from is not known (no node_modules from ${startDir} upward: looked for ${lookedFor.join(', ')}): nothing to judge`, evidence);
  }
  if (entryKind && !entryKind.ok) return unobservedVerdict(entryKind, evidence, 'error', `could not locate the entry ${entryScript}`);
  if (entryKind?.value === 'absent') return verdict('skip', `the entry ${entryScript} is not in the image: where the app loads packages from is not known: nothing to judge`, evidence);
  if (dev.nodePath && !dev.nodePath.ok) return unobservedVerdict(dev.nodePath, evidence, 'error', 'could not look at NODE_PATH');
  const nodePath = valueOf(dev.nodePath ?? observed([]));
  if (nodePath?.length) {
    return verdict('skip', `${none}, but the image's NODE_PATH names ${nodePath.join(', ')}, which Node also loads packages from and this check does not read: nothing to judge`, { ...evidence, nodePath });
  }
  if (dev.entrySource && !dev.entrySource.ok) return unobservedVerdict(dev.entrySource, evidence, 'error', `could not read the entry ${entryScript}`);
  const requires = valueOf(dev.entrySource ?? observed(undefined))?.bareRequires;
  const bundle = requires?.length === 0 ? `; the entry ${entryScript} requires no package (bundled)` : '';
  const notes = evidence.notes as string[];
  if (requires?.length) notes.push(`the entry names packages that nothing in the image provides: ${requires.slice(0, 5).join(', ')}${requires.length > 5 ? ', …' : ''} (a bundle's optional or lazily loaded dependencies; the app fails if it needs them)`);
  if (entryKind?.value === 'directory') notes.push(`the entry ${entryScript} is a folder: Node runs its package.json "main" or index.js`);
  return verdict('pass', `${none}: nothing the app can require from the image is a devDependency${bundle}`, evidence);
}

export const noDevDependencies: Check = {
  id: 'no-dev-dependencies',
  title: 'No devDependencies in the image',
  // 'runtime' is read when another check asked for it, not required: images with nothing to run are still judged.
  needs: ['image', 'files'],
  help: 'Install with `npm ci --omit=dev` (or prune) in the stage that produces the final node_modules; set NODE_ENV=production only after installing build tools you need.',
  run({ files, lifecycle }) {
    const dev = required(files, 'files').devDependencies;
    const notes: string[] = [];
    // The running node process knows best where the app is; facts were read from the CMD and WORKDIR.
    const runtime = lifecycle?.runtime;
    let runningEntry: string | undefined;
    if (runtime) {
      const script = analyseCommand([], runtime.argv).entryScript;
      runningEntry = script ? path.resolve(runtime.cwd, script) : undefined;
      if (runningEntry && dev.app.entryScript && runningEntry !== dev.app.entryScript && !runningEntry.startsWith(`${dev.app.startDir}/`)) {
        notes.push(`the running app's entry is ${runningEntry}, not ${dev.app.entryScript} (read from the image's command)`);
      }
    }
    return devDependenciesVerdict(dev, runningEntry, notes);
  },
  lines(result) {
    type Item = { name: string; version?: string; sizeBytes: number | null; path: string };
    const e = result.evidence as {
      from?: string;
      nodeModules?: string;
      lookedFor?: string[];
      leaked?: Item[];
      extraneous?: Item[];
      notes?: string[];
      readErrors?: string[];
      crossCheck?: { from: string; agrees: boolean };
      packageJsonNotRead?: string;
      lockfileNotRead?: string;
    };
    const { lines, add } = lineWriter();
    const item = (p: Item) => `${p.name}@${p.version ?? '?'}  ${p.sizeBytes === null ? 'size unknown' : formatBytes(p.sizeBytes)}  ${p.path}`;
    add('dev-only set from', e.from);
    add('node_modules', e.nodeModules);
    if (!e.nodeModules) add('looked for', e.lookedFor?.join(', '));
    add('package.json not read', e.packageJsonNotRead);
    add('lockfile not read', e.lockfileNotRead);
    if (e.crossCheck) add('cross-check', `${e.crossCheck.from} ${e.crossCheck.agrees ? 'agrees' : 'disagrees'}`);
    for (const p of e.leaked ?? []) add('leaked', item(p));
    for (const p of (e.extraneous ?? []).slice(0, 20)) add('extraneous', item(p));
    for (const err of e.readErrors ?? []) add('read error', err);
    for (const note of e.notes ?? []) add('note', note);
    return lines;
  },
  locate: (stage) => stage.lastMatching(/^(COPY|ADD)\b.*node_modules|^RUN\b.*\b(npm (ci|install|i)\b|yarn(\.js)?( install)?\b|pnpm(\.c?js)? (install|i)\b)/s) ?? stage.last('COPY', 'ADD'),
};
