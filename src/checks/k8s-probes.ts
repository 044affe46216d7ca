// k8s-probes: Kubernetes ignores HEALTHCHECK; it probes the container with the manifest's liveness,
// readiness and startup probes, from the kubelet, to the pod IP. Once the app is up, each probe is run
// as the kubelet would, with its own timeoutSeconds, from inside the container's network namespace to
// 127.0.0.1 (an exec'd node: never a bridge address), and the listening sockets of that namespace
// (/proc/net/tcp, tcp6) say whether the app listens beyond loopback: an app bound to 127.0.0.1 or ::1
// answers a probe from inside but refuses the kubelet's. Jobs and CronJobs need no probes (kube-score).
import { containerLocation } from '../manifest/location.js';
import type { K8sProbe } from '../manifest/parse.js';
import type { ManifestTarget } from '../manifest/select.js';
import type { LiveContext, LiveProbe } from '../lifecycle/probe.js';
import { formatMs } from '../units.js';
import { lineWriter, logLines, notObserved, required, startRefused, verdict, type Check, type Verdict } from './check.js';
import { HTTP_GET_CLIENT, resolvePort } from './k8s-grace-period.js';
import { firstLine, helperNode, programMissing } from './probes/shared.js';

export const PROBE_KINDS = ['startupProbe', 'readinessProbe', 'livenessProbe'] as const;
export type ProbeKind = (typeof PROBE_KINDS)[number];

export interface ProbeRun {
  kind: ProbeKind;
  how: string;
  port?: number;
  ok: boolean;
  ms: number;
  timeoutMs: number;
  detail: string;
}

export interface Listener {
  address: string;
  port: number;
}

export interface FreezeValue {
  /** How the app was frozen: the kill API on PID 1, or an exec'd kill of the app's pid in the container. */
  via: 'kill-api' | 'exec';
  whileFrozen: ProbeRun;
  afterThaw?: ProbeRun;
}

export interface ProbesValue {
  runs: ProbeRun[];
  /** --deep: the livenessProbe run while the app was frozen with SIGSTOP, and after SIGCONT. */
  freeze?: FreezeValue | { unavailable: string };
  listeners?: Listener[];
  listenersError?: string;
}

const TCP_CLIENT = `
const [port, timeoutMs] = process.argv.slice(1);
const t0 = Date.now();
const s = require('net').connect({ host: '127.0.0.1', port: Number(port) });
const done = (o) => { process.stdout.write(JSON.stringify({ ...o, ms: Date.now() - t0 }) + '\\n'); process.exit(0); };
s.setTimeout(Number(timeoutMs), () => { s.destroy(); done({ error: 'timed out after ' + timeoutMs + ' ms' }); });
s.on('connect', () => { s.end(); done({ connected: true }); });
s.on('error', (e) => done({ error: e.code || e.message }));
`;

const LISTENERS = `
const fs = require('fs');
const out = [];
for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
  let text = '';
  try { text = fs.readFileSync(f, 'utf8'); } catch { continue; }
  for (const line of text.split('\\n').slice(1)) {
    const cols = line.trim().split(/\\s+/);
    if (cols.length < 4 || cols[3] !== '0A') continue;
    const [hex, port] = cols[1].split(':');
    out.push({ hex, port: parseInt(port, 16) });
  }
}
console.log(JSON.stringify(out));
`;

/** /proc/net/tcp's address (little-endian hex per 32-bit word) as text: 0100007F → 127.0.0.1. */
export function procAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => (w.match(/../g) ?? []).reverse().map((b) => parseInt(b, 16)));
  if (bytes.length === 4) return bytes.join('.');
  if (bytes.every((b) => b === 0)) return '::';
  if (bytes.slice(0, 15).every((b) => b === 0) && bytes[15] === 1) return '::1';
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return groups.join(':');
}

export const isLoopback = (address: string) => address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');

/** How the app can be reached on a port: from the pod IP, only from loopback, or not at all. */
export function reach(listeners: Listener[], port: number): 'pod-ip' | 'loopback-only' | 'none' {
  const on = listeners.filter((l) => l.port === port);
  if (!on.length) return 'none';
  return on.some((l) => !isLoopback(l.address)) ? 'pod-ip' : 'loopback-only';
}

function parseAnswer(stdout: string): { status?: number; error?: string; connected?: boolean; ms: number } | undefined {
  try {
    return JSON.parse(stdout.trim().split('\n').pop() ?? '');
  } catch {
    return undefined;
  }
}

