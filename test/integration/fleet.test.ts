// Fleets over two real engines: this machine's dockerd and a second one started for this file
// (scripts/second-engine.sh: its own socket, data and exec roots, bridge, no iptables; the base image
// loaded into it), known to the CLI as docker contexts of a temporary DOCKER_CONFIG. Traffic stays on
// unix sockets. The second engine is stopped (and everything it ran removed) after the file.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LABEL, SESSION_LABEL } from '../../src/docker/reaper.js';
import type { FleetReport } from '../../src/fleet/report.js';
import type { AuditReport } from '../../src/types.js';
import { runCli, startCli } from '../support/cli.js';
import { SERVICE_DIR, dockerfileOf, type FixtureName } from '../support/fixtures.js';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const ENGINE_DIR = `/tmp/iae2-${process.pid}`;
const ENGINE_ENV = { SECOND_ENGINE_DIR: ENGINE_DIR, SECOND_ENGINE_BRIDGE: `iab${process.pid % 10_000_000}`, SECOND_ENGINE_SUBNET: '10.251.0.1/24' };
const SECOND = `unix://${ENGINE_DIR}/docker.sock`;
const FIRST = 'unix:///var/run/docker.sock';
/** Only on the second engine: proves which engine a run reached. */
const SECOND_ONLY = 'image-audit-fleet/second-only:1';

const FIXTURES: FixtureName[] = ['compliant', 'root-user', 'uid0-alias', 'no-init', 'shell-form', 'no-healthcheck', 'dev-deps-leaked', 'over-budget'];

let work: string;
let env: NodeJS.ProcessEnv;
let fleetFile: string;

const engine = (args: string[], bound = 120_000) => execFileSync('bash', [path.join(ROOT, 'scripts/second-engine.sh'), ...args], { env: { ...process.env, ...ENGINE_ENV }, encoding: 'utf8', timeout: bound });
const docker = (host: string, args: string[]) => execFileSync('docker', ['-H', host, ...args], { encoding: 'utf8', timeout: 60_000 });
// The fleets of this file run under a session of their own: other test files audit on the first engine
// meanwhile, and their containers are not this file's to count.
const SESSION = `${process.env.IMAGE_AUDIT_SESSION ?? 'test'}-fleet`;
const ours = (host: string) => docker(host, ['ps', '-aq', '--filter', `label=${SESSION_LABEL}=${SESSION}`]).trim();
const statuses = (report: AuditReport) => Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
const json = <T>(text: string) => JSON.parse(text) as T;

beforeAll(() => {
  engine(['start'], 200_000);
  docker(SECOND, ['tag', inject('nodeImage'), SECOND_ONLY]);
  work = mkdtempSync(path.join(tmpdir(), 'fleet-'));
  const config = path.join(work, 'docker-config');
  mkdirSync(config);
  env = { DOCKER_CONFIG: config, DOCKER_HOST: '', DOCKER_CONTEXT: '', IMAGE_AUDIT_SESSION: SESSION };
  execFileSync('docker', ['context', 'create', 'first', '--docker', `host=${FIRST}`], { env: { ...process.env, ...env } });
  execFileSync('docker', ['context', 'create', 'second', '--docker', `host=${SECOND}`], { env: { ...process.env, ...env } });
  fleetFile = path.join(work, 'image-audit.fleet.json');
  writeFileSync(
    fleetFile,
    JSON.stringify({
      defaults: { buildArgs: { NODE_IMAGE: inject('nodeImage') }, skip: ['secrets'] },
      targets: FIXTURES.map((name) => ({ target: SERVICE_DIR, name, dockerfile: dockerfileOf(name) })),
    }),
  );
}, 240_000);

afterAll(() => {
  try {
    if (engine(['status']) !== null) expect(ours(SECOND)).toBe('');
  } catch {
    // Not answering (the last test kills it): nothing to count there.
  } finally {
    engine(['stop'], 120_000);
    if (work) rmSync(work, { recursive: true, force: true });
  }
}, 180_000);

