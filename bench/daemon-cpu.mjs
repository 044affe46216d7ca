#!/usr/bin/env node
// Where the CPU of one audit goes, against plain Docker: the profile behind docs/bench.md's "what bounds
// each row". Three parts, on the real daemon (local, Linux: it reads /proc):
//   1. Each kind of daemon call the audit makes, repeated, with the CPU dockerd (and the helper processes
//      it waits for) spent per call: an archive read of a file, a stat, a process listing, /info, /version,
//      an exec of `node -e 0`, a container created and removed.
//   2. Whole runs: the floor of row 1 (`docker run` → healthy → `docker stop`), the six lifecycle checks
//      and the default audit, each with its wall time and the CPU of the machine, of dockerd, of containerd
//      and of the client (the audit's process, or the floor's shell and docker CLIs).
//   3. Row 2's pair, the same way: that floor in parallel with `docker save IMAGE > /dev/null`, and the
//      default audit with an empty layer-scan cache (so `secrets` reads the image export), plus
//      `docker save` alone and the audit's `--only secrets` alone (the export and its walk).
//   4. The default checks one at a time: the floor, the four that read no files, the six, then the six with
//      each further default check (the two that share the runtime exec count as one), then all ten, cache
//      warm: the machine's CPU each needs, in interleaved rounds.
//   node bench/daemon-cpu.mjs IMAGE [--runs N] [--bin PATH] [--parts 1,2,3,4]
// The engine is DOCKER_HOST's (a unix socket) or the machine's. Parts 1 and 2 are the profile, 3 and 4
// row 2's CPU account (docs/bench.md).
// IMAGE must have node and a HEALTHCHECK (the bench's compliant fixture does: `npm run bench` builds it as
// image-audit-bench/service:latest; keep it with a build of your own). A benchmark, never a test: numbers
// only, nothing asserted. Its containers carry the label image-audit-bench and are removed at the end.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchArgs, root } from './cli-args.mjs';
import { engineCall } from './engine-api.mjs';

const { args, option } = benchArgs();
const runs = Number(option('--runs') ?? 3);
const parts = new Set((option('--parts') ?? '1,2,3,4').split(','));
const bin = path.resolve(option('--bin') ?? path.join(root, 'dist/cli/main.cjs'));
const image = args[0];
if (!image) throw new Error('usage: node bench/daemon-cpu.mjs IMAGE [--runs N] [--bin PATH]');
const LABEL = 'image-audit-bench';
// The audits' layer-scan cache: a folder of this script's own, warmed before the timed runs (the default
// audit's image export is row 2's subject, not this profile's).
const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'image-audit-bench-cpu-'));
const env = { ...process.env, IMAGE_AUDIT_CACHE_DIR: cacheDir, NO_COLOR: '1' };
// The engine DOCKER_HOST names (a unix socket), else the machine's: scripts/newer-engine.sh's dockerd
// keeps its pidfile beside its socket, and runs a containerd of its own as its child.
const SOCKET = process.env.DOCKER_HOST?.startsWith('unix://') ? process.env.DOCKER_HOST.slice('unix://'.length) : '/var/run/docker.sock';

const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
const pidOf = (name) => Number(execFileSync('pidof', ['-s', name], { encoding: 'utf8' }).trim());
/** CPU (ms) a process and its waited-for children used so far: utime + stime + cutime + cstime. */
const processCpu = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) * 1000) / ticks;
};
/** CPU (ms) of the whole machine so far: user, nice, system, irq, softirq. */
const machineCpu = () => {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return ((f[0] + f[1] + f[2] + f[5] + f[6]) * 1000) / ticks;
};
// dockerd's pidfile: the default one, or the one beside a second engine's socket (pidof alone would pick
// either dockerd when two run).
const pidfile = SOCKET === '/var/run/docker.sock' ? '/var/run/docker.pid' : path.join(path.dirname(SOCKET), 'docker.pid');
const dockerd = existsSync(pidfile) ? Number(readFileSync(pidfile, 'utf8').trim()) : pidOf('dockerd');
/** The containerd that dockerd started (its child), else the machine's. */
const containerd =
  readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .find((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return stat.includes('(containerd)') && Number(stat.split(') ')[1].split(' ')[1]) === dockerd;
      } catch {
        return false;
      }
    }) ?? pidOf('containerd');