async function runOne(context: LiveContext, target: ManifestTarget, kind: ProbeKind, probe: K8sProbe): Promise<ProbeRun> {
  const timeoutMs = Number(probe.timeoutSeconds ?? 1) * 1000;
  const base = { kind, timeoutMs };
  if (probe.httpGet) {
    const port = resolvePort(target, probe.httpGet.port);
    const path = probe.httpGet.path ?? '/';
    const how = `httpGet :${probe.httpGet.port ?? '?'}${path}`;
    if (!port) return { ...base, how, ok: false, ms: 0, detail: `the port "${String(probe.httpGet.port)}" is not one the container names` };
    const headers = Object.fromEntries((probe.httpGet.httpHeaders ?? []).map((h) => [h.name, h.value]));
    const run = await context.exec([helperNode(context), '-e', HTTP_GET_CLIENT, String(port), path, String(timeoutMs), JSON.stringify(headers)], { timeoutMs: timeoutMs + 10_000 });
    if (programMissing(run)) throw new Error(`there is no node in the image to send the probe from (${firstLine(run.stderr)})`);
    const a = parseAnswer(run.stdout);
    if (!a) throw new Error(`the probe client said: ${firstLine(run.stderr || run.stdout) || `exit ${run.exitCode}`}`);
    const ok = a.status !== undefined && a.status >= 200 && a.status < 400;
    return { ...base, how, port, ok, ms: a.ms, detail: a.status !== undefined ? `HTTP ${a.status}` : a.error ?? 'no answer' };
  }
  if (probe.tcpSocket) {
    const port = resolvePort(target, probe.tcpSocket.port);
    const how = `tcpSocket :${probe.tcpSocket.port ?? '?'}`;
    if (!port) return { ...base, how, ok: false, ms: 0, detail: `the port "${String(probe.tcpSocket.port)}" is not one the container names` };
    const run = await context.exec([helperNode(context), '-e', TCP_CLIENT, String(port), String(timeoutMs)], { timeoutMs: timeoutMs + 10_000 });
    if (programMissing(run)) throw new Error(`there is no node in the image to send the probe from (${firstLine(run.stderr)})`);
    const a = parseAnswer(run.stdout);
    if (!a) throw new Error(`the probe client said: ${firstLine(run.stderr || run.stdout) || `exit ${run.exitCode}`}`);
    return { ...base, how, port, ok: a.connected === true, ms: a.ms, detail: a.connected ? 'connected' : a.error ?? 'no connection' };
  }
  if (probe.exec?.command?.length) {
    const argv = probe.exec.command.map(String);
    const how = `exec ${JSON.stringify(argv)}`;
    const began = context.clock.now();
    try {
      const run = await context.exec(argv, { timeoutMs });
      const ms = Math.round(context.clock.now() - began);
      if (programMissing(run)) return { ...base, how, ok: false, ms, detail: `${argv[0]} does not exist in the image` };
      return { ...base, how, ok: run.exitCode === 0, ms, detail: `exit ${run.exitCode}${run.exitCode ? `: ${firstLine(run.stderr || run.stdout)}` : ''}` };
    } catch (err) {
      if (context.signal.aborted) throw err;
      return { ...base, how, ok: false, ms: Math.round(context.clock.now() - began), detail: `no answer within timeoutSeconds (${formatMs(timeoutMs)})` };
    }
  }
  return { ...base, how: Object.keys(probe).filter((k) => !/Seconds|Threshold/.test(k)).join(', ') || 'empty', ok: true, ms: 0, detail: 'not run (grpc probes are not reproduced)' };
}

const SIGNAL_APP = 'process.kill(Number(process.argv[1]), process.argv[2])';

/** Freezes the app (SIGSTOP, its process and port stay), runs the livenessProbe, thaws it (SIGCONT, always) and runs it again. */
async function freezeAndProbe(context: LiveContext, target: ManifestTarget, liveness: K8sProbe): Promise<FreezeValue | { unavailable: string }> {
  const app = context.processes.app;
  if (!app) return { unavailable: 'no node process was found in the container to freeze' };
  const nodeIsPid1 = app.hostPid === context.processes.pid1.hostPid;
  let send: (signal: 'SIGSTOP' | 'SIGCONT') => Promise<void>;
  if (nodeIsPid1) {
    // Signals sent inside the pid namespace cannot stop its PID 1; from the host (kill API) they can.
    send = async (signal) => {
      if ((await context.docker.signal(context.containerId, signal)) === 'not-running') throw new Error(`the container stopped before ${signal}`);
    };
  } else {
    const pid = context.runtime?.pid;
    if (!pid) return { unavailable: "the app's pid inside the container could not be read, so it cannot be frozen" };
    // Not bound to the probe's signal: SIGCONT must reach the app even when the probe was cut short.
    send = async (signal) => {
      const run = await context.docker.exec(context.containerId, { argv: [helperNode(context), '-e', SIGNAL_APP, String(pid), signal], user: `${app.uid}:${app.gid}`, timeoutMs: 10_000 });
      if (run.exitCode !== 0) throw new Error(`could not send ${signal} to the app: ${firstLine(run.stderr || run.stdout) || `exit ${run.exitCode}`}`);
    };
  }
  await send('SIGSTOP');
  context.record('k8s-probes', 'SIGSTOP to the app: does the livenessProbe notice?');
  let whileFrozen: ProbeRun;
  try {
    whileFrozen = await runOne(context, target, 'livenessProbe', liveness);
  } finally {
    await send('SIGCONT');
    context.record('k8s-probes', 'SIGCONT to the app');
  }
  const afterThaw = await runOne(context, target, 'livenessProbe', liveness).catch(() => undefined);
  return { via: nodeIsPid1 ? 'kill-api' : 'exec', whileFrozen, afterThaw };
}

