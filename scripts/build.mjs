#!/usr/bin/env node
// The build: tsc compiles the library (dist/**, with types), then esbuild bundles the CLI into one file,
// dist/cli/main.js, replacing tsc's. A bundle starts faster (one file to read instead of a few hundred
// module resolutions: see docs/bench.md) and lets dockerode's eager requires of what an audit of an
// image never uses wait until they are used:
//   - ssh2 (docker-modem requires it at load for DOCKER_HOST=ssh://…),
//   - @grpc/grpc-js and @grpc/proto-loader (dockerode's BuildKit session),
//   - protobufjs (BuildKit build progress),
// each replaced in the bundle by a stand-in that requires the real package on first use, from where the
// package that asked for it would have found it. Those stay in node_modules (they are dependencies).
// Also copied: dockerode's .proto files, which it reads from `__dirname/proto` (dist/cli/proto here).
//   node scripts/build.mjs [--out DIR] [--no-tsc] [--tolerate-type-errors]
// --tolerate-type-errors: bundle what tsc emitted even when it reported type errors (the test setup's
// habit while several people edit the tree); without it a type error fails the build, as before.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const out = path.resolve(root, arg('--out') ?? 'dist');
const requireHere = createRequire(import.meta.url);

if (!process.argv.includes('--no-tsc')) {
  const tsc = spawnSync(process.execPath, [requireHere.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', out], {
    cwd: root,
    stdio: 'inherit',
  });
  if (tsc.status !== 0 && !process.argv.includes('--tolerate-type-errors')) process.exit(tsc.status ?? 1);
  if (tsc.status !== 0) console.error('build: tsc reported type errors; bundling what it emitted');
}

const esbuild = await import('esbuild');

// The bin is a plain `#!/usr/bin/env node` file (src/cli/main.ts says why): esbuild keeps the entry's
// `#!` line first, before the banner; checked after the build.
const entry = path.join(root, 'src/cli/main.ts');
const HASHBANG = '#!/usr/bin/env node';
if (readFileSync(entry, 'utf8').split('\n')[0] !== HASHBANG) throw new Error(`src/cli/main.ts must start with ${HASHBANG}`);

/** Packages loaded on first use instead of at start: [package, the package whose require asks for it]. */
const LAZY = [
  ['ssh2', 'docker-modem'],
  ['@grpc/grpc-js', 'dockerode'],
  ['@grpc/proto-loader', 'dockerode'],
  ['protobufjs', undefined],
];

const lazyPlugin = {
  name: 'lazy-requires',
  setup(build) {
    const names = LAZY.map(([name]) => name.replace(/[/.]/g, '\\$&'));
    build.onResolve({ filter: new RegExp(`^(${names.join('|')})$`) }, (args) => ({ path: args.path, namespace: 'lazy' }));
    build.onLoad({ filter: /.*/, namespace: 'lazy' }, (args) => {
      const [, from] = LAZY.find(([name]) => name === args.path);
      // __bundleRequire is the bundle's own require (see the banner): esbuild leaves its calls alone.
      const locate = from
        ? `__bundleRequire('node:module').createRequire(__bundleRequire.resolve(${JSON.stringify(`${from}/package.json`)}, { paths: [__bundleRequire.resolve('dockerode/package.json')] }))`
        : '__bundleRequire';
      return {
        loader: 'js',
        contents: `
let real;
const load = () => (real ??= ${locate}(${JSON.stringify(args.path)}));
// A constructor (ssh2's Client is read at load, used with \`new\` later) or any other member, read on use.
const member = (key) => function (...args) {
  const value = load()[key];
  return new.target ? new value(...args) : value.apply(this, args);
};
module.exports = new Proxy({}, {
  get(_, key) {
    if (key === '__esModule' || typeof key === 'symbol') return undefined;
    if (key === 'Client') return member(key);
    return load()[key];
  },
});
`,
      };
    });
  },
};

// Chunk names carry a hash: the ones of an earlier build would pile up.
rmSync(path.join(out, 'cli/chunks'), { recursive: true, force: true });
const result = await esbuild.build({
  entryPoints: [entry],
  // What is imported dynamically (the Dockerfile parser for SARIF locations, the build context, the gate)
  // goes to chunks of its own, read only when used. Not minified: stack traces stay readable.
  outdir: path.join(out, 'cli'),
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  legalComments: 'none',
  // ajv, yaml and tinyglobby are loaded with createRequire on first use by our own code: esbuild
  // does not follow those calls, they stay in node_modules.
  plugins: [lazyPlugin],
  banner: {
    js: [
      "import { createRequire as __createRequire } from 'node:module';",
      "import { dirname as __pathDirname } from 'node:path';",
      "import { fileURLToPath as __fileURLToPath } from 'node:url';",
      // CommonJS dependencies in an ES module bundle: their require, __filename and __dirname.
      'const __bundleRequire = __createRequire(import.meta.url);',
      'const require = __bundleRequire;',
      'const __filename = __fileURLToPath(import.meta.url);',
      'const __dirname = __pathDirname(__filename);',
    ].join('\n'),
  },
  logLevel: 'warning',
  metafile: true,
});
if (result.errors.length) process.exit(1);
const bundled = readFileSync(path.join(out, 'cli/main.js'), 'utf8');
if (!bundled.startsWith(`${HASHBANG}\n`)) throw new Error(`the bundle lost its first line, ${HASHBANG}`);
chmodSync(path.join(out, 'cli/main.js'), 0o755);

// dockerode reads its .proto files from __dirname/proto: the folder of whichever bundle file holds
// dockerode's code — the entry, or a chunk when a dynamic import (the build context) pulled it there.
const protoDir = path.join(path.dirname(requireHere.resolve('dockerode/package.json')), 'lib/proto');
for (const dir of ['cli/proto', 'cli/chunks/proto']) {
  mkdirSync(path.join(out, dir), { recursive: true });
  for (const file of readdirSync(protoDir)) if (file.endsWith('.proto')) copyFileSync(path.join(protoDir, file), path.join(out, dir, file));
}

const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
console.error(`build: CLI bundled into ${path.relative(root, path.join(out, 'cli/main.js'))} (${(bytes / 1024).toFixed(0)} KiB with its map)`);
