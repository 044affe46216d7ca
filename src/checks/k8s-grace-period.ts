// k8s-grace-period: does the preStop hook plus the app's own shutdown fit terminationGracePeriodSeconds
// (30 s by default)? The kubelet runs preStop, then sends the stop signal, and kills at the end of the
// grace period, preStop included. Just before the lifecycle's stop signal, the probe does what the kubelet
// would: an exec `sleep N` counts N s (its program is exec'd with 0 to prove it exists: a missing one is
// FailedPreStopHook, and the kubelet goes on without the pause); another exec hook and an httpGet hook are
// run and timed. With a manifest, the lifecycle's shutdown budget is the grace period (unless
// --shutdown-budget says otherwise), so the measured shutdown is the one the kubelet would allow.
import path from 'node:path';
import { podLocation, containerLocation } from '../manifest/location.js';
import type { K8sHandler } from '../manifest/parse.js';
import type { ManifestTarget } from '../manifest/select.js';
import type { LiveContext, LiveProbe } from '../lifecycle/probe.js';
import { formatMs } from '../units.js';
import { valueOf } from '../observed.js';
import { lineWriter, logLines, notObserved, required, startRefused, verdict, type Check, type Verdict } from './check.js';
import { firstLine, helperNode, programMissing } from './probes/shared.js';

export type PreStopValue =
  | { kind: 'none' }
  | { kind: 'sleep'; ms: number; how: 'sleep action' | 'exec sleep'; argv?: string[] }
  | { kind: 'missing'; argv: string[]; output: string }
  | { kind: 'exec'; argv: string[]; ms: number; exitCode?: number; timedOut: boolean; output: string }
  | { kind: 'httpGet'; url: string; ms: number; status?: number; error?: string }
  | { kind: 'unsupported'; what: string };

/** A named port ("http") of the container, or the number itself. */
export function resolvePort(target: ManifestTarget, port: number | string | undefined, fallback?: number): number | undefined {
  if (typeof port === 'number') return port;
  if (port === undefined) return fallback;
  if (/^\d+$/.test(port)) return Number(port);
  return target.container.ports?.find((p) => p.name === port)?.containerPort;
}

/** A GET to 127.0.0.1 from a node exec'd in the container: one JSON line {status} or {error}, always exit 0. */
export const HTTP_GET_CLIENT = `
const [port, path, timeoutMs, headers] = process.argv.slice(1);
const http = require('http');
const t0 = Date.now();
const done = (o) => { process.stdout.write(JSON.stringify({ ...o, ms: Date.now() - t0 }) + '\\n'); process.exit(0); };
const req = http.get({ host: '127.0.0.1', port: Number(port), path, headers: JSON.parse(headers || '{}'), timeout: Number(timeoutMs) }, (res) => { res.resume(); res.on('end', () => done({ status: res.statusCode })); res.on('error', (e) => done({ error: e.message })); });
req.on('timeout', () => { req.destroy(); done({ error: 'timed out after ' + timeoutMs + ' ms' }); });
req.on('error', (e) => done({ error: e.code || e.message }));
`;

