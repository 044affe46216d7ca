import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { audit } from '../../src/audit.js';
import { DockerodePort } from '../../src/docker/dockerode-port.js';
import { LABEL, PID_LABEL } from '../../src/docker/reaper.js';
import type { AuditReport } from '../../src/types.js';
import { runCli, startCli } from '../support/cli.js';
import { SERVICE_DIR, fixture } from '../support/fixtures.js';

const nodeImageArg = () => ['--build-arg', `NODE_IMAGE=${inject('nodeImage')}`];
const docker = new DockerodePort();

describe('image-audit on the compliant fixture with --format json --output', () => {
  let run: Awaited<ReturnType<typeof runCli>>;
  let report: AuditReport;
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'image-audit-')), 'reports/audit.json');
  beforeAll(async () => {
    run = await runCli([SERVICE_DIR, ...nodeImageArg(), '--format', 'json', '--output', out]);
    report = JSON.parse(readFileSync(out, 'utf8'));
  });
  it('exits 0 when nothing failed', () => expect(run.code, run.stderr).toBe(0));
  it('writes one JSON document of the documented shape', () => {
    // The documented shape, plus `source` (what was built), `observed` (timeline, layers, limits) and per
    // check `location` (its Dockerfile line) and `doc` (its page).
    expect(Object.keys(report).sort()).toEqual(['checks', 'durationMs', 'image', 'observed', 'source', 'summary', 'target']);
    expect(Object.keys(report.observed!).sort()).toEqual(['layers', 'limits', 'timeline']);
    expect(report.observed!.limits).toEqual({ sizeBudgetBytes: 250e6, shutdownBudgetMs: 5000, healthTimeoutMs: 120_000, memoryBytes: 2 ** 30, pidsLimit: 512, network: 'bridge' });
    expect(Object.keys(report.image).sort()).toEqual(['id', 'sizeBytes', 'tags']);
    expect(report.source).toEqual({ contextDir: SERVICE_DIR, dockerfile: 'Dockerfile' });
    // `hint` comes with fail, warn and error only: none here.
    for (const c of report.checks) expect(Object.keys(c).sort(), c.message).toEqual(['doc', 'durationMs', 'evidence', 'id', 'location', 'message', 'status', 'title']);
    expect(Object.keys(report.summary).sort()).toEqual(['error', 'fail', 'pass', 'skip', 'waived', 'warn']);
    expect(report.target).toBe(SERVICE_DIR);
  });
  it('prints the terminal summary on stderr when the report goes to a file', () => {
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('10 checks: 10 pass, 0 fail');
  });
});