export const kubeletProbes: LiveProbe<ProbesValue> = {
  timeoutMs: 90_000,
  // It freezes the app under --deep, and its exec'd clients would show in the other checks' figures
  // (memory, the process table): it runs on a container of its own.
  perturbs: true,
  async whileUp(context) {
    const target = context.settings.manifest;
    const value: ProbesValue = { runs: [] };
    if (!target) return value;
    for (const kind of PROBE_KINDS) {
      const probe = target.container[kind];
      if (probe) value.runs.push(await runOne(context, target, kind, probe));
    }
    const liveness = target.container.livenessProbe;
    if (context.settings.deep && liveness) value.freeze = await freezeAndProbe(context, target, liveness);
    const run = await context.exec([helperNode(context), '-e', LISTENERS], { timeoutMs: 15_000 });
    if (run.exitCode === 0) {
      try {
        value.listeners = (JSON.parse(run.stdout.trim()) as Array<{ hex: string; port: number }>).map((l) => ({ address: procAddress(l.hex), port: l.port }));
      } catch {
        value.listenersError = `unreadable listener list: ${firstLine(run.stdout)}`;
      }
    } else value.listenersError = firstLine(run.stderr || run.stdout) || `exit ${run.exitCode}`;
    return value;
  },
};

export const k8sProbes: Check = {
  id: 'k8s-probes',
  title: "The manifest's probes succeed as the kubelet would send them",
  needs: ['image', 'lifecycle', 'runtime'],
  withManifest: true,
  probe: kubeletProbes as LiveProbe,
  help: 'Declare a readinessProbe and a livenessProbe (Kubernetes ignores HEALTHCHECK) on a port the app listens on at every address (0.0.0.0 or ::), not only 127.0.0.1.',
  run({ lifecycle, settings }): Verdict {
    const target = settings.manifest;
    if (!target) return verdict('skip', 'no --manifest was given: there are no Kubernetes probes to run');
    const declared = PROBE_KINDS.filter((k) => target.container[k]);
    if (target.kind === 'Job' || target.kind === 'CronJob') {
      return verdict('skip', `a ${target.kind} runs to completion: it needs no probes${declared.length ? ` (declared: ${declared.join(', ')})` : ''}`);
    }
    if (!declared.length) {
      return {
        ...verdict('warn', 'no livenessProbe, readinessProbe or startupProbe: Kubernetes ignores the image\'s HEALTHCHECK, so it sends traffic as soon as the container starts and never restarts a hung app', {}, 'Add a readinessProbe (and a livenessProbe on a path that fails when the app cannot serve), e.g. `readinessProbe: { httpGet: { path: /ready, port: http } }`.'),
        location: containerLocation(target, ['name']),
      };
    }
    const life = required(lifecycle, 'lifecycle');
    const lastLogLines = life.logs.slice(-10);
    const refused = startRefused(life, { lastLogLines });
    if (refused) return refused;
    const why = notObserved(life, settings);
    if (why) return verdict('error', `could not probe: ${why}`, { lastLogLines });
    const outcome = life.probes['k8s-probes'];
    if (!outcome) return verdict('error', 'the probes did not run (the container stopped before them)', {});
    if (!outcome.ran) return verdict('error', `the probes could not run: ${outcome.reason}`, {});
    const value = outcome.value as ProbesValue;
    const evidence: Record<string, unknown> = { probes: value.runs, listeners: value.listeners?.map((l) => `${l.address.includes(':') ? `[${l.address}]` : l.address}:${l.port}`), lastLogLines };
    const failed = value.runs.find((r) => !r.ok);
    if (failed) {
      const reachable = failed.port !== undefined && value.listeners ? reach(value.listeners, failed.port) : undefined;
      const listening = value.listeners?.length ? `the app listens on ${(evidence.listeners as string[]).join(', ')}` : 'the app listens on no TCP port';
      return {
        ...verdict(
          'fail',
          `${failed.kind} ${failed.how} fails from inside the pod: ${failed.detail} (timeoutSeconds ${failed.timeoutMs / 1000})${reachable === 'none' ? `; nothing listens on ${failed.port} — ${listening}` : ''}`,
          evidence,
          reachable === 'none' ? `Point the probe at the port the app listens on (${value.listeners?.map((l) => l.port).filter((p, i, a) => a.indexOf(p) === i).join(', ') || 'none seen'}), or make the app listen on ${failed.port}.` : 'Make the probe succeed within its timeoutSeconds once the app is up (a path that answers 2xx/3xx, an exec that exits 0), or fix its port and path.',
        ),
        location: containerLocation(target, [failed.kind]),
      };
    }
    if (value.listeners) {
      const loopbackOnly = value.runs.find((r) => r.port !== undefined && reach(value.listeners!, r.port) === 'loopback-only');
      if (loopbackOnly) {
        const on = value.listeners.filter((l) => l.port === loopbackOnly.port).map((l) => l.address);
        return {
          ...verdict(
            'fail',
            `${loopbackOnly.kind} ${loopbackOnly.how} answers on 127.0.0.1, but the app listens on port ${loopbackOnly.port} only at ${on.join(', ')}: the kubelet probes the pod IP and gets "connection refused" (and no Service can reach it either)`,
            evidence,
            `Listen on every address: \`server.listen(${loopbackOnly.port}, '0.0.0.0')\` (or '::'), or leave the host out of listen().`,
          ),
          location: containerLocation(target, [loopbackOnly.kind]),
        };
      }
    }
    const liveness = target.container.livenessProbe;
    const readiness = target.container.readinessProbe;
    const summary = value.runs.map((r) => `${r.kind} ${r.how}: ${r.detail} in ${formatMs(r.ms)}`).join('; ');
    const freeze = value.freeze;
    if (freeze && 'whileFrozen' in freeze) {
      evidence.freeze = freeze;
      if (freeze.whileFrozen.ok) {
        return {
          ...verdict(
            'fail',
            `the livenessProbe ${freeze.whileFrozen.how} still succeeds while the app is frozen (SIGSTOP): ${freeze.whileFrozen.detail} — the kubelet would never restart a hung app`,
            evidence,
            'Probe liveness with a request the app itself must answer (httpGet on a path served by the event loop, e.g. /healthz), not a TCP connect the kernel accepts for a frozen process.',
          ),
          location: containerLocation(target, ['livenessProbe']),
        };
      }
    }
    if (freeze && 'unavailable' in freeze) evidence.freeze = freeze;
    if (liveness && readiness && JSON.stringify(liveness) === JSON.stringify(readiness)) {
      return {
        ...verdict('warn', `${summary}; but livenessProbe and readinessProbe are identical: a slow moment takes the pod out of the Service and restarts it at once (kube-score: dangerous)`, evidence, 'Give liveness a longer period and failureThreshold than readiness, or a path that fails only when the app is stuck.'),
        location: containerLocation(target, ['livenessProbe']),
      };
    }
    const noticed =
      freeze && 'whileFrozen' in freeze
        ? `; the livenessProbe notices the frozen app (${freeze.whileFrozen.detail}): a restart after ${liveness?.failureThreshold ?? 3} × ${liveness?.periodSeconds ?? 10} s`
        : '';
    return verdict('pass', `${summary}${value.listeners ? `; listening beyond loopback (${(evidence.listeners as string[]).join(', ')})` : ''}${noticed}`, evidence);
  },
  lines(result) {
    const e = result.evidence as { probes?: ProbeRun[]; listeners?: string[] };
    const { lines, add } = lineWriter();
    for (const r of e.probes ?? []) add(r.kind, `${r.how} → ${r.detail} in ${formatMs(r.ms)} (timeout ${formatMs(r.timeoutMs)})`);
    add('listening', e.listeners?.join(', '));
    const f = (result.evidence as { freeze?: { whileFrozen?: ProbeRun; afterThaw?: ProbeRun; unavailable?: string } }).freeze;
    if (f?.whileFrozen) add('frozen (SIGSTOP)', `${f.whileFrozen.detail}${f.afterThaw ? `; after SIGCONT: ${f.afterThaw.detail}` : ''}`);
    add('freeze', f?.unavailable);
    return [...lines, ...logLines(result)];
  },
  locate: (stage) => stage.last('HEALTHCHECK') ?? stage.last('EXPOSE'),
};