const docker = (...a) => execFileSync('docker', a, { encoding: 'utf8' }).trim();

/** One Engine API call on the socket (this script's engine: /var/run/docker.sock, as before). */
const call = (method, p, body) => engineCall(method, p, body, SOCKET);

async function perCall(what, n, work) {
  const before = processCpu(dockerd);
  for (let i = 0; i < n; i++) await work();
  return { what, dockerdMsPerCall: Math.round((processCpu(dockerd) - before) / n) };
}

/** A child process's wall time and the CPU spent meanwhile, by the machine, dockerd, containerd and the child. */
function measured(what, command, argv, childEnv = env) {
  return new Promise((resolve, reject) => {
    const before = { machine: machineCpu(), dockerd: processCpu(dockerd), containerd: processCpu(containerd) };
    const start = performance.now();
    const child = spawn('/usr/bin/time', ['-f', '%U %S', command, ...argv], { stdio: ['ignore', 'ignore', 'pipe'], env: childEnv });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', () => {
      const [user, sys] = stderr.trim().split('\n').pop().split(' ').map(Number);
      resolve({
        what,
        wallMs: Math.round(performance.now() - start),
        machineMs: Math.round(machineCpu() - before.machine),
        dockerdMs: Math.round(processCpu(dockerd) - before.dockerd),
        containerdMs: Math.round(processCpu(containerd) - before.containerd),
        clientMs: Math.round((user + sys) * 1000),
      });
    });
  });
}

const FLOOR = `id=$(docker run -d --label ${LABEL} --health-interval=500ms "$1") || exit 1
n=0; until [ "$(docker inspect -f '{{.State.Health.Status}}' "$id")" = healthy ]; do n=$((n+1)); [ $n -gt 600 ] && exit 1; sleep 0.1; done
docker stop "$id" >/dev/null`;
const SIX = 'non-root-user,init-pid1,sigterm-shutdown,healthcheck,no-dev-dependencies,size-budget';

/** The median of some numbers. */
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const audit = (...args) => [process.execPath, [bin, image, '--format', 'json', ...args]];

/**
 * Contenders [name, command, argv, env?] run one after another, `runs` rounds; then each one's medians:
 * wall, the machine's CPU, dockerd's (its waited-for helpers included), containerd's and the client's.
 */
async function interleavedRuns(title, contenders) {
  const rows = [];
  for (let r = 0; r < runs; r++) for (const [what, command, argv, childEnv] of contenders) rows.push(await measured(what, command, argv, childEnv?.()));
  console.log(`\n${title} (ms; medians of each column): wall, CPU of the machine, of dockerd (+ helpers), of containerd, of the client`);
  const width = Math.max(...contenders.map(([what]) => what.length));
  for (const [what] of contenders) {
    const m = (k) => median(rows.filter((x) => x.what === what).map((x) => x[k]));
    console.log(`  ${what.padEnd(width)}  wall ${m('wallMs')}  machine ${m('machineMs')}  dockerd ${m('dockerdMs')}  containerd ${m('containerdMs')}  client ${m('clientMs')}`);
  }
}

