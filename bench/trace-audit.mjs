#!/usr/bin/env node
// One audit traced call by call, outside the product: the library's audit() is given a DockerPort that
// wraps the real one and records when each port call started and ended (ms since the library loaded),
// plus every status line; the checks' verdicts and durations follow. This is how docs/bench.md's
// profile of issue 16 was taken. Nothing here changes what the audit does, and the product carries no
// tracing code.
//
//   node bench/trace-audit.mjs IMAGE [--only IDS] [--skip IDS] [--dist DIR]
//
// --dist: the library to trace (default dist/, as `npm run build` makes it). Set IMAGE_AUDIT_CACHE=off
// (or an empty IMAGE_AUDIT_CACHE_DIR) to trace a first audit, whose `secrets` reads the image export.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchArgs, root } from './cli-args.mjs';

const { args, option } = benchArgs();
const dist = path.resolve(option('--dist') ?? path.join(root, 'dist'));
const only = option('--only')?.split(',');
const skip = option('--skip')?.split(',');
const image = args[0];
if (!image) throw new Error('usage: node bench/trace-audit.mjs IMAGE [--only IDS] [--skip IDS] [--dist DIR]');

const loadStart = performance.now();
const { audit } = await import(pathToFileURL(path.join(dist, 'index.js')).href);
const { currentEnginePort } = await import(pathToFileURL(path.join(dist, 'docker/dockerode-port.js')).href);
const t0 = performance.now();
const now = () => Math.round(performance.now() - t0);
const rows = [];
const short = (a) => (/^sha256:[0-9a-f]{64}$|^[0-9a-f]{64}$/.test(a) ? a.replace('sha256:', '').slice(0, 12) : a.slice(0, 60));
const describe = (name, callArgs) => {
  const strings = callArgs.filter((a) => typeof a === 'string').map(short);
  const argv = callArgs.find((a) => a && Array.isArray(a.argv))?.argv;
  return `${name}(${strings.join(', ')})${argv ? ` ${argv[0]} ${argv[1] ?? ''}` : ''}`;
};
const real = currentEnginePort();
const port = new Proxy(real, {
  get(target, prop) {
    const value = target[prop];
    if (typeof value !== 'function') return value;
    return (...callArgs) => {
      const began = now();
      const what = describe(String(prop), callArgs);
      const result = value.apply(target, callArgs);
      if (result && typeof result.then === 'function') {
        result.then(
          () => rows.push([began, now(), what]),
          (err) => rows.push([began, now(), `${what} failed: ${String(err?.message).slice(0, 80)}`]),
        );
      } else rows.push([began, began, `${what}${result && typeof result[Symbol.asyncIterator] === 'function' ? ' (stream)' : ''}`]);
      return result;
    };
  },
});
const report = await audit(image, { only, skip, onStatus: (line) => rows.push([now(), now(), `status: ${line.slice(0, 80)}`]) }, { docker: port });
const end = now();
console.log(`library load ${Math.round(t0 - loadStart)} ms; then, in ms: start end took call`);
for (const [a, b, what] of rows.sort((x, y) => x[0] - y[0])) console.log(`${String(a).padStart(6)} ${String(b).padStart(6)} ${String(b - a).padStart(6)}  ${what}`);
console.log(`audit done at ${end} ms`);
for (const c of report.checks) console.log(`  ${c.id}: ${c.status} (${c.durationMs} ms) ${c.message.slice(0, 100)}`);
