// The `yaml` library, loaded on first use and then kept: most audits read no YAML (only pnpm's and yarn
// berry's lockfiles, and --manifest, do), and loading it was ~10 % of the CLI's start (docs/bench.md).
// esbuild does not follow createRequire: the library stays in node_modules, out of the bundle's start.
import { createRequire } from 'node:module';

let loaded: typeof import('yaml') | undefined;

export function yamlLibrary(): typeof import('yaml') {
  return (loaded ??= createRequire(import.meta.url)('yaml') as typeof import('yaml'));
}
