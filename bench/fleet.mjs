#!/usr/bin/env node
// The fleet's speed and memory targets, measured on real engines (never a timed test):
//   floor    a fleet of 8 prebuilt fixture images on one engine at --jobs J, against plain Docker doing
//            run → healthy → stop (`docker stop -t 5`, the audit's shutdown budget) on the same 8 images
//            with the same parallelism J; rounds interleaved (target ≤ 1.15×). Each J in --jobs-list.
//   engines  the same over two engines of this machine (the second from scripts/second-engine.sh),
//            J per engine, against plain Docker splitting the images over both engines the same way.
//   rss      peak RSS of one fleet process auditing 100 targets at --jobs 8 (target < 400 MB). The
//            targets are 100 tags of 4 fixture images (synthetic: distinct names, few distinct images).
//   html     the fleet HTML page of 300 synthetic target reports (each a real audit report of a fixture,
//            renamed) in headless Chromium: load-to-DOM time minus that of an empty page (target < 1 s).
//   merge    `image-audit merge` of 3 shard files of 100 such targets each, wall time of the CLI (< 1 s).
//
//   node bench/fleet.mjs [--only floor,engines,rss,html,merge] [--rounds N] [--jobs-list 1,2,4] [--checks IDS] [--bin PATH] [--samples N]
//
// --checks: the checks the fleet runs (default: the six lifecycle checks, as the single-audit floor).
// Images are tagged image-audit-bench-fleet/*; containers of the floor carry the label
// image-audit-bench-fleet; both are removed at the end (and the second engine is stopped).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const only = new Set(arg('--only', 'floor,engines,rss,html,merge').split(','));
const rounds = Number(arg('--rounds', 3));
const jobsList = arg('--jobs-list', '1,2,4').split(',').map(Number);
const checks = arg('--checks', 'non-root-user,init-pid1,sigterm-shutdown,healthcheck,no-dev-dependencies,size-budget');
const bin = path.resolve(arg('--bin', path.join(root, 'dist/cli/main.cjs')));
const nodeImage = process.env.NODE_IMAGE || 'image-audit/node-base:20-bookworm';
const TAG = 'image-audit-bench-fleet';
const FIXTURES = ['Dockerfile', 'root-user', 'uid0-alias', 'no-init', 'shell-form', 'dev-deps-leaked', 'over-budget', 'npm-start'];
const SECOND_DIR = `/tmp/iabf-${process.pid}`;
const SECOND = `unix://${SECOND_DIR}/docker.sock`;
const FIRST = 'unix:///var/run/docker.sock';
const TARGET = { floor: 1.15, rssMiB: 400, htmlMs: 1000, mergeMs: 1000 };
/** Samples of the html and merge measurements (median and minimum reported). */
const SAMPLES = Number(arg('--samples', 9));

const log = (line) => process.stderr.write(`bench: ${line}\n`);
const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts }).trim();
const docker = (host, ...args) => sh('docker', ['-H', host, ...args]);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const sec = (ms) => (ms / 1000).toFixed(2);
const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' ');
const results = {};
const errors = [];

if (!existsSync(bin)) throw new Error(`no CLI at ${bin}: run npm run build first`);
const work = mkdtempSync(path.join(os.tmpdir(), 'bench-fleet-'));

function cliRun(args, env = {}) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn('/usr/bin/time', ['-f', '%M', '-o', path.join(work, 'time.txt'), process.execPath, bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - start;
      const rssKiB = Number(readFileSync(path.join(work, 'time.txt'), 'utf8').trim().split('\n').pop());
      resolve({ code, ms, stdout, stderr, rssMiB: rssKiB / 1024 });
    });
  });
}

