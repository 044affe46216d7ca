import { posix as path } from 'node:path';
import { analyseCommand } from '../facts/command.js';
import type { ClassifiedPackage } from '../facts/deps-graph.js';
import { formatBytes } from '../units.js';
import { lineWriter, required, verdict, type Check } from './check.js';

const FIX = 'Install production dependencies only in the stage copied to the runtime image: `npm ci --omit=dev` (or `npm prune --omit=dev` after the build; `yarn install --production`, `pnpm install --prod`).';

/** Total bytes of packages, a package nested in another counted once; undefined sizes are left out. */
function totalBytes(packages: ClassifiedPackage[]): { bytes: number; unknown: number } {
  const outer = packages.filter((p) => !packages.some((q) => q !== p && p.path.startsWith(`${q.path}/`)));
  return { bytes: outer.reduce((sum, p) => sum + (p.sizeBytes ?? 0), 0), unknown: outer.filter((p) => p.sizeBytes === undefined).length };
}

const sizeText = ({ bytes, unknown }: { bytes: number; unknown: number }) => `${formatBytes(bytes)}${unknown ? `, ${unknown} size${unknown === 1 ? '' : 's'} unknown` : ''}`;
const names = (list: ClassifiedPackage[]) => list.slice(0, 5).map((p) => p.name).join(', ') + (list.length > 5 ? `, and ${list.length - 5} more` : '');
const listed = (list: ClassifiedPackage[]) => list.map((p) => ({ name: p.name, version: p.version, path: p.path, sizeBytes: p.sizeBytes ?? null, ...(p.devBy ? { devBy: p.devBy } : {}) }));

export const noDevDependencies: Check = {
  id: 'no-dev-dependencies',
  title: 'No devDependencies in the image',
  // 'runtime' is read when another check asked for it, not required: images with nothing to run are still judged.
  needs: ['image', 'files'],
  help: 'Install with `npm ci --omit=dev` (or prune) in the stage that produces the final node_modules; set NODE_ENV=production only after installing build tools you need.',
  run({ files, lifecycle }) {
    const dev = required(files, 'files').devDependencies;
    const roots = dev.app.installRoots ?? (dev.app.installRoot ? [dev.app.installRoot] : []);
    const nodeModules = roots.map((r) => `${r === '/' ? '' : r}/node_modules`);
    const notes = [...dev.notes];
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
    const evidence: Record<string, unknown> = {
      from: dev.from,
      entryScript: dev.app.entryScript,
      runningEntry,
      nodeModules: nodeModules[0],
      otherNodeModules: nodeModules.slice(1),
      packageJson: dev.app.packageJson,
      manifestFrom: dev.manifestFrom,
      devOnlyCount: dev.devOnly?.packages.length,
      installedCount: dev.classification?.installedCount,
      productionCount: dev.productionCount,
      crossCheck: dev.crossCheck,
      searched: dev.app.searched,
      readErrors: dev.readErrors,
      notes,
    };
    if (dev.app.pnp && !roots.length) {
      return verdict('skip', `the app uses Yarn Plug'n'Play (${dev.app.pnp}), which this check does not read yet: nothing to judge`, evidence);
    }
    if (dev.bundledEntry && dev.bundledEntry.bareRequires.length === 0) {
      return verdict('pass', `no node_modules, and the entry ${dev.bundledEntry.path} requires no package: the app is bundled`, evidence);
    }
    const nearestError = nodeModules[0] && dev.readErrors?.find((e) => e.startsWith(`reading ${nodeModules[0]}:`));
    if (nearestError) return verdict('error', `could not read the app's node_modules (tried twice): ${nearestError}`, evidence);
    if (!dev.devOnly && !dev.manifestFrom) return verdict('skip', `nothing to compare with: ${notes.join('; ')}`, evidence);
    if (!roots.length) {
      const bundle = dev.bundledEntry ? `; the entry ${dev.bundledEntry.path} requires ${dev.bundledEntry.bareRequires.slice(0, 5).join(', ')}, so it is not a bundle` : '';
      // Not seeing node_modules is not seeing that it is clean.
      return verdict('skip', `no node_modules found from ${dev.app.startDir} upward (looked in ${dev.app.searched.join(', ')}): nothing to judge${bundle}`, evidence);
    }
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
    const basis = dev.from ? ` (${dev.from})` : dev.manifestFrom ? ' (no lockfile: the devDependencies closure in the image)' : '';
    const others = extraneous.length ? `; and ${extraneous.length} other package${extraneous.length === 1 ? '' : 's'} nothing requires (${sizeText(totalBytes(extraneous))})` : '';
    if (leaked.length) {
      return verdict(
        'fail',
        `${leaked.length} dev-only package${leaked.length === 1 ? ' is' : 's are'} installed in ${where} (${sizeText(totalBytes(leaked))}): ${names(leaked)}${others}`,
        evidence,
        FIX,
      );
    }
    if (extraneous.length) {
      return verdict(
        'warn',
        `${extraneous.length} package${extraneous.length === 1 ? '' : 's'} in ${where} that the app never requires (${sizeText(totalBytes(extraneous))}): ${names(extraneous)}; none is dev-only${basis}`,
        evidence,
        'Remove what the app does not require: rebuild node_modules from the lockfile with `npm ci --omit=dev` (or `npm prune --omit=dev`) instead of copying a folder that collected other installs.',
      );
    }
    if (!dev.manifestFrom) {
      return verdict('pass', `none of the ${dev.devOnly!.packages.length} dev-only packages of ${dev.from} is in ${where} (the app's package.json was not found, so extraneous packages were not looked for)`, evidence);
    }
    const all = c.installedCount === 1 ? 'the only package' : `all ${c.installedCount} packages`;
    return verdict('pass', `${all} in ${where} ${c.installedCount === 1 ? 'is' : 'are'} required by the app's production dependencies${basis}`, evidence);
  },
  lines(result) {
    type Item = { name: string; version?: string; sizeBytes: number | null; path: string };
    const e = result.evidence as { from?: string; nodeModules?: string; leaked?: Item[]; extraneous?: Item[]; notes?: string[]; readErrors?: string[]; crossCheck?: { from: string; agrees: boolean } };
    const { lines, add } = lineWriter();
    const item = (p: Item) => `${p.name}@${p.version ?? '?'}  ${p.sizeBytes === null ? 'size unknown' : formatBytes(p.sizeBytes)}  ${p.path}`;
    add('dev-only set from', e.from);
    add('node_modules', e.nodeModules);
    if (e.crossCheck) add('cross-check', `${e.crossCheck.from} ${e.crossCheck.agrees ? 'agrees' : 'disagrees'}`);
    for (const p of e.leaked ?? []) add('leaked', item(p));
    for (const p of (e.extraneous ?? []).slice(0, 20)) add('extraneous', item(p));
    for (const err of e.readErrors ?? []) add('read error', err);
    for (const note of e.notes ?? []) add('note', note);
    return lines;
  },
  locate: (stage) => stage.lastMatching(/^(COPY|ADD)\b.*node_modules|^RUN\b.*\b(npm (ci|install|i)\b|yarn(\.js)?( install)?\b|pnpm(\.c?js)? (install|i)\b)/s) ?? stage.last('COPY', 'ADD'),
};
