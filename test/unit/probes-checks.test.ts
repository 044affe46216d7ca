// The three live probes' verdicts are pure functions of what the probe observed.
import { describe, expect, it } from 'vitest';
import type { CheckInput } from '../../src/checks/check.js';
import { analyseDrain, gracefulDrain, judgeDrain } from '../../src/checks/graceful-drain.js';
import { healthDetectsHang, judgeHang, recoveryBoundMs, unhealthyBoundMs } from '../../src/checks/health-detects-hang.js';
import type { ClientEvent } from '../../src/checks/probes/drain-client.js';
import { programMissing } from '../../src/checks/probes/shared.js';
import { judgeZombies, WATCH, WATCH_LOOP, zombieProbe, zombieReaping, type WatchOptions, type WatchOutput, type ZombieProbeValue } from '../../src/checks/zombie-reaping.js';
import type { LiveContext } from '../../src/lifecycle/probe.js';
import type { LifecycleObservation, ShutdownObservation } from '../../src/lifecycle/observe.js';
import type { ProbeOutcome } from '../../src/lifecycle/probe.js';
import { observed, unobserved } from '../../src/observed.js';

function input(probes: Record<string, ProbeOutcome>, over: Partial<LifecycleObservation> = {}): CheckInput {
  return {
    basics: {} as CheckInput['basics'],
    settings: { sizeBudgetBytes: 1, shutdownBudgetMs: 5000, acceptedInits: ['dumb-init'], drainPath: '/', deep: false, builder: 'auto' },
    lifecycle: { containerId: 'c', timeline: [], logs: [], durationMs: 1, probes, ...over },
  };
}

