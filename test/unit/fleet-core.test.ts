// The fleet's pure parts: shards, the fleet report and merge, target expansion and option layers, the
// fleet file, and the work queue with its faults (fake audits and engines, no Docker).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditInterruptedError, DaemonUnreachableError, ImageNotFoundError, UsageError } from '../../src/errors.js';
import type { DockerPort } from '../../src/docker/port.js';
import { connectEngines, defaultJobs, type FleetEngine } from '../../src/fleet/engines.js';
import { parseFleetFile } from '../../src/fleet/file.js';
import { fleetReport, mergeReports, type FleetTarget } from '../../src/fleet/report.js';
import { runFleet } from '../../src/fleet/schedule.js';
import { inShard, parseShard, shardOf } from '../../src/fleet/shard.js';
import { layerOptions, resolveFleetTargets, type FleetJob } from '../../src/fleet/targets.js';
import type { AuditReport, CheckStatus } from '../../src/types.js';

const report = (target: string, statuses: CheckStatus[] = ['pass', 'pass']): AuditReport => {
  const summary = { pass: 0, fail: 0, warn: 0, skip: 0, error: 0, waived: 0 };
  for (const s of statuses) summary[s]++;
  return {
    target,
    image: { id: `sha256:${'a'.repeat(64)}`, tags: [], sizeBytes: 1000 },
    checks: statuses.map((status, i) => ({ id: (['non-root-user', 'init-pid1', 'healthcheck'] as const)[i], title: 't', status, message: `${status} message`, evidence: {}, durationMs: 1 })),
    summary,
    durationMs: 1234,
  };
};

const target = (name: string, exitCode: number, r: AuditReport | null = report(name), engine = 'default'): FleetTarget => ({ target: name, name, engine, exitCode, report: r });

describe('shards', () => {
  const names = Array.from({ length: 200 }, (_, i) => `services/svc-${i}`);
  it('are disjoint and cover every target', () => {
    const shards = [1, 2, 3, 4].map((k) => inShard(names.map((name) => ({ name })), { index: k, count: 4 }).map((t) => t.name));
    expect(shards.flat().sort()).toEqual([...names].sort());
    expect(new Set(shards.flat()).size).toBe(names.length);
    for (const s of shards) expect(s.length).toBeGreaterThan(25);
  });
  it('do not move a target when another is added anywhere in the list', () => {
    const before = new Map(names.map((n) => [n, shardOf(n, 4)]));
    const grown = ['services/new-one', ...names.slice(0, 100), 'services/another', ...names.slice(100)];
    for (const n of names) expect(shardOf(n, 4)).toBe(before.get(n));
    expect(grown.length).toBe(names.length + 2);
  });
  it('are read as K/N with 1 ≤ K ≤ N, else exit 2', () => {
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    for (const bad of ['0/3', '4/3', '1', 'a/b', '1/0']) expect(() => parseShard(bad)).toThrow(UsageError);
  });
});

describe('the fleet report', () => {
  it('is the targets sorted by name, with a summary computed from them alone', () => {
    const r = fleetReport([target('b', 1, report('b', ['pass', 'fail'])), target('a', 0), { ...target('c', 3, null, 'second'), error: { message: 'engine gone' } }]);
    expect(r.targets.map((t) => t.name)).toEqual(['a', 'b', 'c']);
    expect(r.summary).toEqual({
      targets: 3,
      pass: 1,
      fail: 1,
      couldNotAudit: 1,
      checks: { pass: 3, fail: 1, warn: 0, skip: 0, error: 0, waived: 0 },
      engines: { default: 2, second: 1 },
      exitCode: 3,
    });
  });
  it('exits 3 if any target could not be audited, else 1 if any failed, else 0', () => {
    expect(fleetReport([target('a', 0), target('b', 1)]).summary.exitCode).toBe(1);
    expect(fleetReport([target('a', 0)]).summary.exitCode).toBe(0);
    expect(fleetReport([target('a', 0), target('b', 3, report('b', ['error']))]).summary.exitCode).toBe(3);
    expect(fleetReport([]).summary.exitCode).toBe(0);
  });
  it('merges shard reports into what the whole fleet reports', () => {
    const all = [target('a', 0), target('b', 1, report('b', ['fail'])), target('c', 0, report('c'), 'second'), { ...target('d', 3, null), error: { message: 'x' } }];
    const whole = fleetReport(all);
    const shard1 = JSON.parse(JSON.stringify(fleetReport([all[2], all[0]])));
    const shard2 = JSON.parse(JSON.stringify(fleetReport([all[3], all[1]])));
    expect(mergeReports([{ file: 's1.json', json: shard1 }, { file: 's2.json', json: shard2 }])).toEqual(whole);
  });
  it('refuses to merge a target found in two reports, or a file that is no report', () => {
    const one = fleetReport([target('a', 0)]);
    expect(() => mergeReports([{ file: 's1.json', json: one }, { file: 's2.json', json: one }])).toThrow('Target "a" is in both s1.json and s2.json');
    expect(() => mergeReports([{ file: 'x.json', json: { hello: 1 } }])).toThrow('x.json is not an image-audit report');
  });
  it('merges a single audit\'s JSON report as a target of unknown engine', () => {
    expect(mergeReports([{ file: 'one.json', json: report('svc', ['fail']) }]).targets[0]).toMatchObject({ target: 'svc', engine: 'unknown', exitCode: 1 });
  });
});