describe('docker contexts for a single audit', () => {
  it('reaches the second engine with --context, and DOCKER_CONTEXT', async () => {
    const byFlag = await runCli([SECOND_ONLY, '--context', 'second', '--only', 'size-budget', '--format', 'json'], env);
    expect(byFlag.code, byFlag.stderr).toBe(0);
    expect(json<AuditReport>(byFlag.stdout).image.tags).toContain(SECOND_ONLY);
    const byVariable = await runCli([SECOND_ONLY, '--only', 'size-budget', '--format', 'json'], { ...env, DOCKER_CONTEXT: 'second' });
    expect(byVariable.code, byVariable.stderr).toBe(0);
    const elsewhere = await runCli([SECOND_ONLY, '--only', 'size-budget'], { ...env, DOCKER_CONTEXT: 'first' });
    expect(elsewhere.code).toBe(3);
    expect(elsewhere.stderr).toContain(`Image not found in the daemon: ${SECOND_ONLY}`);
  });
  it('exits 2 naming a context that does not exist', async () => {
    const result = await runCli([SECOND_ONLY, '--context', 'third'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Docker context "third" (--context) does not exist');
    expect(result.stderr).toContain('the contexts there are default, first, second');
  });
});

describe('a fleet of 8 fixture targets over both engines', () => {
  let fleet: FleetReport;
  let code: number | null;
  let stderr: string;
  beforeAll(async () => {
    const result = await runCli(['fleet', '--fleet-file', fleetFile, '--engine', 'first', '--engine', 'second', '--jobs', '2', '--format', 'json'], env);
    code = result.code;
    stderr = result.stderr;
    fleet = json<FleetReport>(result.stdout || '{}');
  }, 400_000);

  it('audits every target, on both engines, and exits 1 for the failing ones', () => {
    expect(code, stderr).toBe(1);
    expect(fleet.targets.map((t) => t.name).sort()).toEqual([...FIXTURES].sort());
    for (const t of fleet.targets) expect(t.report, `${t.name}: ${t.error?.message}`).not.toBeNull();
    expect(new Set(fleet.targets.map((t) => t.engine))).toEqual(new Set(['first', 'second']));
    expect(fleet.summary).toMatchObject({ targets: 8, couldNotAudit: 0, exitCode: 1 });
  });

  it('gives each target the verdicts of a single audit', async () => {
    // The single audits run the same installed CLI, two at a time on the first engine, as the fleet ran on each.
    const singles = new Map<string, AuditReport>();
    for (let i = 0; i < FIXTURES.length; i += 2) {
      await Promise.all(
        FIXTURES.slice(i, i + 2).map(async (name) => {
          const single = await runCli([SERVICE_DIR, '-f', dockerfileOf(name), '--build-arg', `NODE_IMAGE=${inject('nodeImage')}`, '--skip', 'secrets', '--context', 'first', '--format', 'json'], env);
          expect(single.stdout, single.stderr).not.toBe('');
          singles.set(name, json<AuditReport>(single.stdout));
        }),
      );
    }
    // A check that could not observe (`error`: a bound hit on this loaded machine) has no verdict to
    // compare; every verdict reached on both sides must be the same, and nearly all must be reached.
    let compared = 0;
    let pairs = 0;
    for (const t of fleet.targets) {
      const single = singles.get(t.name)!;
      const why = (r: AuditReport) => r.checks.filter((c) => c.status === 'error').map((c) => `${c.id}: ${c.message}`).join('; ');
      for (const c of t.report!.checks) {
        const other = single.checks.find((x) => x.id === c.id);
        pairs++;
        if (!other || c.status === 'error' || other.status === 'error') continue;
        compared++;
        expect({ target: t.name, check: c.id, status: c.status }, `fleet: ${why(t.report!)} | single: ${why(single)}`).toEqual({ target: t.name, check: c.id, status: other.status });
      }
    }
    expect(compared).toBeGreaterThanOrEqual(Math.floor(pairs * 0.9));
  }, 400_000);

  it('leaves no container on either engine', () => {
    expect(ours(FIRST)).toBe('');
    expect(ours(SECOND)).toBe('');
  });
});

describe('shards and merge', () => {
  const cheap = ['--only', 'size-budget,no-dev-dependencies', '--format', 'json'];
  let whole: FleetReport;
  let shards: FleetReport[];
  beforeAll(async () => {
    const runs = await Promise.all([
      runCli(['fleet', '--fleet-file', fleetFile, '--engine', 'first', ...cheap], env),
      runCli(['fleet', '--fleet-file', fleetFile, '--engine', 'first', '--shard', '1/2', ...cheap], env),
      runCli(['fleet', '--fleet-file', fleetFile, '--engine', 'second', '--shard', '2/2', ...cheap], env),
    ]);
    for (const r of runs) expect(r.stdout, r.stderr).not.toBe('');
    [whole, ...shards] = runs.map((r) => json<FleetReport>(r.stdout));
    shards.forEach((s, i) => writeFileSync(path.join(work, `shard-${i + 1}.json`), JSON.stringify(s)));
  }, 300_000);

  it('splits the targets into disjoint shards that cover them all', () => {
    const [one, two] = shards.map((s) => s.targets.map((t) => t.name));
    expect(one.filter((n) => two.includes(n))).toEqual([]);
    expect([...one, ...two].sort()).toEqual([...FIXTURES].sort());
  });

  it('merges the shards into the statuses of the whole fleet, in every format', async () => {
    const out = path.join(work, 'merged');
    const merged = await runCli(['merge', path.join(work, 'shard-1.json'), path.join(work, 'shard-2.json'), '--format', 'json', '--report', `html=${out}.html`, '--report', `junit=${out}.xml`, '--report', `sarif=${out}.sarif`, '--report', `markdown=${out}.md`], env);
    expect(merged.code).toBe(whole.summary.exitCode);
    const report = json<FleetReport>(merged.stdout);
    const view = (r: FleetReport) => r.targets.map((t) => ({ name: t.name, exitCode: t.exitCode, ...statuses(t.report!) }));
    expect(view(report)).toEqual(view(whole));
    expect(report.summary.checks).toEqual(whole.summary.checks);
    expect(readFileSync(`${out}.md`, 'utf8')).toContain(`image-audit fleet: ${FIXTURES.length} targets`);
  });

  it('shows every target in the merged HTML page in headless Chromium', async () => {
    const haveChromium = await run('chromium', ['--version'], { timeout: 30_000 }).then(() => true, () => false);
    if (!haveChromium) return;
    const profile = path.join(work, 'chromium');
    const { stdout: dom } = await run('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${profile}`, '--dump-dom', pathToFileURL(path.join(work, 'merged.html')).href], {
      timeout: 90_000,
      maxBuffer: 32 * 1024 * 1024,
    });
    for (const name of FIXTURES) expect(dom).toContain(`data-target="${name}"`);
    expect(dom).not.toMatch(/<script\b/i);
  }, 120_000);
});

describe('engines that do not answer at the start', () => {
  it('names an unreachable engine and leaves it out', async () => {
    const result = await runCli(['fleet', SECOND_ONLY, '--engine', 'unix:///tmp/no-engine-for-fleet.sock', '--engine', 'second', '--only', 'size-budget', '--format', 'json'], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('engine unix:///tmp/no-engine-for-fleet.sock does not answer, left out');
    expect(json<FleetReport>(result.stdout).targets).toEqual([expect.objectContaining({ target: SECOND_ONLY, engine: 'second', exitCode: 0 })]);
  });
  it('exits 2 on bad usage before asking any engine', async () => {
    for (const args of [['fleet', SECOND_ONLY, '--shard', '3/2'], ['fleet', SECOND_ONLY, '--jobs', '0'], ['fleet'], ['fleet', 'nothing-here/*'], ['merge', path.join(work, 'no-such.json')]]) {
      const result = await runCli(args, { ...env, DOCKER_CONTEXT: 'missing-context-is-not-reached' });
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
    }
  });
  it('exits 3 when none answers', async () => {
    const result = await runCli(['fleet', SECOND_ONLY, '--engine', 'unix:///tmp/no-engine-for-fleet.sock', '--only', 'size-budget'], env);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('No engine of the fleet answers (unix:///tmp/no-engine-for-fleet.sock)');
  });
});

describe('Ctrl-C during a fleet', () => {
  it('removes the containers on every engine, writes no report and exits 130', async () => {
    const out = path.join(work, 'interrupted.json');
    const { child, done } = startCli(['fleet', '--fleet-file', fleetFile, 'compliant', 'root-user', 'no-init', '--engine', 'first', '--engine', 'second', '--jobs', '1', '--format', 'json', '-o', out], env);
    const deadline = Date.now() + 150_000;
    let sent = false;
    while (!sent && Date.now() < deadline && child.exitCode === null) {
      if (ours(FIRST) && ours(SECOND)) {
        child.kill('SIGINT');
        sent = true;
      } else await new Promise((r) => setTimeout(r, 200));
    }
    const result = await done;
    expect(sent).toBe(true);
    expect(result.code).toBe(130);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('interrupted: no report written');
    expect(existsSync(out)).toBe(false);
    expect(ours(FIRST)).toBe('');
    expect(ours(SECOND)).toBe('');
  }, 200_000);
});

describe('an engine that stops answering mid-fleet', () => {
  it('ends every target with a report from the engine left', async () => {
    const targets = FIXTURES.slice(0, 4);
    const { child, done } = startCli(['fleet', '--fleet-file', fleetFile, ...targets, '--engine', 'first', '--engine', 'second', '--jobs', '1', '--format', 'json', '--only', 'non-root-user,healthcheck,size-budget'], env);
    // Once an audit runs a container on the second engine, kill that engine (SIGKILL: no goodbye).
    const deadline = Date.now() + 150_000;
    let killed = false;
    while (!killed && Date.now() < deadline && child.exitCode === null) {
      const running = docker(SECOND, ['ps', '-q', '--filter', `label=${LABEL}`]).trim();
      if (running) {
        process.kill(Number(readFileSync(path.join(ENGINE_DIR, 'docker.pid'), 'utf8')), 'SIGKILL');
        killed = true;
      } else await new Promise((r) => setTimeout(r, 200));
    }
    const result = await done;
    expect(killed).toBe(true);
    const fleet = json<FleetReport>(result.stdout || '{}');
    expect(fleet.targets.map((t) => t.name).sort()).toEqual([...targets].sort());
    for (const t of fleet.targets) {
      expect(t.report, `${t.name}: ${t.error?.message}`).not.toBeNull();
      expect(t.engine).toBe('first');
    }
    expect(fleet.targets.some((t) => t.attempts?.some((a) => a.engine === 'second'))).toBe(true);
    expect(result.stderr).toMatch(/engine second stopped answering/);
    expect([0, 1]).toContain(result.code);
    expect(ours(FIRST)).toBe('');
  }, 300_000);
});
