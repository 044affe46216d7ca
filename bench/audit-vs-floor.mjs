#!/usr/bin/env node
// Times a full audit of the prebuilt compliant fixture against the floor: a plain
// `docker run` → healthy → `docker stop` of the same image, with the same 500 ms health interval
// the audit uses. Prints the medians and the ratio (target ≤ 1.3×).
//   node bench/audit-vs-floor.mjs [--runs N] [--image REF]
// Needs `bash scripts/setup.sh` first (engine, base image, built CLI).
import { execFileSync, spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const runs = Number(arg('--runs', 7));
const docker = (...args) => execFileSync('docker', args, { encoding: 'utf8' }).trim();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

let image = arg('--image');
if (!image) {
  // Build once through the CLI (only size-budget: no container), then audit the image by reference.
  const nodeImage = process.env.NODE_IMAGE || execFileSync('bash', [path.join(root, 'scripts/node-base-image.sh')], { encoding: 'utf8' }).trim();
  const built = spawnSync(process.execPath, [path.join(root, 'dist/cli/main.js'), path.join(root, 'fixtures/service'), '--build-arg', `NODE_IMAGE=${nodeImage}`, '--only', 'size-budget', '--format', 'json'], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`build failed: ${built.stderr}`);
  const tags = JSON.parse(built.stdout).image.tags;
  image = tags.find((t) => t.startsWith('node-image-audit/service')) ?? tags[0];
}

function floorOnce() {
  const start = performance.now();
  const id = docker('run', '-d', '--health-interval=500ms', image);
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

function auditOnce() {
  const start = performance.now();
  const run = spawnSync(process.execPath, [path.join(root, 'dist/cli/main.js'), image, '--format', 'json'], { encoding: 'utf8' });
  const elapsed = performance.now() - start;
  if (run.status !== 0) throw new Error(`audit exited ${run.status}: ${run.stderr}`);
  return elapsed;
}

floorOnce(); // warm-up: page cache, daemon
auditOnce();
const floor = [];
const audit = [];
for (let i = 0; i < runs; i++) {
  floor.push(floorOnce());
  audit.push(auditOnce());
}
const f = median(floor);
const a = median(audit);
console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, docker ${docker('version', '-f', '{{.Server.Version}}')}`);
console.log(`image: ${image}; ${runs} runs each, medians`);
console.log(`floor (docker run → healthy → docker stop): ${(f / 1000).toFixed(2)} s   [${floor.map((x) => (x / 1000).toFixed(2)).join(', ')}]`);
console.log(`audit (image-audit <image>, all six checks):  ${(a / 1000).toFixed(2)} s   [${audit.map((x) => (x / 1000).toFixed(2)).join(', ')}]`);
console.log(`ratio: ${(a / f).toFixed(2)}× (target ≤ 1.30×)`);