describe('fleet targets', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'fleet-targets-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const service = (dir: string, config?: object) => {
    mkdirSync(path.join(root, dir), { recursive: true });
    writeFileSync(path.join(root, dir, 'Dockerfile'), 'FROM scratch\n');
    if (config) writeFileSync(path.join(root, dir, 'image-audit.config.json'), JSON.stringify(config));
  };
  service('services/api', { sizeBudget: '300MB', buildArgs: { A: 'service', B: 'service' } });
  service('services/web');
  service('other/api');
  mkdirSync(path.join(root, 'services/docs'), { recursive: true });
  const caller = (values = {}) => ({ values, nameOf: (k: string) => `--${k}` });

  it('expands a glob to the folders that hold a Dockerfile, and says which it left out', () => {
    const notices: string[] = [];
    const jobs = resolveFleetTargets({ args: ['services/*'], caller: caller(), cwd: root, onNotice: (l) => notices.push(l) });
    expect(jobs.map((j) => [j.name, j.kind])).toEqual([['services/api', 'context'], ['services/web', 'context']]);
    expect(notices).toEqual(['services/*: left out 1 folder without Dockerfile: services/docs']);
  });
  it('keeps two contexts with the same folder name apart', () => {
    const jobs = resolveFleetTargets({ args: ['services/api', 'other/api'], caller: caller(), cwd: root });
    expect(jobs.map((j) => j.name)).toEqual(['services/api', 'other/api']);
  });
  it('fails with exit 2 on a glob that matches no service, or a folder without its Dockerfile', () => {
    expect(() => resolveFleetTargets({ args: ['nothing/*'], caller: caller(), cwd: root })).toThrow('nothing/* matches no folder with a Dockerfile');
    expect(() => resolveFleetTargets({ args: ['services/docs'], caller: caller(), cwd: root })).toThrow('no Dockerfile in services/docs');
  });
  it('takes image references as they are', () => {
    expect(resolveFleetTargets({ args: ['myorg/api:1.2.3'], caller: caller(), cwd: root })[0]).toMatchObject({ kind: 'image', auditTarget: 'myorg/api:1.2.3' });
    expect(() => resolveFleetTargets({ args: ['Not A Ref'], caller: caller(), cwd: root })).toThrow(UsageError);
  });
  it('layers the options: fleet defaults < the service config < the fleet entry < the command line', () => {
    const file = parseFleetFile(
      {
        defaults: { sizeBudget: '100MB', shutdownBudget: '3s', buildArgs: { A: 'defaults', C: 'defaults' }, waivers: [{ check: 'healthcheck', reason: 'platform' }] },
        targets: [{ target: 'services/api', shutdownBudget: '4s', buildArgs: { B: 'entry' }, waivers: [{ check: 'size-budget', reason: 'entry' }] }, 'services/web'],
      },
      path.join(root, 'image-audit.fleet.json'),
    );
    const [api, web] = resolveFleetTargets({ args: [], file, caller: caller({ memory: '512MiB', buildArgs: { C: 'flag' } }), cwd: root });
    expect(api.options).toMatchObject({
      sizeBudget: '300MB', // the service's own config over the defaults
      shutdownBudget: '4s', // the entry over both
      memory: '512MiB', // the command line over all
      buildArgs: { A: 'service', B: 'entry', C: 'flag' },
      waivers: [{ check: 'healthcheck', reason: 'platform' }, { check: 'size-budget', reason: 'entry' }],
    });
    expect(web.options).toMatchObject({ sizeBudget: '100MB', shutdownBudget: '3s', buildArgs: { A: 'defaults', C: 'flag' } });
  });
  it('picks fleet file entries by name when TARGETs are given', () => {
    const file = parseFleetFile({ targets: [{ target: 'services/api', name: 'api' }, 'services/web'] }, path.join(root, 'f.json'));
    expect(resolveFleetTargets({ args: ['api'], file, caller: caller(), cwd: root }).map((j) => j.name)).toEqual(['api']);
  });
  it('refuses two different entries under one name', () => {
    const file = parseFleetFile({ targets: [{ target: 'services/api', dockerfile: 'Dockerfile' }, { target: 'services/api', sizeBudget: '1GB' }] }, path.join(root, 'f.json'));
    expect(() => resolveFleetTargets({ args: [], file, caller: caller(), cwd: root })).toThrow('Two targets are named "services/api"');
  });
  it('validates the fleet file like the config: unknown keys and bad values name their place', () => {
    expect(() => parseFleetFile({ targets: ['a'], engine: ['x'] }, 'f.json')).toThrow('Invalid fleet file f.json: /: unknown key "engine" (allowed: $schema, engines, jobs, defaults, targets)');
    expect(() => parseFleetFile({ targets: [] }, 'f.json')).toThrow('/targets: must NOT have fewer than 1 items');
    expect(() => parseFleetFile({ targets: [{ name: 'x' }] }, 'f.json')).toThrow('/targets/0: missing "target"');
    expect(() => parseFleetFile({ targets: [{ target: 'a', sizeBudget: 'huge' }] }, 'f.json')).toThrow('Invalid config f.json /targets/0: /sizeBudget: "huge" is not a size');
    expect(() => parseFleetFile({ defaults: { sizeBudet: '1MB' }, targets: ['a'] }, 'f.json')).toThrow('unknown key "sizeBudet"');
  });
  it('layers buildArgs and env by key and adds up waivers', () => {
    expect(layerOptions({ buildArgs: { A: '1' }, env: { X: '1' }, deep: true }, { buildArgs: { B: '2' }, env: { X: '2' } })).toEqual({ buildArgs: { A: '1', B: '2' }, env: { X: '2' }, deep: true });
  });
});

