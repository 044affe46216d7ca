#!/usr/bin/env node
// The four speed rows of issue 16, measured side by side on the real daemon in one run (never a timed
// test). Each row is the audit against the least plain Docker must do for the same observation, in
// interleaved rounds (the order rotating each round, so a drift of the machine's load favours neither):
//   1. lifecycle: the six lifecycle checks (--only non-root-user,…,size-budget) of the compliant fixture
//      against `docker run -d --health-interval=500ms` → healthy (docker inspect every 100 ms) → `docker
//      stop` (goal ≤ 1.05×); also beside them, bench/node-floor.mjs: the same run by the least a Node
//      client can be (what running in Node costs), and the four of the six that read no files (what the
//      archive reads cost); neither has a goal;
//   2. default: the default audit (ten checks) against that same run in parallel with `docker save IMAGE >
//      /dev/null`, the least a daemon must do to show every layer (goal ≤ 1.15×). Measured twice: with an
//      empty layer-scan cache each run (the first audit of an image: the export is read) and with the
//      cache warm (a repeated audit: no export);
//   3. concurrent: 4 audits at once (the six checks; compliant, no-init, root-user, dev-deps-leaked)
//      against 4 of those plain runs at once (goal ≤ 1.15×), with the verdicts compared across runs;
//   4. rss: peak RSS (GNU time %M) of the default audit of a 1.8 GB image whose node_modules holds a
//      700 MB dev-only package, with an empty layer-scan cache (goal < 100 MB).
//
//   node bench/audit-vs-floor.mjs [--runs N] [--only lifecycle,default,concurrent,rss] [--bin PATH | --install]
//
// --runs: rounds per row (default 9; the medians are of these). --only also takes the row numbers (1,2,3,4).
// --bin: the CLI to time (default: dist/cli/main.cjs, the bin `npm run build` makes). --install: `npm pack`
// the current dist and install the tarball in a temporary folder, then time that installed bin.
// Needs `bash scripts/setup.sh` (daemon, base image) and a build. The images it builds are tagged
// image-audit-bench/*; its containers carry the label image-audit-bench; both are removed at the end, and
// so is the layer-scan cache folder it gives the audits (IMAGE_AUDIT_CACHE_DIR, a temporary folder).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const runs = Number(arg('--runs', 9));
const ROWS = ['lifecycle', 'default', 'concurrent', 'rss'];
const only = new Set(arg('--only', ROWS.join(',')).split(',').map((r) => ROWS[Number(r) - 1] ?? r));
for (const r of only) if (!ROWS.includes(r)) throw new Error(`--only: unknown row "${r}" (rows: ${ROWS.join(', ')} or 1-4)`);
const TAG = 'image-audit-bench';
const FIXTURES = path.join(root, 'fixtures/service');
const SIX = 'non-root-user,init-pid1,sigterm-shutdown,healthcheck,no-dev-dependencies,size-budget';
/** The six without the two that read files (non-root-user's /etc/passwd, no-dev-dependencies' package.json and node_modules): no files container, no archive read. */
const FOUR_NO_FILES = 'init-pid1,sigterm-shutdown,healthcheck,size-budget';
const GOAL = { lifecycle: 1.05, default: 1.15, concurrent: 1.15, rssMB: 100 };

const docker = (...args) => execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (s.length - 1) * q;
  return s[Math.floor(at)] + (s[Math.ceil(at)] - s[Math.floor(at)]) * (at - Math.floor(at));
};
const median = (xs) => quantile(xs, 0.5);
const sec = (ms) => (ms / 1000).toFixed(2);
const spread = (xs) => `median ${sec(median(xs))} s, IQR ${sec(quantile(xs, 0.25))}–${sec(quantile(xs, 0.75))} s, range ${sec(Math.min(...xs))}–${sec(Math.max(...xs))} s`;
const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' ');
const log = (line) => process.stderr.write(`bench: ${line}\n`);
const temps = [];
const tempDir = (prefix) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(dir);
  return dir;
};