/** Runs one handler as the kubelet would, from inside the container (exec, or a GET to 127.0.0.1). */
export async function runHandler(context: LiveContext, target: ManifestTarget, handler: K8sHandler, timeoutMs: number): Promise<PreStopValue> {
  if (handler.sleep) return { kind: 'sleep', ms: Number(handler.sleep.seconds ?? 0) * 1000, how: 'sleep action' };
  if (handler.exec?.command?.length) {
    const argv = handler.exec.command.map(String);
    if (path.posix.basename(argv[0]) === 'sleep' && argv.length === 2 && /^\d+(\.\d+)?s?$/.test(argv[1])) {
      const run = await context.exec([argv[0], '0'], { timeoutMs: 10_000 });
      if (programMissing(run)) return { kind: 'missing', argv, output: firstLine(run.stderr || run.stdout) };
      return { kind: 'sleep', ms: Math.round(parseFloat(argv[1]) * 1000), how: 'exec sleep', argv };
    }
    const began = context.clock.now();
    try {
      const run = await context.exec(argv, { timeoutMs });
      if (programMissing(run)) return { kind: 'missing', argv, output: firstLine(run.stderr || run.stdout) };
      return { kind: 'exec', argv, ms: Math.round(context.clock.now() - began), exitCode: run.exitCode, timedOut: false, output: firstLine(run.stderr || run.stdout) };
    } catch (err) {
      if (context.signal.aborted && !/time/i.test((err as Error).message)) throw err;
      return { kind: 'exec', argv, ms: Math.round(context.clock.now() - began), timedOut: true, output: (err as Error).message };
    }
  }
  if (handler.httpGet) {
    const port = resolvePort(target, handler.httpGet.port, context.settings.port);
    const urlPath = handler.httpGet.path ?? '/';
    const url = `http://127.0.0.1:${port}${urlPath}`;
    if (!port) return { kind: 'unsupported', what: `httpGet to port ${String(handler.httpGet.port)}, which the container does not name` };
    const headers = Object.fromEntries((handler.httpGet.httpHeaders ?? []).map((h) => [h.name, h.value]));
    const began = context.clock.now();
    const run = await context.exec([helperNode(context), '-e', HTTP_GET_CLIENT, String(port), urlPath, String(timeoutMs), JSON.stringify(headers)], { timeoutMs: timeoutMs + 10_000 });
    if (programMissing(run)) return { kind: 'unsupported', what: `httpGet (there is no node in the image to send it from: ${firstLine(run.stderr)})` };
    const line = run.stdout.trim().split('\n').pop() ?? '';
    try {
      const answer = JSON.parse(line) as { status?: number; error?: string; ms: number };
      return { kind: 'httpGet', url, ms: answer.ms, status: answer.status, error: answer.error };
    } catch {
      return { kind: 'httpGet', url, ms: Math.round(context.clock.now() - began), error: firstLine(run.stderr || run.stdout) || `exit ${run.exitCode}` };
    }
  }
  return { kind: 'unsupported', what: Object.keys(handler).join(', ') || 'an empty handler' };
}

export const preStopProbe: LiveProbe<PreStopValue> = {
  timeoutMs: 120_000,
  // Armed right before the stop signal, as the kubelet runs preStop before it.
  async aroundStop(context) {
    const target = context.settings.manifest;
    const handler = target?.container.lifecycle?.preStop;
    if (!target || !handler) return async () => ({ kind: 'none' });
    const value = await runHandler(context, target, handler, target.graceSeconds * 1000);
    context.record('preStop', value.kind === 'sleep' ? `${value.how} ${formatMs(value.ms)} (counted, not slept)` : value.kind);
    return async () => value;
  },
};

const sec = (ms: number) => formatMs(ms);