describe('the work queue over engines', () => {
  const job = (name: string): FleetJob => ({ name, target: name, auditTarget: name, kind: 'image', options: {}, gate: {} });
  const engine = (name: string, jobs = 2): FleetEngine => ({ engine: { name, host: `unix:///${name}`, source: '--engine' }, name, jobs, port: {} as DockerPort });
  const jobs = ['a', 'b', 'c', 'd', 'e', 'f'].map(job);

  it('runs every target once, at most `jobs` at a time per engine', async () => {
    const running = new Map<string, number>();
    let most = 0;
    const results = await runFleet(jobs, [engine('one', 2), engine('two', 1)], {
      signal: new AbortController().signal,
      answers: async () => true,
      audit: async (j, e) => {
        running.set(e.name, (running.get(e.name) ?? 0) + 1);
        most = Math.max(most, running.get('one') ?? 0);
        expect(running.get('two') ?? 0).toBeLessThanOrEqual(1);
        await new Promise((r) => setTimeout(r, 5));
        running.set(e.name, running.get(e.name)! - 1);
        return report(j.name);
      },
    });
    expect(results.map((r) => r.name).sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(most).toBe(2);
    expect(new Set(results.map((r) => r.engine))).toEqual(new Set(['one', 'two']));
  });

  it('retries the unfinished targets of an engine that stops answering on another, once', async () => {
    let twoAlive = true;
    const notices: string[] = [];
    const results = await runFleet(jobs, [engine('one', 1), engine('two', 2)], {
      signal: new AbortController().signal,
      answers: async (e) => e.name === 'one' || twoAlive,
      onNotice: (l) => notices.push(l),
      audit: async (j, e, signal) => {
        if (e.name === 'two') {
          twoAlive = false;
          await new Promise((r) => setTimeout(r, 5));
          if (signal.aborted) throw new AuditInterruptedError('engine lost');
          throw new DaemonUnreachableError('Docker daemon stopped answering at unix:///two (ECONNREFUSED)');
        }
        await new Promise((r) => setTimeout(r, 2));
        return report(j.name);
      },
    });
    expect(results).toHaveLength(6);
    for (const r of results) expect(r).toMatchObject({ engine: 'one', exitCode: 0 });
    const retried = results.filter((r) => r.attempts);
    expect(retried.length).toBe(2);
    expect(retried[0].attempts![0].engine).toBe('two');
    expect(notices[0]).toMatch(/^engine two stopped answering \(.*\): it is left out; its unfinished targets are retried on another engine$/);
  });

  it('keeps no report from an engine found dead after the audit, and names it when no engine is left', async () => {
    const results = await runFleet([job('a')], [engine('one', 1)], {
      signal: new AbortController().signal,
      answers: async () => false,
      audit: async (j) => report(j.name, ['pass', 'error']),
    });
    expect(results).toEqual([
      expect.objectContaining({ name: 'a', engine: 'one', exitCode: 3, report: null, error: { message: 'engine one stopped answering (engine one stopped answering during the audit), and no other engine is left to retry on' } }),
    ]);
  });

  it('records a target that cannot be audited on a live engine, without retrying it', async () => {
    let calls = 0;
    const results = await runFleet([job('a')], [engine('one', 1), engine('two', 1)], {
      signal: new AbortController().signal,
      answers: async () => true,
      audit: async () => {
        calls++;
        throw new DaemonUnreachableError('build failed in a way');
      },
    });
    expect(calls).toBe(1);
    expect(results[0]).toMatchObject({ report: null, exitCode: 3, error: { message: 'build failed in a way' } });
  });

  it('tries an image missing on one engine on the others', async () => {
    const results = await runFleet([job('myorg/api:1')], [engine('one', 1), engine('two', 1)], {
      signal: new AbortController().signal,
      answers: async () => true,
      audit: async (j, e) => {
        if (e.name === 'one') throw new ImageNotFoundError('Image not found in the daemon: myorg/api:1');
        return report(j.name);
      },
    });
    expect(results[0]).toMatchObject({ engine: 'two', exitCode: 0, attempts: [{ engine: 'one', error: 'Image not found in the daemon: myorg/api:1' }] });
  });

  it('stops every audit on Ctrl-C, waits for each to clean up, and reports nothing', async () => {
    const controller = new AbortController();
    const cleaned: string[] = [];
    const run = runFleet(jobs, [engine('one', 3)], {
      signal: controller.signal,
      answers: async () => true,
      audit: (j, _e, signal) =>
        new Promise((_, reject) =>
          signal.addEventListener('abort', () => setTimeout(() => {
            cleaned.push(j.name);
            reject(new AuditInterruptedError('SIGINT'));
          }, 10)),
        ),
    });
    setTimeout(() => controller.abort('SIGINT'), 10);
    await expect(run).rejects.toThrow(AuditInterruptedError);
    expect(cleaned.sort()).toEqual(['a', 'b', 'c']);
  });
});

describe('connecting the engines', () => {
  const port = (ok: boolean, cpus?: number) => ({ ping: async () => { if (!ok) throw new DaemonUnreachableError('no answer'); }, info: async () => ({ cpus }) }) as unknown as DockerPort;
  it('leaves out an engine that does not answer, naming it, and takes the CPU count for jobs', async () => {
    const { ready, unreachable } = await connectEngines(
      [{ name: 'a', host: 'unix:///a', source: '--engine' }, { name: 'b', host: 'unix:///b', source: '--engine' }],
      (e) => port(e.name === 'a', 4),
    );
    expect(ready.map((e) => [e.name, e.jobs])).toEqual([['a', defaultJobs(4)]]);
    expect(unreachable).toEqual([{ name: 'b', why: 'context b (unix:///b): no answer' }]);
  });
  it('cannot run when no engine answers', async () => {
    await expect(connectEngines([{ name: 'a', host: 'unix:///a', source: '--engine' }], () => port(false))).rejects.toThrow('No engine of the fleet answers (a)');
  });
});