// ---- images ---------------------------------------------------------------------------------------
const imageName = (f) => `${TAG}/${f === 'Dockerfile' ? 'compliant' : f}:1`;
async function buildImages(host, fixtures = FIXTURES) {
  // Built by the audit's own builder (BuildKit through a session; no buildx needed), then tagged.
  for (const f of fixtures) {
    const dockerfile = f === 'Dockerfile' ? 'Dockerfile' : `${f}.Dockerfile`;
    const run = await cliRun([path.join(root, 'fixtures/service'), '-f', dockerfile, '--build-arg', `NODE_IMAGE=${nodeImage}`, '--only', 'size-budget', '--format', 'json'], { DOCKER_HOST: host });
    if (!run.stdout) throw new Error(`building ${dockerfile} on ${host}: ${run.stderr}`);
    docker(host, 'tag', JSON.parse(run.stdout).image.id, imageName(f));
  }
}

// ---- plain docker: run → healthy → stop, J at a time ----------------------------------------------
async function plainOnce(host, image) {
  const id = docker(host, 'run', '-d', '--label', TAG, '--health-interval=500ms', image);
  const until = Date.now() + 120_000;
  while (Date.now() < until) {
    const status = docker(host, 'inspect', '-f', '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{.State.Running}}', id);
    if (status.startsWith('healthy') || status.endsWith('false')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((resolve) => spawn('docker', ['-H', host, 'stop', '-t', '5', id], { stdio: 'ignore' }).on('close', resolve));
  docker(host, 'rm', '-f', id);
}
async function pool(items, width, work) {
  const queue = [...items];
  await Promise.all(Array.from({ length: width }, async () => {
    while (queue.length) await work(queue.shift());
  }));
}
async function plainFleet(assignments, jobs) {
  const start = performance.now();
  await Promise.all(Object.entries(assignments).map(([host, images]) => pool(images, jobs, (image) => plainOnce(host, image))));
  return performance.now() - start;
}

function fleetFile(images) {
  const file = path.join(work, `fleet-${images.length}.json`);
  writeFileSync(file, JSON.stringify({ targets: images.map((image) => ({ target: image })) }));
  return file;
}

async function compare(label, engines, jobs) {
  const images = FIXTURES.map(imageName);
  const file = fleetFile(images);
  const fleetArgs = ['fleet', '--fleet-file', file, '--only', checks, '--jobs', String(jobs), '--format', 'json', ...engines.flatMap((e) => ['--engine', e])];
  const split = Object.fromEntries(engines.map((e, i) => [e, images.filter((_, k) => k % engines.length === i)]));
  const fleetMs = [];
  const plainMs = [];
  for (let r = 0; r < rounds; r++) {
    const run = await cliRun(fleetArgs);
    if (!run.stdout) throw new Error(`fleet exited ${run.code} without a report: ${run.stderr}`);
    const report = JSON.parse(run.stdout);
    // A check that could not run (a bound hit on a loaded machine) is counted and said, not hidden.
    for (const t of report.targets) {
      if (!t.report) errors.push(`${label} J=${jobs}: ${t.name}: could not audit: ${t.error?.message}`);
      for (const c of t.report?.checks ?? []) if (c.status === 'error') errors.push(`${label} J=${jobs}: ${t.name}: ${c.id}: ${c.message}`);
    }
    fleetMs.push(run.ms);
    plainMs.push(await plainFleet(split, jobs));
    log(`${label} J=${jobs} round ${r + 1}: fleet ${sec(run.ms)} s, plain docker ${sec(plainMs.at(-1))} s (load ${load()})`);
  }
  const ratio = median(fleetMs) / median(plainMs);
  results[`${label} J=${jobs}`] = { fleetS: sec(median(fleetMs)), plainS: sec(median(plainMs)), ratio: ratio.toFixed(2), target: `≤ ${TARGET.floor}` };
}

// ---- synthetic reports for html and merge ----------------------------------------------------------
async function syntheticTargets(n) {
  const statusesOf = [['pass'], ['fail'], ['warn'], ['error']];
  const base = await cliRun([imageName('Dockerfile'), '--only', checks, '--format', 'json']);
  const report = JSON.parse(base.stdout);
  return Array.from({ length: n }, (_, i) => {
    const name = `services/team-${Math.floor(i / 10)}/svc-${i}`;
    const r = structuredClone(report);
    r.target = name;
    // Every fourth target fails a check, every seventh warns, every 23rd could not run one.
    r.checks.forEach((c, k) => {
      if (k === i % r.checks.length && i % 4 === 0) c.status = 'fail';
      if (k === (i + 1) % r.checks.length && i % 7 === 0) c.status = 'warn';
      if (k === (i + 2) % r.checks.length && i % 23 === 0) c.status = 'error';
    });
    r.summary = { pass: 0, fail: 0, warn: 0, skip: 0, error: 0, waived: 0 };
    for (const c of r.checks) r.summary[c.status]++;
    const exitCode = r.summary.error ? 3 : r.summary.fail ? 1 : 0;
    void statusesOf;
    return { target: name, name, engine: i % 2 ? 'second' : 'default', exitCode, report: r };
  });
}

function chromiumDom(file) {
  const profile = mkdtempSync(path.join(work, 'chromium-'));
  return sh('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${profile}`, '--dump-dom', pathToFileURL(file).href], { maxBuffer: 256 * 1024 * 1024, timeout: 120_000 });
}

// ---- main -------------------------------------------------------------------------------------------
let secondStarted = false;
try {
  log(`machine: ${os.cpus().length} CPUs, load ${load()}; checks: ${checks}`);
  // html and merge need one real report (of the compliant image) to copy 300 times.
  if (only.has('floor') || only.has('engines') || only.has('rss')) await buildImages(FIRST);
  else if (only.has('html') || only.has('merge')) await buildImages(FIRST, ['Dockerfile']);
  if (only.has('floor')) for (const jobs of jobsList) await compare('one engine', [FIRST], jobs);
  if (only.has('engines')) {
    sh('bash', [path.join(root, 'scripts/second-engine.sh'), 'start'], { env: { ...process.env, SECOND_ENGINE_DIR: SECOND_DIR, SECOND_ENGINE_BRIDGE: `iabf${process.pid % 100000}`, SECOND_ENGINE_SUBNET: '10.252.0.1/24', NODE_IMAGE: nodeImage } });
    secondStarted = true;
    await buildImages(SECOND);
    for (const jobs of jobsList) await compare('two engines', [FIRST, SECOND], jobs);
  }
  if (only.has('rss')) {
    const images = Array.from({ length: 100 }, (_, i) => {
      const tag = `${TAG}/synthetic-${i}:1`;
      docker(FIRST, 'tag', imageName(FIXTURES[i % 4]), tag);
      return tag;
    });
    const run = await cliRun(['fleet', '--fleet-file', fleetFile(images), '--only', checks, '--jobs', '8', '--format', 'json']);
    const report = JSON.parse(run.stdout || '{"summary":{}}');
    results['rss: 100 targets, --jobs 8'] = { peakRssMiB: run.rssMiB.toFixed(0), wallS: sec(run.ms), exitCode: run.code, couldNotAudit: report.summary.couldNotAudit, checksThatCouldNotRun: report.summary.checks?.error, target: `< ${TARGET.rssMiB} MiB` };
    for (const tag of images) docker(FIRST, 'rmi', tag);
  }
  if (only.has('html') || only.has('merge')) {
    const targets = await syntheticTargets(300);
    // The library build next to the bin (dist/ of `npm run build`, or of --bin's build).
    const dist = path.dirname(path.dirname(bin));
    const { fleetReport, mergeReports } = await import(pathToFileURL(path.join(dist, 'fleet/report.js')).href);
    const { renderFleet } = await import(pathToFileURL(path.join(dist, 'report/fleet-render.js')).href);
    if (only.has('html')) {
      const renderStart = performance.now();
      const html = renderFleet('html', fleetReport(targets), { color: false, toolVersion: 'bench' });
      const renderMs = performance.now() - renderStart;
      // A copy of the page for measuring only: without its CSP, with a script at the end of the body that
      // forces style and layout of the whole parsed page (then of a filter and a sort switched on) and
      // writes the times since navigation start into the title, which --dump-dom shows.
      const page = path.join(work, 'fleet-measure.html');
      const probe = `<script>
const lay = () => document.body.getBoundingClientRect().height + document.querySelector('.matrix').scrollHeight;
lay(); const first = performance.now();
document.getElementById('show-fail').checked = true; let t = performance.now(); lay(); const filter = performance.now() - t;
document.getElementById('sort-status').checked = true; t = performance.now(); lay(); const sort = performance.now() - t;
document.title = 'measured ' + [first, filter, sort].map(Math.round).join(' ');
</script>`;
      writeFileSync(page, html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '').replace('</main></body>', `</main>${probe}</body>`));
      // On a shared machine one sample says little: SAMPLES of them, with the load they ran under.
      const samples = [];
      const loads = [];
      for (let r = 0; r < SAMPLES; r++) {
        const dom = chromiumDom(page);
        const m = /<title>measured (\d+) (\d+) (\d+)<\/title>/.exec(dom);
        if (!m) throw new Error('the measuring page did not report');
        samples.push(m.slice(1).map(Number));
        loads.push(os.loadavg()[0]);
      }
      results['html: 300 targets'] = {
        bytes: html.length,
        nodeRenderMs: renderMs.toFixed(0),
        chromiumLayoutMs: median(samples.map((x) => x[0])).toFixed(0),
        chromiumLayoutMinMs: Math.min(...samples.map((x) => x[0])).toFixed(0),
        load: `${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`,
        filterSwitchMs: median(samples.map((x) => x[1])).toFixed(0),
        sortSwitchMs: median(samples.map((x) => x[2])).toFixed(0),
        target: `< ${TARGET.htmlMs} ms (navigation start to the whole page laid out)`,
      };
    }
    if (only.has('merge')) {
      const files = [0, 1, 2].map((k) => {
        const file = path.join(work, `shard-${k + 1}.json`);
        writeFileSync(file, JSON.stringify(fleetReport(targets.filter((_, i) => i % 3 === k))));
        return file;
      });
      const times = [];
      const startup = [];
      const loads = [];
      for (let r = 0; r < SAMPLES; r++) {
        loads.push(os.loadavg()[0]);
        startup.push((await cliRun(['--version'])).ms);
        const run = await cliRun(['merge', ...files, '--format', 'json', '-o', path.join(work, 'merged.json'), '--report', `html=${path.join(work, 'merged.html')}`]);
        if (run.code !== 3 && run.code !== 1) throw new Error(`merge exited ${run.code}: ${run.stderr}`);
        times.push(run.ms);
      }
      // In process: read and parse the three files, merge, render the JSON and the HTML.
      const inProcess = [];
      for (let r = 0; r < SAMPLES; r++) {
        const t0 = performance.now();
        const merged = mergeReports(files.map((file) => ({ file, json: JSON.parse(readFileSync(file, 'utf8')) })));
        renderFleet('json', merged, { color: false, toolVersion: 'bench' });
        renderFleet('html', merged, { color: false, toolVersion: 'bench' });
        inProcess.push(performance.now() - t0);
      }
      results['merge: 3 shards of 100 targets (json + html)'] = { wallMs: median(times).toFixed(0), wallMinMs: Math.min(...times).toFixed(0), load: `${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`, versionWallMs: median(startup).toFixed(0), inProcessMs: median(inProcess).toFixed(0), bytesIn: files.reduce((n, f) => n + readFileSync(f).length, 0), target: `< ${TARGET.mergeMs} ms` };
    }
  }
} finally {
  for (const host of secondStarted ? [FIRST, SECOND] : [FIRST]) {
    try {
      const left = docker(host, 'ps', '-aq', '--filter', `label=${TAG}`);
      if (left) docker(host, 'rm', '-f', ...left.split('\n'));
      for (const f of FIXTURES) docker(host, 'rmi', '-f', imageName(f));
    } catch {
      // an engine that is gone has nothing left to remove
    }
  }
  if (secondStarted) sh('bash', [path.join(root, 'scripts/second-engine.sh'), 'stop'], { env: { ...process.env, SECOND_ENGINE_DIR: SECOND_DIR, SECOND_ENGINE_BRIDGE: `iabf${process.pid % 100000}` } });
  rmSync(work, { recursive: true, force: true });
}
console.log(JSON.stringify({ ...results, ...(errors.length && { checksThatCouldNotRun: errors }) }, null, 2));
