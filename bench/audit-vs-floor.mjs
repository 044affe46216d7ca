#!/usr/bin/env node
// The three speed targets of the audit, measured on the real daemon (never a timed test):
//   1. floor: one audit of the prebuilt compliant fixture against plain Docker doing the same — `docker run
//      -d --health-interval=500ms` → healthy → `docker stop` — in interleaved rounds (target ≤ 1.10×);
//   2. concurrent: 4 audits of 4 different images at once, against the longest of the same audits run
//      alone, with the verdicts of both compared (target ≤ 1.5×, identical verdicts);
//   3. rss: the peak resident memory of an audit of a 1.8 GB image whose node_modules holds a 700 MB
//      file, in a dev-only package so the audit measures it (target < 150 MB).
//
//   node bench/audit-vs-floor.mjs [--runs N] [--rounds N] [--only floor,concurrent,rss] [--checks IDS] [--bin PATH | --install]
//
// --bin: the CLI to time (default: dist/cli/main.js, as `npm run build` makes it). --install: `npm pack`
// the current dist and install the tarball in a temporary folder, then time that installed bin.
// Needs `bash scripts/setup.sh` (daemon, base image) and a build. The images it builds are tagged
// image-audit-bench/*; its containers carry the label image-audit-bench; both are removed at the end.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const runs = Number(arg('--runs', 15));
const rounds = Number(arg('--rounds', 5));
const only = new Set(arg('--only', 'floor,concurrent,rss').split(','));
// --checks IDS: audit only these checks (e.g. the six lifecycle checks of the engine target); default: all default checks.
const checks = arg('--checks', undefined);
const TAG = 'image-audit-bench';
const FIXTURES = path.join(root, 'fixtures/service');
const TARGET = { floor: 1.1, concurrent: 1.5, rssMiB: 150 };

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

// ---- the CLI under test -------------------------------------------------------------------------
let cleanupDir;
function resolveBin() {
  if (process.argv.includes('--install')) {
    cleanupDir = mkdtempSync(path.join(os.tmpdir(), 'image-audit-bench-'));
    // The current dist as it is: no prepare script (it would rebuild from the working tree).
    const tgz = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', cleanupDir], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop();
    writeFileSync(path.join(cleanupDir, 'package.json'), '{"private":true}');
    execFileSync('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--silent', path.join(cleanupDir, tgz)], { cwd: cleanupDir, stdio: 'inherit' });
    return path.join(cleanupDir, 'node_modules/.bin/image-audit');
  }
  return path.resolve(arg('--bin', path.join(root, 'dist/cli/main.js')));
}
const bin = resolveBin();
if (!existsSync(bin)) throw new Error(`no CLI at ${bin}: run npm run build first`);
// The test setup compiles dist/ with tsc alone: its main.js is not what is shipped.
if (bin.endsWith('.js') && !readFileSync(bin, 'utf8').includes('__bundleRequire')) {
  log(`warning: ${bin} is not the bundle that \`npm run build\` makes (tsc output?): its start is slower than the shipped bin's`);
}
// A .js file is run with this node; an installed bin (node_modules/.bin/…) is run as it is.
const cli = (args) => (bin.endsWith('.js') ? [process.execPath, [bin, ...args]] : [bin, args]);