// ---- the CLI under test -------------------------------------------------------------------------
function resolveBin() {
  if (process.argv.includes('--install')) {
    const dir = tempDir('image-audit-bench-');
    // The current dist as it is: no prepare script (it would rebuild from the working tree).
    const tgz = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop();
    writeFileSync(path.join(dir, 'package.json'), '{"private":true}');
    execFileSync('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--silent', path.join(dir, tgz)], { cwd: dir, stdio: 'inherit' });
    return path.join(dir, 'node_modules/.bin/image-audit');
  }
  return path.resolve(arg('--bin', path.join(root, 'dist/cli/main.cjs')));
}
const bin = resolveBin();
if (!existsSync(bin)) throw new Error(`no CLI at ${bin}: run npm run build first`);
// tsc's dist/cli/main.js is the same loader as an ES module, ~10 ms slower to start than the shipped bin.
if (path.basename(bin) === 'main.js') log(`warning: ${bin} is tsc's ES module loader, not the bin that users run (dist/cli/main.cjs): its start is slower`);
// A .js or .cjs file is run with this node; an installed bin (node_modules/.bin/…) is run as it is.
const cli = (args) => (/\.c?js$/.test(bin) ? [process.execPath, [bin, ...args]] : [bin, args]);
// The audits' layer-scan cache: a folder of the bench's own (never the user's), warmed or emptied per row.
const warmCache = tempDir('image-audit-bench-cache-');
// A cold audit is a first audit of an image, not a first start of the CLI: its folder gets the CLI's
// compiled code (v8/, src/cli/code-cache.ts) that the warm folder has by then, and no layer scan.
const emptyCache = () => {
  const dir = tempDir('image-audit-bench-cold-');
  if (existsSync(path.join(warmCache, 'v8'))) cpSync(path.join(warmCache, 'v8'), path.join(dir, 'v8'), { recursive: true });
  return dir;
};
// The CLI's first start in the warm folder writes its compiled code there, as a user's first start does.
execFileSync(...cli(['--version']), { env: { ...process.env, IMAGE_AUDIT_CACHE_DIR: warmCache }, stdio: 'ignore' });

/**
 * One audit as a child process: wall time (process start to exit, container removal included), exit code,
 * verdicts, and its peak RSS (GNU time) when asked.
 */
function auditOnce(image, { only: checks, cacheDir = warmCache, rss = false } = {}) {
  return new Promise((resolve, reject) => {
    const [cmd, args] = cli([image, '--format', 'json', ...(checks ? ['--only', checks] : [])]);
    const timeFile = rss ? path.join(os.tmpdir(), `image-audit-bench-${process.pid}-${Math.random().toString(36).slice(2)}.time`) : undefined;
    const [command, argv] = rss ? ['/usr/bin/time', ['-f', '%M', '-o', timeFile, cmd, ...args]] : [cmd, args];
    const start = performance.now();
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', IMAGE_AUDIT_CACHE_DIR: cacheDir } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - start;
      let report;
      try {
        report = JSON.parse(stdout);
      } catch {
        return reject(new Error(`audit of ${image} exited ${code} without a JSON report: ${stderr.trim().slice(-500)}`));
      }
      const verdicts = Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
      const maxRssKiB = timeFile ? Number(readFileSync(timeFile, 'utf8').trim().split('\n').pop()) : undefined;
      if (timeFile) rmSync(timeFile, { force: true });
      resolve({ ms, code, verdicts, maxRssKiB, report });
    });
  });
}

// ---- images ---------------------------------------------------------------------------------------
const builtTags = [];
async function buildFixture(name, dockerfile, contextDir = FIXTURES, buildArgs = {}) {
  const tag = `${TAG}/${name}:latest`;
  const { DockerodePort } = await import(pathToFileURL(path.join(root, 'dist/docker/dockerode-port.js')).href);
  const { resolveContext } = await import(pathToFileURL(path.join(root, 'dist/target/context.js')).href);
  const { buildImage } = await import(pathToFileURL(path.join(root, 'dist/target/build.js')).href);
  const context = resolveContext(contextDir, dockerfile);
  const started = performance.now();
  await buildImage(new DockerodePort(), { context: context.tar, contextDir: context.dir, dockerfile: context.dockerfile, buildArgs, tag });
  builtTags.push(tag);
  log(`built ${tag} in ${sec(performance.now() - started)} s`);
  return tag;
}