describe('zombie-reaping', () => {
  // The watcher's own loop (the very text exec'd in the container), run against a fake /proc and clock.
  const watch = new Function(`${WATCH_LOOP}\nreturn watch;`)() as (io: unknown, options: WatchOptions) => Promise<WatchOutput>;
  /** An orphan's states over the container's clock: [from ms, state] in order; "gone" once reaped. */
  type Timeline = Array<[number, string]>;
  const at = (timeline: Timeline, t: number) => timeline.filter(([from]) => from <= t).pop()?.[1] ?? 'R';
  // The probe against a scripted container: its one exec runs watch() on the orphans' timelines.
  const probeWith = async (orphans: Record<number, Timeline>, more: { others?: Array<{ pid: number; ppid: number; comm: string }>; recycled?: number[]; exitCode?: number } = {}) => {
    let t = 0;
    const execs: Array<{ argv: string[]; timeoutMs?: number }> = [];
    const events: string[] = [];
    const io = {
      spawn: () => Object.keys(orphans).map((pid) => ({ pid: Number(pid), start: '4242' })),
      stat: (pid: number | string) => {
        const other = more.others?.find((o) => o.pid === Number(pid));
        if (other) return { ...other, state: 'Z', start: '7' };
        const timeline = orphans[Number(pid)];
        const state = timeline && at(timeline, t);
        if (!state || state === 'gone') return undefined;
        return { pid: Number(pid), comm: 'node', state, ppid: 1, start: more.recycled?.includes(Number(pid)) ? '9999' : '4242' };
      },
      pids: () => [...Object.keys(orphans), ...(more.others ?? []).map((o) => String(o.pid))],
      pid1: () => 'node app.js',
      now: () => t,
      // Timers fire a little late, as on a busy host.
      sleep: async (ms: number) => {
        t += ms + 7;
      },
    };
    const context = {
      processes: { app: undefined },
      signal: new AbortController().signal,
      clock: { now: () => 0 },
      exec: async (argv: string[], options: { timeoutMs?: number } = {}) => {
        execs.push({ argv, timeoutMs: options.timeoutMs });
        events.push('exec');
        if (more.exitCode) return { exitCode: more.exitCode, stdout: '', stderr: 'exec: "node": executable file not found in $PATH' };
        return { exitCode: 0, stdout: JSON.stringify(await watch(io, JSON.parse(argv[3]) as WatchOptions)) + '\n', stderr: '' };
      },
      record: (event: string, detail?: string) => events.push(`${event}: ${detail}`),
    } as unknown as LiveContext;
    const value = await zombieProbe.whileUp!(context);
    const check = zombieReaping.run(input({ 'zombie-reaping': { ran: true, value, durationMs: 5 } }));
    return { value: value as ZombieProbeValue, check, execs, events, endedAt: t };
  };
  it('execs one watcher, bounded inside the probe, and records the orphans it spawned once it returns', async () => {
    const { value, execs, events } = await probeWith({ 21: [[0, 'S'], [160, 'gone']], 22: [[0, 'S'], [170, 'gone']] });
    expect(execs).toHaveLength(1);
    expect(execs[0].argv.slice(0, 3)).toEqual(['node', '-e', WATCH]);
    const options = JSON.parse(execs[0].argv[3]) as WatchOptions;
    expect(options).toEqual({ orphans: 3, pollMs: 100, graceMs: 1000, boundMs: 20_000 });
    expect(execs[0].timeoutMs).toBeGreaterThan(options.boundMs);
    expect(execs[0].timeoutMs).toBeLessThan(zombieProbe.timeoutMs);
    expect(events).toEqual(['exec', 'zombie-probe: spawned orphans 21, 22 (pids in the container)']);
    expect(value).toEqual({ kind: 'observed', orphans: [{ pid: 21, state: 'gone' }, { pid: 22, state: 'gone' }], zombies: [], pid1: 'node app.js', readAfterMs: 214 });
  });
  it('the watcher is a script old nodes run: it compiles as a plain function body, without ?? or ?.', () => {
    expect(() => new Function(WATCH)).not.toThrow(); // a top-level await would not compile here
    expect(WATCH).not.toMatch(/\?\?|\?\./);
  });
  it('gives PID 1 time to reap a zombie it has not reached yet (a loaded host): pass, not fail', async () => {
    // 21 starts late and is a zombie for 600 ms before PID 1 reaps it, within the grace.
    const { value, check, endedAt } = await probeWith({ 21: [[0, 'S'], [600, 'Z'], [1200, 'gone']], 22: [[0, 'S'], [200, 'gone']] });
    expect(value.orphans.map((o) => o.state)).toEqual(['gone', 'gone']);
    expect(value.zombieForMs).toBeUndefined();
    expect(value.readAfterMs).toBeGreaterThanOrEqual(1200);
    expect(value.readAfterMs).toBeLessThan(1200 + 107);
    expect(endedAt).toBe(value.readAfterMs);
    expect(check).toMatchObject({ status: 'pass', message: 'PID 1 "node app.js" reaped all 2 orphaned processes' });
  });
  it('fails a zombie that is still there after the grace', async () => {
    const { value, check } = await probeWith({ 21: [[0, 'S'], [200, 'Z']], 22: [[0, 'Z']] });
    expect(value.zombieForMs).toBeGreaterThanOrEqual(1000);
    expect(value.zombieForMs).toBeLessThan(1000 + 107);
    expect(value.zombies).toEqual([{ pid: 21, ppid: 1, comm: 'node' }, { pid: 22, ppid: 1, comm: 'node' }]);
    expect(check.status).toBe('fail');
    expect(check.message).toMatch(/^2 of 2 orphaned processes stayed zombies \(still after 1\.\d s\): pids 21 \(ppid 1\), 22 \(ppid 1\) in the container, not reaped by PID 1 "node app.js"$/);
  });
  it('times the grace from when each zombie was first seen: one seen late holds the verdict back', async () => {
    // 22 becomes a zombie 800 ms after 21: the watcher waits for 22's grace too.
    const { value, check } = await probeWith({ 21: [[0, 'Z']], 22: [[0, 'S'], [1050, 'Z']] });
    expect(value.readAfterMs).toBeGreaterThanOrEqual(2050);
    expect(value.zombieForMs).toBeGreaterThanOrEqual(1000);
    expect(check.status).toBe('fail');
  });
  it('is an error, not a fail, when the bound passed before a zombie had outlived the grace', async () => {
    const { value, check } = await probeWith({ 21: [[0, 'S'], [19_700, 'Z']] });
    expect(value.readAfterMs).toBeGreaterThanOrEqual(20_000);
    expect(value.readAfterMs).toBeLessThan(20_000 + 107);
    expect(value.zombieForMs).toBeLessThan(1000);
    expect(check.status).toBe('error');
    expect(check.message).toMatch(/^1 orphaned processes were zombies for only \d+ ms when the 20\.0 s bound passed: reaping could not be observed$/);
  });
  it('is an error when an orphan is still running at the bound', async () => {
    const { value, check } = await probeWith({ 21: [[0, 'S']], 22: [[0, 'S'], [300, 'gone']] });
    expect(value.readAfterMs).toBeGreaterThanOrEqual(20_000);
    expect(value.orphans).toEqual([{ pid: 21, state: 'S', ppid: 1, comm: 'node' }, { pid: 22, state: 'gone' }]);
    expect(check.status).toBe('error');
    expect(check.message).toContain('1 orphaned processes were still running');
  });
  it('takes a pid that now has another start time for a reaped orphan (a recycled pid)', async () => {
    const { value, check } = await probeWith({ 21: [[0, 'Z']] }, { recycled: [21] });
    expect(value.orphans).toEqual([{ pid: 21, state: 'gone' }]);
    expect(check.status).toBe('pass');
  });
  it('lists the other zombies in the container on its last read', async () => {
    const { value, check } = await probeWith({ 21: [[0, 'S'], [160, 'gone']] }, { others: [{ pid: 9, ppid: 1, comm: 'sh' }] });
    expect(value.zombies).toEqual([{ pid: 9, ppid: 1, comm: 'sh' }]);
    expect(check.status).toBe('warn');
    expect(check.message).toContain('1 other zombies are left to PID 1 (9 sh)');
  });
  it('skips when there is no node to exec', async () => {
    const { value, check, events } = await probeWith({ 21: [[0, 'S']] }, { exitCode: 127 });
    expect(value).toMatchObject({ kind: 'unavailable' });
    expect(events).toEqual(['exec']);
    expect(check).toMatchObject({ status: 'skip', message: expect.stringMatching(/^there is no node to exec in the container/) });
  });
  it('is an error, not a fail, when the bound passed before a zombie had outlived the grace (verdict alone)', () => {
    const v = judgeZombies({ kind: 'observed', orphans: [{ pid: 21, state: 'Z', ppid: 1 }], zombies: [], pid1: 'node app.js', readAfterMs: 20_100, zombieForMs: 300 });
    expect(v.status).toBe('error');
    expect(v.message).toContain('reaping could not be observed');
  });
  const base = { kind: 'observed' as const, zombies: [], pid1: 'dumb-init -- node app.js', readAfterMs: 600 };
  it('passes when every orphan is gone', () => {
    const v = judgeZombies({ ...base, orphans: [{ pid: 20, state: 'gone' }, { pid: 21, state: 'gone' }, { pid: 22, state: 'gone' }] });
    expect(v).toMatchObject({ status: 'pass', message: 'PID 1 "dumb-init -- node app.js" reaped all 3 orphaned processes' });
  });
  it('fails naming each zombie, its ppid and PID 1', () => {
    const v = judgeZombies({
      ...base,
      pid1: 'node app.js',
      orphans: [{ pid: 20, state: 'Z', ppid: 1, comm: 'node' }, { pid: 21, state: 'gone' }],
      zombies: [{ pid: 20, ppid: 1, comm: 'node' }],
    });
    expect(v.status).toBe('fail');
    expect(v.message).toBe('1 of 2 orphaned processes stayed zombies: pids 20 (ppid 1) in the container, not reaped by PID 1 "node app.js"');
    expect(v.hint).toContain('dumb-init');
  });
  it('reports error, not a pass, when an orphan was still running', () => {
    expect(judgeZombies({ ...base, orphans: [{ pid: 20, state: 'S', ppid: 1 }] }).status).toBe('error');
  });
  it('warns about other zombies left to PID 1 when the orphans were reaped', () => {
    const v = judgeZombies({ ...base, orphans: [{ pid: 20, state: 'gone' }], zombies: [{ pid: 9, ppid: 1, comm: 'sh' }] });
    expect(v.status).toBe('warn');
    expect(v.message).toContain('1 other zombies are left to PID 1 (9 sh)');
  });
  it("passes when the only other zombie is an exec'd process its shim has not reaped yet (ppid 0) or the app's own child", () => {
    const v = judgeZombies({ ...base, orphans: [{ pid: 20, state: 'gone' }], zombies: [{ pid: 52, ppid: 0, comm: 'node' }, { pid: 9, ppid: 7, comm: 'sh' }] });
    expect(v.status).toBe('pass');
  });
  it('skips with the reason when there is no node to exec', () => {
    const v = zombieReaping.run(input({ 'zombie-reaping': { ran: true, value: { kind: 'unavailable', reason: 'there is no node to exec in the container' }, durationMs: 5 } }));
    expect(v).toMatchObject({ status: 'skip', message: 'there is no node to exec in the container' });
  });
  it('reports error when the probe could not run, and when the app exited before it', () => {
    expect(zombieReaping.run(input({ 'zombie-reaping': { ran: false, reason: 'the probe did not finish within its bound', durationMs: 30_000 } }))).toMatchObject({
      status: 'error',
      message: 'the probe could not run: the probe did not finish within its bound',
    });
    expect(zombieReaping.run(input({}, { exitedEarly: { exitCode: observed(1), afterMs: observed(300), oomKilled: false } })).status).toBe('error');
  });
  it('tells a missing program from a failure', () => {
    expect(programMissing({ exitCode: 126, stdout: 'OCI runtime exec failed: exec: "node": executable file not found in $PATH', stderr: '' })).toBe(true);
    expect(programMissing({ exitCode: 1, stdout: '', stderr: 'SyntaxError' })).toBe(false);
  });
});