describe('image-audit exit codes', () => {
  it('exits 1 when a check fails (no-healthcheck, --only healthcheck)', async () => {
    const run = await runCli([SERVICE_DIR, ...nodeImageArg(), '-f', 'no-healthcheck.Dockerfile', '--only', 'healthcheck']);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toMatch(/FAIL\s+healthcheck\s+the image declares no HEALTHCHECK/);
  });

  it('exits 2 on an unknown check id, naming the known ones', async () => {
    const run = await runCli([SERVICE_DIR, '--only', 'non-root']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Unknown check id "non-root": the checks are non-root-user, init-pid1');
  });

  it('exits 2 on an unreadable size budget', async () => {
    const run = await runCli([SERVICE_DIR, '--size-budget', 'big']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Bad size budget "big"');
  });

  it('exits 2 when the context directory does not exist', async () => {
    const run = await runCli(['./no/such/dir']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Build context is not a directory: ./no/such/dir');
  });

  it('exits 2 without a target', async () => {
    const run = await runCli([]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("missing required argument 'target'");
  });

  it('exits 3 within 10 s with one clear line when the daemon is unreachable', async () => {
    const run = await runCli([SERVICE_DIR], { DOCKER_HOST: 'unix:///tmp/no-docker-here.sock' });
    expect(run.code).toBe(3);
    expect(run.elapsedMs).toBeLessThan(10_000);
    expect(run.stderr.split('\n')[0]).toBe('image-audit: Docker daemon unreachable at unix:///tmp/no-docker-here.sock: ENOENT');
  });

  it('exits 3 within 10 s when the daemon accepts connections but never answers', async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const run = await runCli([SERVICE_DIR], { DOCKER_HOST: `tcp://127.0.0.1:${port}` });
      expect(run.code).toBe(3);
      expect(run.elapsedMs).toBeLessThan(10_000);
      expect(run.stderr.split('\n')[0]).toBe(`image-audit: Docker daemon unreachable at tcp://127.0.0.1:${port}: no answer within 8 s`);
    } finally {
      silent.close();
    }
  });

  it('exits 3 when the image is not in the daemon', async () => {
    const run = await runCli(['example.invalid/no-such-image:1.0.0']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('Image not found in the daemon: example.invalid/no-such-image:1.0.0');
  });

  it('exits 3 on a failed build, printing the failing step and its output', async () => {
    const run = await runCli([SERVICE_DIR, ...nodeImageArg(), '-f', 'seed.Dockerfile']);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/Build failed at \[builder \d+\/\d+\] RUN npm run build/);
    expect(run.stderr).toContain('sh: 1: fake-tsc: not found');
  });

  it('exits 3 when a check could not run (crash at start), and 0 once --env-file provides the config', async () => {
    const crashed = await runCli([SERVICE_DIR, ...nodeImageArg(), '-f', 'crash-on-start.Dockerfile', '--only', 'init-pid1']);
    expect(crashed.code).toBe(3);
    expect(crashed.stdout).toContain('FATAL: DATABASE_URL is not set');
    const envFile = path.join(mkdtempSync(path.join(tmpdir(), 'image-audit-')), 'app.env');
    writeFileSync(envFile, '# app config\nDATABASE_URL=postgres://top-secret@db/app\n');
    const booted = await runCli([SERVICE_DIR, ...nodeImageArg(), '-f', 'crash-on-start.Dockerfile', '--only', 'init-pid1', '--env-file', envFile, '--format', 'json']);
    expect(booted.code, booted.stderr).toBe(0);
    expect(booted.stdout).not.toContain('top-secret');
  });
});

describe('image-audit on an image reference (no build)', () => {
  let leakedTag: string;
  beforeAll(async () => {
    // Build through the library once, then audit the image by its tag.
    const built = await audit(fixture('dev-deps-leaked'), { only: ['size-budget'] });
    leakedTag = built.image.tags[0];
  });
  it('reads the dev-only set from the lockfile inside the image', async () => {
    const run = await runCli([leakedTag, '--only', 'no-dev-dependencies', '--format', 'json']);
    expect(run.code, run.stderr).toBe(1);
    const check = (JSON.parse(run.stdout) as AuditReport).checks[0];
    expect(check.evidence.from).toBe('image: /opt/node_app/package-lock.json');
    expect(check.message).toContain('fake-tsc, tsc-helper');
  });

  it('reads the export and the node_modules archive the same way from a tcp:// engine (a loopback port to the same daemon)', async () => {
    const socketPath = process.env.DOCKER_HOST?.startsWith('unix://') ? process.env.DOCKER_HOST.slice('unix://'.length) : '/var/run/docker.sock';
    const proxy = net.createServer((client) => {
      const daemon = net.connect(socketPath);
      client.pipe(daemon).pipe(client);
      client.on('error', () => daemon.destroy());
      daemon.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const host = `tcp://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
      const run = await runCli([leakedTag, '--only', 'no-dev-dependencies,secrets', '--format', 'json'], { DOCKER_HOST: host, IMAGE_AUDIT_CACHE: 'off' });
      expect(run.code, run.stderr).toBe(1);
      const [deps, secrets] = (JSON.parse(run.stdout) as AuditReport).checks;
      expect([deps.id, deps.status]).toEqual(['no-dev-dependencies', 'fail']);
      expect(deps.message).toContain('fake-tsc, tsc-helper');
      expect([secrets.id, secrets.status]).toEqual(['secrets', 'pass']);
      expect(secrets.message).toMatch(/ MB streamed, /);
    } finally {
      proxy.close();
    }
  });
});

describe('cleanup', () => {
  it('removes the audit container when the audit is interrupted with SIGINT', async () => {
    const { child, done } = startCli([SERVICE_DIR, ...nodeImageArg(), '-f', 'sigterm-ignored.Dockerfile', '--shutdown-budget', '60s']);
    const deadline = Date.now() + 120_000;
    let mine: string[] = [];
    while (Date.now() < deadline && mine.length === 0) {
      await new Promise((r) => setTimeout(r, 250));
      // Only containers of this CLI run: other test files audit in parallel.
      mine = await docker.listContainers(`${PID_LABEL}=${child.pid}`);
    }
    expect(mine.length).toBeGreaterThan(0);
    child.kill('SIGINT');
    const run = await done;
    // The CLI aborts the audit, removes its containers and ends with 128 + SIGINT, as a shell reports it.
    expect(run.code, run.stderr).toBe(130);
    expect(run.stderr).toContain('image-audit: SIGINT: stopping the audit and removing its containers');
    expect(run.stderr).toContain('image-audit: interrupted: no report written');
    for (const id of mine) {
      await expect(docker.inspectContainer(id)).rejects.toThrow();
    }
  });

  it('leaves the containers with --keep, labelled, for debugging', async () => {
    const run = await runCli([SERVICE_DIR, ...nodeImageArg(), '--only', 'size-budget,no-dev-dependencies', '--keep']);
    expect(run.code, run.stderr).toBe(0);
    const kept = /kept container\(s\): ([0-9a-f, ]+)/.exec(run.stderr);
    expect(kept, run.stderr).not.toBeNull();
    for (const id of kept![1].split(', ')) {
      const state = await docker.inspectContainer(id);
      expect(state.status).toBe('created');
      await docker.removeContainer(id);
    }
  });
});

describe('a build that hangs', () => {
  it('is cancelled at --build-timeout with exit 3', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hang-'));
    writeFileSync(path.join(dir, 'Dockerfile'), 'ARG NODE_IMAGE\nFROM ${NODE_IMAGE}\nRUN echo "waiting for a network that never answers"; sleep 120\n');
    const run = await runCli([dir, ...nodeImageArg(), '--build-timeout', '4s']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('image-audit: Build did not finish within 4 s and was cancelled');
    expect(run.elapsedMs).toBeLessThan(30_000);
  });
});

describe('the classic builder (IMAGE_AUDIT_BUILDER=classic)', () => {
  it('reports the failing step and its output, and leaves no intermediate container', async () => {
    // Audits of other test files run meanwhile: only containers without our label can be the build's.
    const unlabelled = async () => {
      const ours = new Set(await docker.listContainers(LABEL));
      return (await docker.listContainers()).filter((id) => !ours.has(id));
    };
    const before = new Set(await unlabelled());
    const run = await runCli([SERVICE_DIR, ...nodeImageArg(), '-f', 'seed.Dockerfile'], { IMAGE_AUDIT_BUILDER: 'classic' });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('image-audit: Build failed at RUN npm run build: The command \'/bin/sh -c npm run build\' returned a non-zero code: 127');
    expect(run.stderr).toContain('fake-tsc: not found');
    // Another test's classic build may have an intermediate container of its own at this moment: that one
    // goes when its build ends; one this build left stays.
    let after: string[] = [];
    for (const began = Date.now(); Date.now() - began < 20_000; await new Promise((r) => setTimeout(r, 500))) {
      after = (await unlabelled()).filter((id) => !before.has(id));
      if (!after.length) break;
    }
    expect(after).toEqual([]);
  });
});

describe('--target STAGE', () => {
  it('builds and audits that stage', async () => {
    const run = await runCli([SERVICE_DIR, ...nodeImageArg(), '--target', 'deps', '--only', 'no-dev-dependencies', '--format', 'json']);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as AuditReport;
    // The same stage built from another checkout is the same image: it may carry that checkout's tag too.
    expect(report.image.tags).toContainEqual(expect.stringMatching(/^node-image-audit\/service-deps-[0-9a-f]{8}:latest$/));
    expect(report.checks[0].location).toMatchObject({ file: 'Dockerfile', instruction: 'RUN npm ci --omit=dev' });
  });
});