function removeBenchContainers() {
  for (const id of docker('ps', '-aq', '--filter', `label=${TAG}`).split('\n').filter(Boolean)) spawnSync('docker', ['rm', '-f', id], { stdio: 'ignore' });
}

function cleanup() {
  removeBenchContainers();
  // Only our tags: an image that also carries another tag keeps it.
  for (const tag of builtTags.reverse()) spawnSync('docker', ['rmi', tag], { stdio: 'ignore' });
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
}

// ---- the floors -----------------------------------------------------------------------------------
const FLOOR_SCRIPT = `id=$(docker run -d --label ${TAG} --health-interval=500ms "$1") || exit 1
n=0; until [ "$(docker inspect -f '{{.State.Health.Status}}' "$id")" = healthy ]; do n=$((n+1)); [ $n -gt 600 ] && exit 1; sleep 0.1; done
docker stop "$id" >/dev/null`;

/** A child process: its wall time, or a rejection naming it with the end of what it wrote to stderr. */
function timedChild(command, argv, what) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - start) : reject(new Error(`${what} exited ${code}: ${stderr.trim().slice(-300)}`))));
  });
}
/** A shell script as a child process (`$1`… are `args`). */
const timedShell = (script, args, what) => timedChild('sh', ['-c', script, what, ...args], `${what} of ${args[0]}`);

/** `docker run --health-interval=500ms` → healthy → `docker stop` (the container's removal is not counted). */
const floorRun = (image) => timedShell(FLOOR_SCRIPT, [image], 'floor');
/** Row 1's run done by the least a Node client can be (bench/node-floor.mjs): what running in Node costs. */
const nodeFloorRun = (image) => timedChild(process.execPath, [path.join(root, 'bench/node-floor.mjs'), image, TAG], `node-floor of ${image}`);
/** The image as `docker save` streams it, thrown away. */
const saveImage = (image) => timedShell('docker save "$1" > /dev/null', [image], 'docker save');
/** Several things at once: the wall time until the last one ends. */
async function together(works) {
  const start = performance.now();
  await Promise.all(works.map((w) => w()));
  return performance.now() - start;
}

/**
 * Interleaved rounds of several contenders: each round runs every contender once, one after another,
 * the order rotating. Returns each contender's times (ms).
 */
async function interleaved(name, contenders) {
  const names = Object.keys(contenders);
  const times = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < runs; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]);
    for (const n of order) times[n].push(await contenders[n]());
    removeBenchContainers();
    log(`${name} round ${round + 1}/${runs}: ${names.map((n) => `${n} ${sec(times[n][round])} s`).join(', ')} (load ${load()})`);
  }
  return times;
}

const ok = (a) => {
  if (a.code !== 0) throw new Error(`an audit exited ${a.code}: ${JSON.stringify(a.verdicts)}`);
  return a.ms;
};

// ---- the rows -------------------------------------------------------------------------------------
async function rowLifecycle(image) {
  await floorRun(image); // warm-up: page cache, daemon
  await auditOnce(image, { only: SIX });
  await nodeFloorRun(image);
  const t = await interleaved('1. lifecycle', {
    floor: () => floorRun(image),
    node: () => nodeFloorRun(image),
    audit: async () => ok(await auditOnce(image, { only: SIX })),
    noFiles: async () => ok(await auditOnce(image, { only: FOUR_NO_FILES })),
  });
  return t;
}

async function rowDefault(image) {
  await together([() => floorRun(image), () => saveImage(image)]); // warm-up
  await auditOnce(image); // warms the cache for the warm runs
  const t = await interleaved('2. default', {
    floor: () => together([() => floorRun(image), () => saveImage(image)]),
    cold: async () => ok(await auditOnce(image, { cacheDir: emptyCache() })),
    warm: async () => ok(await auditOnce(image)),
  });
  return { cold: t.cold, warm: t.warm, floor: t.floor };
}