export const k8sGracePeriod: Check = {
  id: 'k8s-grace-period',
  title: 'preStop plus shutdown fit terminationGracePeriodSeconds',
  needs: ['image', 'lifecycle'],
  withManifest: true,
  probe: preStopProbe as LiveProbe,
  help: 'The kubelet kills the container at terminationGracePeriodSeconds (30 s by default), preStop included: make the app exit sooner on SIGTERM, shorten the preStop, or raise the grace period.',
  run({ lifecycle, settings }): Verdict {
    const target = settings.manifest;
    if (!target) return verdict('skip', 'no --manifest was given: there is no grace period to hold the shutdown against');
    const life = required(lifecycle, 'lifecycle');
    const graceMs = target.graceSeconds * 1000;
    const graceText = `terminationGracePeriodSeconds ${target.graceSeconds}${target.graceDeclared ? '' : ' (the default)'}`;
    const graceAt = target.graceDeclared ? podLocation(target, ['terminationGracePeriodSeconds']) : containerLocation(target, ['name']);
    const preStopAt = containerLocation(target, ['lifecycle', 'preStop']);
    const lastLogLines = life.logs.slice(-10);
    const refused = startRefused(life, { lastLogLines });
    if (refused) return refused;
    const why = notObserved(life, settings);
    if (why) return verdict('error', `could not observe the shutdown: ${why}`, { lastLogLines });
    const outcome = life.probes['k8s-grace-period'];
    if (!outcome) return verdict('error', 'the preStop probe did not run (the container stopped before it)', { lastLogLines });
    if (!outcome.ran) return verdict('error', `the preStop hook could not be run: ${outcome.reason}`, {});
    const pre = outcome.value as PreStopValue;
    const preStopMs = pre.kind === 'sleep' || pre.kind === 'exec' || pre.kind === 'httpGet' ? pre.ms : 0;
    const s = life.shutdown;
    const evidence: Record<string, unknown> = { graceSeconds: target.graceSeconds, graceDeclared: target.graceDeclared, preStop: pre, preStopMs, lastLogLines };
    if (pre.kind === 'missing') {
      return {
        ...verdict(
          'fail',
          `the preStop hook ${JSON.stringify(pre.argv)} cannot run: ${pre.argv[0]} does not exist in the image (${pre.output || 'not found'}); the kubelet logs FailedPreStopHook and sends the stop signal at once — the pause it was meant to give never happens`,
          evidence,
          `Use a program the image has (e.g. \`command: ["node", "-e", "setTimeout(() => {}, ${pre.argv[1] ? Math.round(parseFloat(pre.argv[1]) * 1000) : 5000})"]\`), or the \`sleep\` action (\`preStop: { sleep: { seconds: N } }\`, Kubernetes 1.29+) which needs no program.`,
        ),
        location: preStopAt,
      };
    }
    if (!s) return verdict('error', 'the lifecycle recorded no shutdown', evidence);
    evidence.shutdownMs = valueOf(s.exitedAfterMs);
    evidence.killedAtBudget = s.killedAtBudget;
    evidence.budgetMs = s.budgetMs;
    const preText = preStopMs ? `preStop ${sec(preStopMs)} (${pre.kind === 'sleep' ? pre.how : pre.kind}) + ` : '';
    const atLocation = preStopMs ? preStopAt : graceAt;
    const hint = preStopMs
      ? `Shorten the preStop (${sec(preStopMs)}) or raise terminationGracePeriodSeconds above preStop + shutdown; the app itself must exit soon after ${s.signal}.`
      : `Make the app exit sooner after ${s.signal} (close idle keep-alive connections, bound the drain), or raise terminationGracePeriodSeconds to what it needs plus a margin.`;
    if (s.killedAtBudget) {
      if (s.budgetMs + preStopMs < graceMs) {
        return verdict('error', `the app was killed at the audit's --shutdown-budget (${sec(s.budgetMs)}), shorter than what the grace period leaves it (${sec(graceMs - preStopMs)}): whether it fits is not known`, evidence);
      }
      return { ...verdict('fail', `${preText}the app still running ${sec(s.budgetMs)} after ${s.signal} does not fit ${graceText} (${sec(graceMs)}): the kubelet would SIGKILL it mid-shutdown`, evidence, hint), location: atLocation };
    }
    if (!s.exitedAfterMs.ok) return verdict('error', `could not time the shutdown: ${s.exitedAfterMs.why}`, evidence);
    const total = preStopMs + s.exitedAfterMs.value;
    evidence.totalMs = total;
    const sum = `${preText}shutdown ${sec(s.exitedAfterMs.value)} = ${sec(total)}`;
    if (total > graceMs) return { ...verdict('fail', `${sum}, over ${graceText} (${sec(graceMs)}): the kubelet would SIGKILL it mid-shutdown`, evidence, hint), location: atLocation };
    if (pre.kind === 'httpGet' && (pre.error || (pre.status !== undefined && (pre.status < 200 || pre.status >= 400)))) {
      return { ...verdict('warn', `${sum} fits ${graceText}, but the httpGet preStop to ${pre.url} failed (${pre.error ?? `HTTP ${pre.status}`}): the kubelet logs FailedPreStopHook`, evidence, 'Serve the preStop path (it should answer 2xx once it has started draining).'), location: preStopAt };
    }
    if (pre.kind === 'exec' && (pre.timedOut || pre.exitCode !== 0)) {
      return { ...verdict('warn', `${sum} fits ${graceText}, but the exec preStop ${JSON.stringify(pre.argv)} ${pre.timedOut ? 'did not finish' : `exited ${pre.exitCode}`}: the kubelet logs FailedPreStopHook`, evidence, 'Make the preStop command succeed (exit 0).'), location: preStopAt };
    }
    return verdict('pass', `${sum}, within ${graceText} (${sec(graceMs)})`, evidence);
  },
  lines(result) {
    const e = result.evidence as { graceSeconds?: number; preStop?: PreStopValue; preStopMs?: number; shutdownMs?: number; killedAtBudget?: boolean; totalMs?: number };
    const { lines, add } = lineWriter();
    add('grace period', e.graceSeconds === undefined ? undefined : `${e.graceSeconds} s`);
    if (e.preStop && e.preStop.kind !== 'none') add('preStop', `${e.preStop.kind}${e.preStopMs ? `, ${formatMs(e.preStopMs)}` : ''}${'argv' in e.preStop && e.preStop.argv ? ` ${JSON.stringify(e.preStop.argv)}` : ''}`);
    add('shutdown', e.killedAtBudget ? 'killed at the budget' : e.shutdownMs === undefined ? undefined : formatMs(e.shutdownMs));
    add('total', e.totalMs === undefined ? undefined : formatMs(e.totalMs));
    return [...lines, ...logLines(result)];
  },
  locate: (stage) => stage.last('STOPSIGNAL') ?? stage.last('CMD') ?? stage.last('ENTRYPOINT'),
};
