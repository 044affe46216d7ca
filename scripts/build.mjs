#!/usr/bin/env node
// The build: tsc compiles the library (dist/**, with types), then esbuild bundles the CLI into one
// CommonJS file, dist/cli/cli.cjs, run by the bin dist/cli/main.cjs (src/cli/main.ts, bundled too)
// from V8's code cache (src/cli/code-cache.ts). A bundle starts faster (one file to
// read instead of a few hundred module resolutions: see docs/bench.md), a cached one faster still, and
// it lets dockerode's eager requires of what an audit of an image never uses wait until they are used:
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

// The bin, dist/cli/main.cjs (src/cli/main.ts: runs the CLI from V8's code cache), and the CLI it runs,
// dist/cli/cli.cjs (src/cli/entry.ts). Both CommonJS: V8's code cache on Node 20 is for scripts, not ES
// modules, and a CommonJS bin starts ~10 ms sooner than an ES module one (Node's ES module loader is not
// set up). tsc's dist/cli/main.js is the same loader as an ES module (`node dist/cli/main.js` works too).
// Chunks of an earlier build (the CLI was an ES module bundle split in chunks) would be left unused.
rmSync(path.join(out, 'cli/chunks'), { recursive: true, force: true });
const commonJs = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // Whitespace and comments left out: every start reads and decodes the whole text (~20 ms for 1.4 MB
  // on 2 cores), and this makes it 0.4 MB less. Names are kept, so a stack trace still names its
  // functions, and the source map places them (node --enable-source-maps).
  minifyWhitespace: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
  // The sources are ES modules: import.meta.url is the bundle's own URL.
  define: { 'import.meta.url': '__importMetaUrl' },
  banner: { js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
};
const bin = await esbuild.build({ ...commonJs, entryPoints: [entry], outfile: path.join(out, 'cli/main.cjs') });
const result = await esbuild.build({
  ...commonJs,
  entryPoints: [path.join(root, 'src/cli/entry.ts')],
  outfile: path.join(out, 'cli/cli.cjs'),
  // ajv, yaml and tinyglobby are loaded with createRequire on first use by our own code: esbuild
  // does not follow those calls, they stay in node_modules.
  plugins: [lazyPlugin],
  // The lazy stand-ins' require (see lazyPlugin); the bin has none.
  banner: { js: `${commonJs.banner.js}\nconst __bundleRequire = require;` },
  // The Dockerfile parser (0.23 MB with its language-server types) is required from node_modules by
  // the module that parses, which only a context's audit loads (a dynamic import): an image's audit
  // never reads it.
  external: ['dockerfile-ast'],
});
if (bin.errors.length || result.errors.length) process.exit(1);
const bundled = readFileSync(path.join(out, 'cli/main.cjs'), 'utf8');
if (!bundled.startsWith(`${HASHBANG}\n`)) throw new Error(`the bin lost its first line, ${HASHBANG}`);
chmodSync(path.join(out, 'cli/main.cjs'), 0o755);
const cliBytes = readFileSync(path.join(out, 'cli/cli.cjs'));
// The loader reads it as latin1 (one byte per character, where UTF-8 would make V8 hold two for the
// whole text): exact only for ASCII. esbuild escapes non-ASCII in strings and names, and the comments
// are left out, but a String.raw template (a script run in the container) keeps its bytes.
const nonAscii = cliBytes.findIndex((byte) => byte > 0x7f);
if (nonAscii >= 0) throw new Error(`dist/cli/cli.cjs is not ASCII at byte ${nonAscii}: …${cliBytes.subarray(Math.max(0, nonAscii - 60), nonAscii + 20).toString('utf8')}… (a String.raw template's text?)`);
const cli = cliBytes.toString('latin1');
// The loader compiles it as a script (vm.Script), which has no import(): esbuild turns the sources'
// dynamic imports into requires; one left would fail only when reached.
if (/\bimport\(/.test(cli)) throw new Error('dist/cli/cli.cjs has an import() call: the code-cache loader cannot run it');

// dockerode reads its .proto files from __dirname/proto: dist/cli/proto, next to the bundle.
const protoDir = path.join(path.dirname(requireHere.resolve('dockerode/package.json')), 'lib/proto');
mkdirSync(path.join(out, 'cli/proto'), { recursive: true });
for (const file of readdirSync(protoDir)) if (file.endsWith('.proto')) copyFileSync(path.join(protoDir, file), path.join(out, 'cli/proto', file));

const bytes = [bin, result].flatMap((r) => Object.values(r.metafile.outputs)).reduce((sum, o) => sum + o.bytes, 0);
console.error(`build: CLI bundled into ${path.relative(root, path.join(out, 'cli/cli.cjs'))}, run by the bin ${path.relative(root, path.join(out, 'cli/main.cjs'))} (${(bytes / 1024).toFixed(0)} KiB with the maps)`);