async function rowConcurrent(images) {
  const key = (v) => JSON.stringify(v, Object.keys(v).sort());
  // Each image alone once (also the warm-up): the verdicts that every run at once must repeat.
  const alone = {};
  for (const image of images) alone[image] = key((await auditOnce(image, { only: SIX })).verdicts);
  await together(images.map((i) => () => floorRun(i)));
  const differ = [];
  const t = await interleaved('3. concurrent', {
    floor: () => together(images.map((i) => () => floorRun(i))),
    audit: async () => {
      const start = performance.now();
      const all = await Promise.all(images.map((i) => auditOnce(i, { only: SIX })));
      all.forEach((a, n) => {
        if (key(a.verdicts) !== alone[images[n]]) differ.push(`${images[n]}: ${key(a.verdicts)} (alone: ${alone[images[n]]})`);
      });
      return performance.now() - start;
    },
  });
  return { audit: t.audit, floor: t.floor, alone, differ };
}

async function rowRss(base) {
  if (!existsSync('/usr/bin/time')) throw new Error('row 4 needs GNU time (/usr/bin/time)');
  const dir = tempDir('image-audit-bench-big-');
  // 700 MB in a dev-only package of the app's node_modules (the audit sizes it), plus 900 MB elsewhere.
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'Dockerfile'),
    [
      'ARG BASE',
      'FROM ${BASE}',
      'RUN mkdir -p node_modules/fake-tsc && head -c 700000000 /dev/zero > node_modules/fake-tsc/blob.bin',
      'RUN head -c 900000000 /dev/zero > /home/node/filler.bin',
      '',
    ].join('\n'),
  );
  const big = await buildFixture('big', 'Dockerfile', dir, { BASE: base });
  const sizeMB = Number(docker('image', 'inspect', '-f', '{{.Size}}', big)) / 1e6;
  const cold = [];
  // Every audit with an empty cache: the whole 1.8 GB export goes through the layer scan.
  for (let r = 0; r < Math.max(1, Math.min(runs, 3)); r++) {
    const a = await auditOnce(big, { rss: true, cacheDir: emptyCache() });
    cold.push(a);
    log(`4. rss round ${r + 1}: ${(a.maxRssKiB / 1024).toFixed(0)} MiB, ${sec(a.ms)} s, exit ${a.code} (load ${load()})`);
  }
  await auditOnce(big); // fills the warm cache with this image's layers
  const warm = await auditOnce(big, { rss: true });
  log(`4. rss, cache warm (no export): ${(warm.maxRssKiB / 1024).toFixed(0)} MiB, ${sec(warm.ms)} s`);
  return { sizeMB, cold, warm, peakMB: (Math.max(...cold.map((r) => r.maxRssKiB)) * 1024) / 1e6 };
}

