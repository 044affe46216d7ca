import { formatBytes } from '../units.js';
import { required, verdict, type Check } from './check.js';

export const noDevDependencies: Check = {
  id: 'no-dev-dependencies',
  title: 'No devDependencies in the image',
  needs: ['image', 'files'],
  run({ files }) {
    const dev = required(files, 'files').devDependencies;
    const evidence: Record<string, unknown> = {
      from: dev.from,
      entryScript: dev.app.entryScript,
      nodeModules: dev.app.installRoot ? `${dev.app.installRoot === '/' ? '' : dev.app.installRoot}/node_modules` : undefined,
      packageJson: dev.app.packageJson,
      devOnlyCount: dev.devOnly?.packages.length,
      notes: dev.notes,
    };
    if (!dev.devOnly) return verdict('skip', `nothing to compare with: ${dev.notes.join('; ')}`, evidence);
    const fallback = dev.devOnly.source === 'package.json' ? ' (direct devDependencies from package.json: no lockfile)' : '';
    if (!dev.app.installRoot) {
      return verdict('pass', `no node_modules from ${dev.app.startDir} upward: no dev-only package is installed${fallback}`, evidence);
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
    );
  },
};