describe('health-detects-hang', () => {
  const health = { intervalMs: 500, timeoutMs: 3000, retries: 3 };
  it('bounds the wait by the retries, each probe taking up to its timeout, plus slack', () => {
    expect(unhealthyBoundMs(health)).toBe(3 * 3500 + 3500 + 3000);
    expect(recoveryBoundMs(health)).toBe(2 * 3500 + 3000);
  });
  it('passes when unhealthy while frozen and healthy again after', () => {
    const v = judgeHang({ kind: 'observed', via: 'exec', frozenAtMs: 2000, unhealthyAtMs: 9500, resumedAtMs: 9600, healthyAgainAtMs: 10_400, health });
    expect(v).toMatchObject({ status: 'pass', message: 'unhealthy 7.5 s after the app was frozen; healthy again 800 ms after SIGCONT' });
  });
  it('fails when the container stayed healthy while frozen', () => {
    const v = judgeHang({ kind: 'observed', via: 'kill-api', frozenAtMs: 2000, resumedAtMs: 19_000, health });
    expect(v.status).toBe('fail');
    expect(v.message).toContain('SIGSTOP via the kill API');
    expect(v.hint).toContain('HTTP');
  });
  it('is an error, not a pass, when the probe failed before the freeze too (a loaded host times out even `node -e 0`)', () => {
    const probesBeforeFreeze = [
      { exitCode: 0, output: '', durationMs: 400 },
      { exitCode: -1, output: 'Health check exceeded timeout (1s)', durationMs: 1000 },
    ];
    const v = judgeHang({ kind: 'observed', via: 'exec', frozenAtMs: 2000, unhealthyAtMs: 9500, resumedAtMs: 9600, healthyAgainAtMs: 10_400, health, probesBeforeFreeze });
    expect(v).toMatchObject({ status: 'error', message: expect.stringMatching(/^the HEALTHCHECK failed before the app was frozen too \(1 of the last 2 probes; exit -1: "Health check exceeded timeout \(1s\)"\)/) });
    const clean = judgeHang({ kind: 'observed', via: 'exec', frozenAtMs: 2000, unhealthyAtMs: 9500, resumedAtMs: 9600, healthyAgainAtMs: 10_400, health, probesBeforeFreeze: [probesBeforeFreeze[0]] });
    expect(clean.status).toBe('pass');
  });
  it('warns when it noticed the hang but did not recover', () => {
    expect(judgeHang({ kind: 'observed', via: 'exec', frozenAtMs: 0, unhealthyAtMs: 5000, resumedAtMs: 5100, health, recoveryBoundMs: 10_000 }).status).toBe('warn');
  });
  it('skips without a HEALTHCHECK and when the app never turned healthy', () => {
    const noHealthcheck = healthDetectsHang.run(input({ 'health-detects-hang': { ran: true, value: { kind: 'unavailable', reason: 'the image declares no HEALTHCHECK (see the healthcheck check)' }, durationMs: 0 } }));
    expect(noHealthcheck).toMatchObject({ status: 'skip', message: 'the image declares no HEALTHCHECK (see the healthcheck check)' });
    expect(healthDetectsHang.run(input({ 'health-detects-hang': { ran: true, value: { kind: 'not-healthy' }, durationMs: 0 } })).status).toBe('skip');
  });
});