/** One audit as a child process: wall time, exit code, verdicts, and its peak RSS when GNU time is there. */
function auditOnce(image, { rss = false } = {}) {
  return new Promise((resolve, reject) => {
    const [cmd, args] = cli([image, '--format', 'json', ...(checks ? ['--only', checks] : [])]);
    const timeFile = rss ? path.join(os.tmpdir(), `image-audit-bench-${process.pid}-${Math.random().toString(36).slice(2)}.time`) : undefined;
    const [command, argv] = rss ? ['/usr/bin/time', ['-f', '%M', '-o', timeFile, cmd, ...args]] : [cmd, args];
    const start = performance.now();
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
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
      resolve({ ms, code, verdicts, maxRssKiB });
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

function cleanup() {
  for (const id of docker('ps', '-aq', '--filter', `label=${TAG}`).split('\n').filter(Boolean)) docker('rm', '-f', id);
  // Only our tags: an image that also carries another tag keeps it.
  for (const tag of builtTags.reverse()) spawnSync('docker', ['rmi', tag], { stdio: 'ignore' });
  if (cleanupDir) rmSync(cleanupDir, { recursive: true, force: true });
}

// ---- 1. floor -------------------------------------------------------------------------------------
function floorOnce(image) {
  const start = performance.now();
  const id = docker('run', '-d', '--label', TAG, '--health-interval=500ms', image);
  const deadline = Date.now() + 60_000;
  while (docker('inspect', '-f', '{{.State.Health.Status}}', id) !== 'healthy') {
    if (Date.now() > deadline) throw new Error('floor: not healthy in 60 s');
    spawnSync('sleep', ['0.1']);
  }
  docker('stop', id);
  const elapsed = performance.now() - start;
  docker('rm', id);
  return elapsed;
}

/** The floor as a child process, so that several can run at once. */
function floorAsync(image) {
  const script = `id=$(docker run -d --label ${TAG} --health-interval=500ms "$1") || exit 1
n=0; until [ "$(docker inspect -f '{{.State.Health.Status}}' "$id")" = healthy ]; do n=$((n+1)); [ $n -gt 600 ] && exit 1; sleep 0.1; done
docker stop "$id" >/dev/null`;
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn('sh', ['-c', script, 'floor', image], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - start) : reject(new Error(`floor of ${image} exited ${code}`))));
  });
}

async function benchFloor(image) {
  floorOnce(image); // warm-up: page cache, daemon
  await auditOnce(image);
  const floor = [];
  const audit = [];
  const ratios = [];
  for (let i = 0; i < runs; i++) {
    // Alternate which goes first, so a drift in the machine's load favours neither.
    const pair = i % 2 === 0 ? [() => floorOnce(image), () => auditOnce(image)] : [() => auditOnce(image), () => floorOnce(image)];
    const results = [];
    for (const run of pair) results.push(await run());
    const [f, a] = i % 2 === 0 ? results : results.reverse();
    if (a.code !== 0) throw new Error(`the audit of ${image} exited ${a.code}: ${JSON.stringify(a.verdicts)}`);
    floor.push(f);
    audit.push(a.ms);
    ratios.push(a.ms / f);
    log(`floor round ${i + 1}/${runs}: floor ${sec(f)} s, audit ${sec(a.ms)} s (load ${load()})`);
  }
  return { floor, audit, ratios, ratio: median(audit) / median(floor) };
}

// ---- 2. concurrent ------------------------------------------------------------------------------
async function benchConcurrent(images) {
  const alone = Object.fromEntries(images.map((i) => [i, []]));
  const together = [];
  const verdicts = Object.fromEntries(images.map((i) => [i, new Set()]));
  const key = (v) => JSON.stringify(v, Object.keys(v).sort());
  await Promise.all(images.map((i) => auditOnce(i))); // warm-up
  // What Docker itself does with 4 at once: the same floor as in 1., alone and 4 together.
  const floorAlone = Object.fromEntries(images.map((i) => [i, []]));
  const floorTogether = [];
  for (let r = 0; r < rounds; r++) {
    for (const image of images) floorAlone[image].push(await floorAsync(image));
    const start = performance.now();
    await Promise.all(images.map((i) => floorAsync(i)));
    floorTogether.push(performance.now() - start);
    for (const id of docker('ps', '-aq', '--filter', `label=${TAG}`).split('\n').filter(Boolean)) docker('rm', '-f', id);
  }
  const floorLongest = Math.max(...images.map((i) => median(floorAlone[i])));
  for (let r = 0; r < rounds; r++) {
    for (const image of images) {
      const a = await auditOnce(image);
      alone[image].push(a.ms);
      verdicts[image].add(key(a.verdicts));
    }
    const start = performance.now();
    const all = await Promise.all(images.map((i) => auditOnce(i)));
    together.push(performance.now() - start);
    all.forEach((a, n) => verdicts[images[n]].add(key(a.verdicts)));
    log(`concurrent round ${r + 1}/${rounds}: alone ${images.map((i) => sec(alone[i][r])).join(', ')} s; 4 at once ${sec(together[r])} s (load ${load()})`);
  }
  const longest = Math.max(...images.map((i) => median(alone[i])));
  const identical = images.every((i) => verdicts[i].size === 1);
  return { alone, together, longest, ratio: median(together) / longest, identical, verdicts, floorLongest, floorTogether, floorRatio: median(floorTogether) / floorLongest };
}

