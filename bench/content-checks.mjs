// The content checks' memory bound: builds a ~1 GB image (one 700 MB layer standing in for node_modules)
// and audits it with --only secrets through the built CLI, measuring its peak RSS (process.resourceUsage
// of the child, via /usr/bin/time when present), with an empty layer-scan cache (the export is walked).
// Usage: node bench/content-checks.mjs [NODE_IMAGE]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const nodeImage = process.argv[2] || execFileSync('bash', [path.join(root, 'scripts/node-base-image.sh')], { encoding: 'utf8' }).trim();
const dir = mkdtempSync(path.join(os.tmpdir(), 'content-bench-'));
const tag = 'node-image-audit/content-bench:latest';
writeFileSync(
  path.join(dir, 'Dockerfile'),
  [
    `FROM ${nodeImage}`,
    'WORKDIR /app',
    'RUN mkdir -p /app/node_modules/big && head -c 700000000 /dev/urandom > /app/node_modules/big/blob',
    'RUN echo "console.log(1)" > /app/index.js',
    'CMD ["node", "/app/index.js"]',
    '',
  ].join('\n'),
);
try {
  execFileSync('docker', ['build', '-q', '-t', tag, dir], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DOCKER_BUILDKIT: '0' } });
  const size = execFileSync('docker', ['image', 'inspect', '-f', '{{.Size}}', tag], { encoding: 'utf8' }).trim();
  const cli = path.join(root, 'dist/cli/main.cjs');
  const time = existsSync('/usr/bin/time') ? ['/usr/bin/time', '-v'] : [];
  const started = performance.now();
  // An empty layer-scan cache of the bench's own: the whole export is walked (the user's cache is left alone).
  const env = { ...process.env, IMAGE_AUDIT_CACHE_DIR: path.join(dir, 'cache') };
  const run = spawnSync(time[0] ?? process.execPath, [...time.slice(1), ...(time.length ? [process.execPath] : []), cli, tag, '--only', 'secrets', '--format', 'json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env });
  const seconds = (performance.now() - started) / 1000;
  const maxRssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(run.stderr ?? '')?.[1]);
  const report = JSON.parse(run.stdout);
  const secrets = report.checks.find((c) => c.id === 'secrets');
  console.log(JSON.stringify({
    imageBytes: Number(size),
    verdict: secrets.status,
    message: secrets.message,
    seconds: Number(seconds.toFixed(1)),
    peakRssMB: Number.isFinite(maxRssKb) ? Math.round(maxRssKb / 1024) : 'unknown (no /usr/bin/time)',
  }));
} finally {
  spawnSync('docker', ['rmi', '-f', tag], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
}