try {
  console.log(`image ${image}; dockerd ${docker('version', '-f', '{{.Server.Version}}')} (pid ${dockerd}, containerd pid ${containerd}); ${runs} runs of each; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  if (parts.has('1')) await perCallPart();
  // Parts 2 and 4 run after one untimed default audit, which fills the layer-scan cache: no export.
  if (parts.has('2') || parts.has('4')) spawnSync(...audit(), { stdio: 'ignore', env });
  if (parts.has('2')) {
    await interleavedRuns('whole runs', [['floor', 'sh', ['-c', FLOOR, 'floor', image]], ['six checks', ...audit('--only', SIX)], ['default audit', ...audit()]]);
  }
  if (parts.has('3')) {
    // Row 2: each audit gets a cache folder of its own, empty, as the bench's row 2 does.
    const emptyCache = () => ({ ...env, IMAGE_AUDIT_CACHE_DIR: mkdtempSync(path.join(cacheDir, 'empty-')) });
    await interleavedRuns('row 2', [
      ['floor ‖ docker save', 'sh', ['-c', `(${FLOOR}) & docker save "$1" > /dev/null; s=$?; wait $! && exit $s`, 'floor-save', image]],
      ['default audit, cache empty', ...audit(), emptyCache],
      ['docker save alone', 'sh', ['-c', 'docker save "$1" > /dev/null', 'save', image]],
      ['--only secrets, cache empty', ...audit('--only', 'secrets'), emptyCache],
    ]);
  }
  if (parts.has('4')) {
    await interleavedRuns('the checks one at a time, cache warm', [
      ['floor', 'sh', ['-c', FLOOR, 'floor', image]],
      ['the four that read no files', ...audit('--only', 'init-pid1,sigterm-shutdown,healthcheck,size-budget')],
      ['the six', ...audit('--only', SIX)],
      ['the six, engines-node, node-env', ...audit('--only', `${SIX},engines-node,node-env`)],
      ['the six, zombie-reaping', ...audit('--only', `${SIX},zombie-reaping`)],
      ['the six, secrets', ...audit('--only', `${SIX},secrets`)],
      ['the ten', ...audit()],
    ]);
  }
} finally {
  const left = spawnSync('docker', ['ps', '-aq', '--filter', `label=${LABEL}`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  if (left.length) spawnSync('docker', ['rm', '-f', ...left], { stdio: 'ignore' });
  rmSync(cacheDir, { recursive: true, force: true });
}

async function perCallPart() {
  // 1. Each kind of call, on a created container (the audit's files container) and a running one.
  const files = docker('create', '--label', LABEL, '--network', 'none', '--entrypoint', '/image-audit-bench: never started', image);
  const running = docker('run', '-d', '--label', LABEL, image);
  await new Promise((r) => setTimeout(r, 2000));
  const archive = (id, p) => call('GET', `/containers/${id}/archive?path=${encodeURIComponent(p)}`);
  const calls = [
    await perCall('archive read of /etc/passwd, never-started container', 10, () => archive(files, '/etc/passwd')),
    await perCall('archive read of /etc/passwd, running container', 10, () => archive(running, '/etc/passwd')),
    await perCall('archive read of a path that does not exist', 10, () => archive(files, '/nothing-here')),
    await perCall('stat (HEAD archive) of a file', 20, () => call('HEAD', `/containers/${files}/archive?path=%2Fetc%2Fpasswd`)),
    await perCall('process listing (top, ps on the host)', 10, () => call('GET', `/containers/${running}/top?ps_args=${encodeURIComponent('-eo pid,ppid,uid,gid,exe,args')}`)),
    await perCall('/info', 10, () => call('GET', '/info')),
    await perCall('/version', 10, () => call('GET', '/version')),
    await perCall('container inspect', 20, () => call('GET', `/containers/${running}/json`)),
    await perCall('exec of `node -e 0` (dockerd only; runc and the node are elsewhere)', 5, async () => {
      const created = JSON.parse((await call('POST', `/containers/${running}/exec`, { Cmd: ['node', '-e', '0'], AttachStdout: true, AttachStderr: true })).body);
      await call('POST', `/exec/${created.Id}/start`, { Detach: false });
    }),
    await perCall('container create + remove (never started)', 5, async () => {
      const created = JSON.parse((await call('POST', '/containers/create', { Image: image, Labels: { [LABEL]: 'true' }, Entrypoint: ['/x'], NetworkDisabled: true })).body);
      await call('DELETE', `/containers/${created.Id}?force=true`);
    }),
  ];
  spawnSync('docker', ['rm', '-f', files, running], { stdio: 'ignore' });
  console.log('\nper call: dockerd CPU (ms), the helper processes it waited for included');
  for (const c of calls) console.log(`  ${String(c.dockerdMsPerCall).padStart(5)}  ${c.what}`);
}