// ---- main -----------------------------------------------------------------------------------------
const lines = [];
const out = (line = '') => {
  lines.push(line);
  console.log(line);
};
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});
const table = [];
/** A row of the table: the medians and their ratio, against the goal when the row has one. */
const ratioRow = (row, audit, floor, goal) => {
  const ratio = median(audit) / median(floor);
  const judged = goal === undefined ? ['—', '—'] : [`≤ ${goal.toFixed(2)}×`, ratio <= goal ? 'yes' : 'no'];
  table.push([row, `${sec(median(audit))} s`, `${sec(median(floor))} s`, `${ratio.toFixed(2)}×`, ...judged]);
};
try {
  const nodeImage = process.env.NODE_IMAGE || execFileSync('bash', [path.join(root, 'scripts/node-base-image.sh')], { encoding: 'utf8' }).trim();
  const service = await buildFixture('service', 'Dockerfile', FIXTURES, { NODE_IMAGE: nodeImage });
  out(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, docker ${docker('version', '-f', '{{.Server.Version}}')} (API ${docker('version', '-f', '{{.Server.APIVersion}}')}), node ${process.version}`);
  out(`bin: ${bin}; ${runs} interleaved rounds per row; load average at start: ${load()}`);

  if (only.has('lifecycle')) {
    const r = await rowLifecycle(service);
    out();
    out(`1. the six lifecycle checks (--only ${SIX}) of ${service}`);
    out(`   floor (docker run --health-interval=500ms → healthy → docker stop): ${spread(r.floor)}`);
    out(`   node floor (the same run by the least a Node client can be: node:http, healthy from the event stream; bench/node-floor.mjs): ${spread(r.node)}`);
    out(`   audit: ${spread(r.audit)}`);
    out(`   audit of the four that read no files (--only ${FOUR_NO_FILES}): ${spread(r.noFiles)}`);
    ratioRow('1. six lifecycle checks vs docker run → healthy → stop', r.audit, r.floor, GOAL.lifecycle);
    // No goals: where the difference comes from.
    ratioRow('1n. the node floor vs docker run → healthy → stop (no goal: what running in Node costs)', r.node, r.floor);
    ratioRow('1a. six lifecycle checks vs the node floor (no goal: what the audit adds to a Node client)', r.audit, r.node);
    ratioRow('1f. the four that read no files vs docker run → healthy → stop (no goal: the six less their archive reads)', r.noFiles, r.floor);
  }

  if (only.has('default')) {
    const r = await rowDefault(service);
    out();
    out(`2. the default audit (ten checks) of ${service}`);
    out(`   floor (the run of 1. in parallel with docker save IMAGE > /dev/null): ${spread(r.floor)}`);
    out(`   audit, empty layer-scan cache (the image export is read): ${spread(r.cold)}`);
    out(`   audit, layer-scan cache warm (no export): ${spread(r.warm)}`);
    ratioRow('2. default audit, first time (empty cache) vs run ‖ docker save', r.cold, r.floor, GOAL.default);
    ratioRow('2b. default audit, repeated (cache warm) vs run ‖ docker save', r.warm, r.floor, GOAL.default);
  }

  if (only.has('concurrent')) {
    const images = [service];
    for (const name of ['no-init', 'root-user', 'dev-deps-leaked']) images.push(await buildFixture(name, `${name}.Dockerfile`, FIXTURES, { NODE_IMAGE: nodeImage }));
    const r = await rowConcurrent(images);
    out();
    out(`3. 4 audits at once (the six checks) of ${images.join(', ')}, on ${os.cpus().length} cores`);
    out(`   floor (4 runs of 1. at once): ${spread(r.floor)}`);
    out(`   audit (4 audits at once): ${spread(r.audit)}`);
    out(`   verdicts ${r.differ.length ? `DIFFER from the audit alone: ${r.differ.join('; ')}` : 'identical in every run at once and alone'}`);
    ratioRow('3. 4 audits at once vs 4 docker runs at once', r.audit, r.floor, GOAL.concurrent);
  }

  if (only.has('rss')) {
    const r = await rowRss(service);
    out();
    out(`4. peak RSS, the default audit of a ${(r.sizeMB / 1000).toFixed(2)} GB image with a 700 MB file in a dev-only package of node_modules`);
    out(`   empty cache: ${r.cold.map((x) => `${((x.maxRssKiB * 1024) / 1e6).toFixed(0)} MB (${(x.maxRssKiB / 1024).toFixed(0)} MiB) in ${sec(x.ms)} s`).join(', ')}; cache warm (no export): ${((r.warm.maxRssKiB * 1024) / 1e6).toFixed(0)} MB in ${sec(r.warm.ms)} s`);
    out(`   verdicts: ${JSON.stringify(r.cold[0].verdicts)}`);
    table.push(['4. peak RSS, 1.8 GB image (empty cache)', `${r.peakMB.toFixed(0)} MB`, '—', '—', `< ${GOAL.rssMB} MB`, r.peakMB < GOAL.rssMB ? 'yes' : 'no']);
  }
  out();
  out(`load average at end: ${load()}`);
  out();
  const header = ['row', 'audit (median)', 'floor (median)', 'ratio', 'goal', 'met?'];
  out(`| ${header.join(' | ')} |`);
  out(`| ${header.map(() => '---').join(' | ')} |`);
  for (const row of table) out(`| ${row.join(' | ')} |`);
} finally {
  cleanup();
}
