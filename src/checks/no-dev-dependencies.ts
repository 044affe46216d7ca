import { formatBytes } from '../units.js';
import { lineWriter, required, verdict, type Check } from './check.js';

export const noDevDependencies: Check = {
  id: 'no-dev-dependencies',
  title: 'No devDependencies in the image',
  needs: ['image', 'files'],
  help: 'Install with `npm ci --omit=dev` (or prune) in the stage that produces the final node_modules; set NODE_ENV=production only after installing build tools you need.',
  run({ files }) {
    const dev = required(files, 'files').devDependencies;
    const evidence: Record<string, unknown> = {
      from: dev.from,
      entryScript: dev.app.entryScript,
      nodeModules: dev.app.installRoot ? `${dev.app.installRoot === '/' ? '' : dev.app.installRoot}/node_modules` : undefined,
      packageJson: dev.app.packageJson,
      devOnlyCount: dev.devOnly?.packages.length,
      searched: dev.app.searched,
      notes: dev.notes,
    };
    if (!dev.devOnly) return verdict('skip', `nothing to compare with: ${dev.notes.join('; ')}`, evidence);
    const fallback = dev.devOnly.source === 'package.json' ? ' (direct devDependencies from package.json: no lockfile)' : '';
    if (!dev.app.installRoot) {
      // Not seeing node_modules is not seeing that it is clean.
      return verdict('skip', `no node_modules found from ${dev.app.startDir} upward (looked in ${dev.app.searched.join(', ')}): nothing to judge`, evidence);
    }
    const where = evidence.nodeModules;
    if (dev.installed.length === 0) {
      return verdict('pass', `none of the ${dev.devOnly.packages.length} dev-only packages is in ${where}${fallback}`, evidence);
    }
    const total = dev.installed.filter((p) => !dev.installed.some((q) => q !== p && p.path.startsWith(`${q.path}/`))).reduce((sum, p) => sum + p.sizeBytes, 0);
    const leaked = dev.installed.map((p) => ({ name: p.name, version: p.version, path: p.imagePath, sizeBytes: p.sizeBytes }));
    const names = leaked.slice(0, 5).map((p) => p.name).join(', ') + (leaked.length > 5 ? `, and ${leaked.length - 5} more` : '');
    return verdict(
      'fail',
      `${leaked.length} dev-only package${leaked.length === 1 ? ' is' : 's are'} installed in ${where} (${formatBytes(total)}): ${names}${fallback}`,
      { ...evidence, leaked, leakedBytes: total },
      'Install production dependencies only in the stage copied to the runtime image: `npm ci --omit=dev` (or `npm prune --omit=dev` after the build).',
    );
  },
  lines(result) {
    const e = result.evidence as { from?: string; nodeModules?: string; leaked?: Array<{ name: string; version?: string; sizeBytes: number; path: string }>; notes?: string[] };
    const { lines, add } = lineWriter();
    add('dev-only set from', e.from);
    add('node_modules', e.nodeModules);
    for (const p of e.leaked ?? []) add('leaked', `${p.name}@${p.version ?? '?'}  ${formatBytes(p.sizeBytes)}  ${p.path}`);
    for (const note of e.notes ?? []) add('note', note);
    return lines;
  },
  locate: (stage) => stage.lastMatching(/^(COPY|ADD)\b.*node_modules|^RUN\b.*\b(npm (ci|install|i)\b|yarn( install)?\b|pnpm (install|i)\b)/s) ?? stage.last('COPY', 'ADD'),
};
