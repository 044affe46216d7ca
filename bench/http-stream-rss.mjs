#!/usr/bin/env node
// What streaming a large archive costs a Node process in memory, before any of the audit's code: the
// archive of PATH in a never-started container of IMAGE, read from the daemon's socket and thrown away,
// (a) through Node's http client (what dockerode does) and (b) through a raw socket that reads into one
// reused buffer (`onread`, as src/docker/raw-http.ts reads the two large bodies since), the response's
// bytes counted and dropped. Peak RSS sampled every 5 ms. The
// profile behind docs/bench.md's row 4; a benchmark, nothing asserted.
//   node bench/http-stream-rss.mjs IMAGE PATH [--runs N]
// e.g. the row-4 image of `npm run bench` (kept with a build of your own) and /home/node/app/node_modules.
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { benchArgs } from './cli-args.mjs';

const { args, option } = benchArgs();
const runs = Number(option('--runs') ?? 2);
const [image, inside, mode] = args;
if (!image || !inside) throw new Error('usage: node bench/http-stream-rss.mjs IMAGE PATH [--runs N]');
const SOCKET = '/var/run/docker.sock';

if (mode) {
  // One measurement, in a fresh process (the parent runs this file again with a mode).
  const id = execFileSync('docker', ['create', '--label', 'image-audit-bench', '--network', 'none', '--entrypoint', '/x', image], { encoding: 'utf8' }).trim();
  const url = `/containers/${id}/archive?path=${encodeURIComponent(inside)}`;
  const base = process.memoryUsage().rss;
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  let bytes = 0;
  const start = performance.now();
  try {
    await new Promise((resolve, reject) => {
      if (mode === 'http') {
        http.get({ socketPath: SOCKET, path: url }, (res) => res.on('data', (c) => (bytes += c.length)).on('end', resolve)).on('error', reject);
        return;
      }
      const buffer = Buffer.allocUnsafe(256 * 1024);
      const socket = net.connect({ path: SOCKET, onread: { buffer, callback: (n) => void (bytes += n) } });
      socket.on('connect', () => socket.write(`GET ${url} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n`));
      socket.on('close', resolve).on('error', reject);
    });
  } finally {
    clearInterval(sampler);
    execFileSync('docker', ['rm', '-f', id]);
  }
  const mib = (n) => (n / 2 ** 20).toFixed(0);
  console.log(`${mode.padEnd(4)} ${(bytes / 1e6).toFixed(0)} MB in ${((performance.now() - start) / 1000).toFixed(2)} s: RSS ${mib(base)} MiB at the start, ${mib(peak)} MiB at the peak`);
} else {
  for (let r = 0; r < runs; r++) {
    for (const m of ['http', 'raw']) process.stdout.write(execFileSync(process.execPath, [process.argv[1], image, inside, m], { encoding: 'utf8' }));
  }
}