// ---- 3. peak RSS ----------------------------------------------------------------------------------
async function benchRss(base) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'image-audit-bench-big-'));
  try {
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
    const results = [];
    for (let r = 0; r < Math.max(1, Math.min(rounds, 3)); r++) {
      const a = await auditOnce(big, { rss: true });
      results.push(a);
      log(`rss round ${r + 1}: ${(a.maxRssKiB / 1024).toFixed(0)} MiB, ${sec(a.ms)} s, exit ${a.code}`);
    }
    return { sizeMB, results, peakMiB: Math.max(...results.map((r) => r.maxRssKiB)) / 1024 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
try {
  const nodeImage = process.env.NODE_IMAGE || execFileSync('bash', [path.join(root, 'scripts/node-base-image.sh')], { encoding: 'utf8' }).trim();
  const service = await buildFixture('service', 'Dockerfile', FIXTURES, { NODE_IMAGE: nodeImage });
  out(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, docker ${docker('version', '-f', '{{.Server.Version}}')}, node ${process.version}`);
  out(`bin: ${bin}; load average at start: ${load()}`);

  if (only.has('floor')) {
    const f = await benchFloor(service);
    out();
    out(`1. floor — ${service}, ${runs} interleaved rounds`);
    out(`   floor (docker run --health-interval=500ms → healthy → docker stop): ${spread(f.floor)}`);
    out(`   audit (image-audit IMAGE --format json, all checks, process start → exit): ${spread(f.audit)}`);
    out(`   ratio of medians ${f.ratio.toFixed(2)}× (median of per-round ratios ${median(f.ratios).toFixed(2)}×, IQR ${quantile(f.ratios, 0.25).toFixed(2)}–${quantile(f.ratios, 0.75).toFixed(2)}×); target ≤ ${TARGET.floor.toFixed(2)}×: ${f.ratio <= TARGET.floor ? 'met' : 'NOT met'}`);
  }

  if (only.has('concurrent')) {
    const images = [service];
    for (const name of ['no-init', 'root-user', 'dev-deps-leaked']) images.push(await buildFixture(name, `${name}.Dockerfile`, FIXTURES, { NODE_IMAGE: nodeImage }));
    const c = await benchConcurrent(images);
    out();
    out(`2. concurrent — 4 images, ${rounds} rounds, on ${os.cpus().length} cores`);
    for (const i of images) out(`   alone ${i}: ${spread(c.alone[i])}; verdicts ${[...c.verdicts[i]].join(' | ')}`);
    out(`   4 at once: ${spread(c.together)}`);
    out(`   for comparison, plain Docker: 4 floors at once ${spread(c.floorTogether)} = ${c.floorRatio.toFixed(2)}× the longest single floor (${sec(c.floorLongest)} s)`);
    out(`   ratio ${c.ratio.toFixed(2)}× the longest single audit (${sec(c.longest)} s); target ≤ ${TARGET.concurrent}×: ${c.ratio <= TARGET.concurrent ? 'met' : 'NOT met'}; verdicts ${c.identical ? 'identical alone and together' : 'DIFFER between runs'}`);
  }

  if (only.has('rss')) {
    const r = await benchRss(service);
    out();
    out(`3. rss — a ${(r.sizeMB / 1000).toFixed(2)} GB image with a 700 MB file in a dev-only package of node_modules`);
    out(`   peak RSS ${r.peakMiB.toFixed(0)} MiB over ${r.results.length} audits (${r.results.map((x) => `${(x.maxRssKiB / 1024).toFixed(0)} MiB in ${sec(x.ms)} s`).join(', ')}); target < ${TARGET.rssMiB} MB: ${r.peakMiB * 1.048576 < TARGET.rssMiB ? 'met' : 'NOT met'}`);
    out(`   verdicts: ${JSON.stringify(r.results[0].verdicts)}`);
  }
  out();
  out(`load average at end: ${load()}`);
} finally {
  cleanup();
}