describe('graceful-drain', () => {
  const shutdown = (over: Partial<Omit<ShutdownObservation, 'exitedAfterMs' | 'exitCode'>> & { exitedAfterMs?: number; exitCode?: number } = {}): ShutdownObservation => ({
    signal: 'SIGTERM',
    budgetMs: 5000,
    oomKilled: false,
    ...over,
    killedAtBudget: over.killedAtBudget ?? false,
    exitedAfterMs: 'exitedAfterMs' in over && over.exitedAfterMs === undefined ? unobserved('killed at the budget') : observed(over.exitedAfterMs ?? 120),
    exitCode: observed(over.exitCode ?? 0),
  });
  const setup: ClientEvent[] = [
    { t: 5, e: 'sent', id: 1, s: 'idle-1' },
    { t: 9, e: 'answered', id: 1, s: 'idle-1', status: 200 },
    { t: 10, e: 'sent', id: 2, s: 'hot-1' },
    { t: 12, e: 'answered', id: 2, s: 'hot-1', status: 200 },
    { t: 100, e: 'ready', budgetMs: 5000 },
  ];
  const value = (events: ClientEvent[]) => ({ kind: 'observed' as const, port: 3000, path: '/', events: [...setup, ...events] });

  it('passes when sockets get FIN and nothing sent is lost', () => {
    const events: ClientEvent[] = [
      { t: 102, e: 'fin', s: 'idle-1' },
      { t: 103, e: 'fin', s: 'silent' },
      { t: 104, e: 'fin', s: 'hot-1' },
      { t: 150, e: 'refused', id: 3, s: 'hot', code: 'ECONNREFUSED' },
      { t: 150, e: 'reset', s: 'hot-2', code: 'ECONNREFUSED' },
    ];
    const analysis = analyseDrain(value(events).events, 1);
    expect(analysis.sockets).toEqual([
      { socket: 'idle-1', fate: 'FIN', afterSignalMs: 1 },
      { socket: 'hot-1', fate: 'FIN', afterSignalMs: 3 },
      { socket: 'silent', fate: 'FIN', afterSignalMs: 2 },
    ]);
    expect(analysis.dropped).toEqual([]);
    expect(judgeDrain(value(events), shutdown(), 1).status).toBe('pass');
  });
  it('fails when a request already sent got no response, keeping one cut off by the exit apart', () => {
    const events: ClientEvent[] = [
      { t: 90, e: 'sent', id: 3, s: 'inflight-1' },
      { t: 91, e: 'sent', id: 4, s: 'inflight-2' },
      { t: 150, e: 'dropped', id: 3, s: 'inflight-1', code: 'ECONNRESET' },
    ];
    const v = judgeDrain(value(events), shutdown(), 0);
    expect(v.status).toBe('fail');
    expect(v.evidence.dropped).toEqual([{ socket: 'inflight-1', id: 3, sentAfterSignalMs: -10, reason: 'ECONNRESET' }]);
    expect(v.evidence.unobserved).toEqual([{ socket: 'inflight-2', id: 4, sentAfterSignalMs: -9 }]);
  });
  it('reports error, never a pass, when the exit ended the client before a request had an outcome', () => {
    const v = judgeDrain(value([{ t: 90, e: 'sent', id: 3, s: 'inflight-1' }]), shutdown(), 0);
    expect(v.status).toBe('error');
  });
  it('does not blame the app for resets caused by the SIGKILL at the budget', () => {
    const events: ClientEvent[] = [
      { t: 5000, e: 'sent', id: 3, s: 'hot-1' },
      { t: 5110, e: 'dropped', id: 3, s: 'hot-1', code: 'ECONNRESET' },
      { t: 4800, e: 'census', open: ['idle-1'], pending: 1 },
    ];
    const v = judgeDrain(value(events), shutdown({ killedAtBudget: true, exitedAfterMs: undefined }), 0);
    expect(v.status).toBe('fail');
    expect(v.evidence.dropped).toEqual([]);
    expect(v.message).toContain('(idle-1)');
  });
  it('does not count the keep-alive race (a reset of a reused socket before any response byte) as a drop', () => {
    const events: ClientEvent[] = [
      { t: 103, e: 'sent', id: 3, s: 'hot-1' },
      { t: 104, e: 'retryable', id: 3, s: 'hot-1', code: 'ECONNRESET' },
    ];
    const analysis = analyseDrain(value(events).events, 0);
    expect(analysis).toMatchObject({ dropped: [], retryableResets: 1 });
  });
  it('does not count a new connection reset after the signal before any response byte (never accepted) as a drop', () => {
    const events: ClientEvent[] = [
      { t: 104, e: 'fin', s: 'hot-1' },
      { t: 106, e: 'sent', id: 3, s: 'hot-2', fresh: true },
      { t: 108, e: 'dropped', id: 3, s: 'hot-2', code: 'ECONNRESET', noResponse: true },
    ];
    const v = judgeDrain(value(events), shutdown(), 2);
    expect(v.status).toBe('pass');
    expect(v.evidence.notAcceptedAfterSignal).toBe(1);
    expect(v.message).toContain('1 new connection(s) opened after the signal were not accepted');
  });
  it('still fails a new connection reset before any response byte when it was sent before the signal', () => {
    const events: ClientEvent[] = [
      { t: 95, e: 'sent', id: 3, s: 'hot-2', fresh: true },
      { t: 108, e: 'dropped', id: 3, s: 'hot-2', code: 'ECONNRESET', noResponse: true },
    ];
    expect(judgeDrain(value(events), shutdown(), 0).status).toBe('fail');
  });
  it('places the signal by the daemon kill event against the client wall clock, not by when "ready" reached the audit', () => {
    // ready at client t=100 / wall 1_000_100; the daemon's kill event at wall 1_000_103 (3 ms later),
    // though the audit only got "ready" 40 ms late: the request at t=106 was sent after the signal.
    const events: ClientEvent[] = [
      { t: 104, e: 'fin', s: 'hot-1' },
      { t: 106, e: 'sent', id: 3, s: 'hot-2', fresh: true },
      { t: 108, e: 'dropped', id: 3, s: 'hot-2', code: 'ECONNRESET', noResponse: true },
    ];
    const observed = { ...value(events), readyAtMs: 1000 };
    observed.events = observed.events.map((e) => (e.e === 'ready' ? { ...e, wall: 1_000_100 } : e));
    const probes = { 'graceful-drain': { ran: true as const, value: observed, durationMs: 0 } };
    const timeline = [{ atMs: 1040, event: 'signal' }];
    const v = gracefulDrain.run(input(probes, { shutdown: shutdown({ signalTimeMs: 1_000_103 }), timeline }));
    expect(v.status).toBe('pass');
    expect(v.evidence).toMatchObject({ signalPlacedBy: 'daemon-kill-event', notAcceptedAfterSignal: 1 });
    // Without the kill event, our own clock puts the signal 40 ms after "ready": the same request looks sent before it.
    const late = gracefulDrain.run(input(probes, { shutdown: shutdown(), timeline }));
    expect(late).toMatchObject({ status: 'fail', evidence: { signalPlacedBy: 'ready-latency' } });
    // One clock (the event inside our request): the signal is placed at the request, before the event.
    const early = gracefulDrain.run(input(probes, { shutdown: shutdown({ signalSentAtMs: 1_000_101, signalAnsweredAtMs: 1_000_104, signalTimeMs: 1_000_103 }), timeline }));
    expect(early.evidence).toMatchObject({ signalPlacedBy: 'kill-request' });
    expect((early.evidence.sockets as Array<{ socket: string; afterSignalMs: number }>).find((s) => s.socket === 'hot-1')?.afterSignalMs).toBe(3);
  });
  it('fails when open keep-alive sockets held the app at the budget', () => {
    const v = judgeDrain(value([{ t: 4800, e: 'census', open: ['idle-1', 'silent', 'hot-1'], pending: 0 }]), shutdown({ killedAtBudget: true, exitedAfterMs: undefined, exitCode: 137 }), 0);
    expect(v.status).toBe('fail');
    expect(v.message).toContain('2 client connection(s) still open (idle-1, hot-1)');
  });
  it('is an error, not "every request was answered", when the app was killed at the budget with requests whose outcome was not reported', () => {
    // Every socket closed before the census, but request 9 (sent after the signal) never got an outcome.
    const v = judgeDrain(value([{ t: 3000, e: 'sent', id: 9, s: 'hot-1' }, { t: 4800, e: 'census', open: [], pending: 1 }]), shutdown({ killedAtBudget: true, exitedAfterMs: undefined, exitCode: 137 }), 0);
    expect(v.status).toBe('error');
    expect(v.message).toMatch(/^1 request\(s\) had no reported outcome/);
  });
  it('warns when only the silent socket was open at the budget', () => {
    const v = judgeDrain(value([{ t: 4800, e: 'census', open: ['silent'], pending: 0 }]), shutdown({ killedAtBudget: true, exitedAfterMs: undefined }), 0);
    expect(v.status).toBe('warn');
    expect(v.hint).toContain("server.on('connection')");
  });
  it('skips with the reason when there is no port', () => {
    const v = gracefulDrain.run(input({ 'graceful-drain': { ran: true, value: { kind: 'unavailable', reason: 'the image EXPOSEs no TCP port and no --port was given: there is nothing to send traffic to' }, durationMs: 0 } }));
    expect(v).toMatchObject({ status: 'skip', message: expect.stringContaining('no --port') });
  });
  it('reports error when no traffic could be set up', () => {
    const v = gracefulDrain.run(input({ 'graceful-drain': { ran: true, value: { kind: 'setup-failed', port: 8080, path: '/', events: [], message: 'no answer within 15000 ms' }, durationMs: 0 } }));
    expect(v.status).toBe('error');
    expect(v.hint).toContain('--port');
  });
});
