import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditReport } from '../../src/types.js';
import { auditFixture, check, fixtureFolder } from '../support/fixtures.js';

const auditLifecycleFixture = fixtureFolder(path.resolve(__dirname, '../../fixtures/lifecycle'));

const runtimeOnly = { only: ['non-root-user', 'init-pid1'] as const };

describe('the root-user fixture (no USER)', () => {
  let report: AuditReport;
  beforeAll(async () => {
    report = await auditFixture('root-user', { only: [...runtimeOnly.only] });
  });
  it('fails non-root-user with uid 0 observed for PID 1 and the app', () => {
    const c = check(report, 'non-root-user');
    expect(c.status).toBe('fail');
    expect(c.message).toBe('PID 1 runs as uid 0 (the image sets no USER); expected a non-root uid');
    expect(c.evidence.observed).toMatchObject({ pid1: { uid: 0 }, app: { uid: 0 } });
  });
  it('passes init-pid1', () => expect(check(report, 'init-pid1').status).toBe('pass'));
});

describe('the uid0-alias fixture (USER admin, mapped to uid 0)', () => {
  let report: AuditReport;
  beforeAll(async () => {
    report = await auditFixture('uid0-alias', { only: [...runtimeOnly.only] });
  });
  it('fails non-root-user when the user name maps to uid 0', () => {
    const c = check(report, 'non-root-user');
    expect(c.status).toBe('fail');
    expect(c.message).toContain(`user "admin" maps to uid 0 in the image's /etc/passwd`);
    expect(c.evidence.configured).toMatchObject({ user: 'admin', resolvedUid: 0, passwdName: 'admin' });
  });
});

describe('the no-init fixture (CMD ["node", ...] as PID 1)', () => {
  let report: AuditReport;
  beforeAll(async () => {
    report = await auditFixture('no-init', { only: ['init-pid1', 'sigterm-shutdown'] });
  });
  it('fails init-pid1 naming node as PID 1', () => {
    const c = check(report, 'init-pid1');
    expect(c.status).toBe('fail');
    expect(c.message).toMatch(/^PID 1 is "node src\/index.js", not dumb-init/);
    expect(c.evidence.pid1).toBe('node src/index.js');
  });
  it('still passes sigterm-shutdown, since the app handles SIGTERM itself', () => {
    expect(check(report, 'sigterm-shutdown').status).toBe('pass');
  });
});

describe('the shell-form fixture (CMD node src/index.js)', () => {
  let report: AuditReport;
  beforeAll(async () => {
    report = await auditFixture('shell-form', { only: ['init-pid1', 'sigterm-shutdown'], shutdownBudget: '2s' });
  });
  it('fails init-pid1 naming the shell as PID 1 and the shell form', () => {
    const c = check(report, 'init-pid1');
    expect(c.status).toBe('fail');
    expect(c.message).toContain('PID 1 is "/bin/sh -c node src/index.js" (shell-form CMD)');
    expect(c.evidence.processChain).toEqual(['/bin/sh -c node src/index.js', 'node src/index.js']);
    expect(c.evidence.configured).toMatchObject({ shellForm: true });
  });
  it('fails sigterm-shutdown: the shell as PID 1 does not pass SIGTERM on', () => {
    const c = check(report, 'sigterm-shutdown');
    expect(c.status, c.message).toBe('fail');
    expect(c.evidence).toMatchObject({ killedAtBudget: true, exitCode: 137, budgetMs: 2000 });
  });
});

describe('the no-shell fixture (FROM scratch: node, its libraries, dumb-init, USER 1001)', () => {
  let report: AuditReport;
  beforeAll(async () => {
    report = await auditFixture('no-shell');
  });
  it('passes every check without a shell in the image', () => {
    expect(report.checks.map((c) => `${c.id}:${c.status}`)).toEqual([
      'non-root-user:pass',
      'init-pid1:pass',
      'sigterm-shutdown:pass',
      'healthcheck:pass',
      'no-dev-dependencies:pass',
      'size-budget:pass',
      'zombie-reaping:pass',
      'secrets:pass',
      'engines-node:pass',
      'node-env:pass',
    ]);
  });
  it('passes non-root-user for a numeric uid with no passwd entry and notes gid 0', () => {
    const c = check(report, 'non-root-user');
    expect(c.message).toContain('uid 1001 (no passwd entry); primary group is gid 0');
    expect(c.evidence.configured).toMatchObject({ user: '1001', resolvedUid: 1001, resolvedGid: 0 });
  });
});

// Next.js standalone retitles its server (`process.title = 'next-server (v14.2.35)'`): ps then shows the
// title, not node. A process is node by its executable, and the verdict must not depend on when the
// table was sampled, so each image is audited three times in a row.
describe('an app that retitles itself, under dumb-init', () => {
  for (const dockerfile of ['retitle-after-listen.Dockerfile', 'retitle-at-once.Dockerfile']) {
    it(`${dockerfile}: init-pid1 passes and engines-node, node-env answer, on 3 audits in a row`, async () => {
      for (let run = 1; run <= 3; run++) {
        const report = await auditLifecycleFixture(dockerfile, { only: ['init-pid1', 'engines-node', 'node-env'] });
        const statuses = report.checks.map((c) => `${c.id}:${c.status}`);
        expect(statuses, `run ${run}: ${JSON.stringify(report.checks.map((c) => c.message))}`).toEqual(['init-pid1:pass', 'engines-node:pass', 'node-env:pass']);
        expect(check(report, 'init-pid1').message).toBe('PID 1 is dumb-init; chain: dumb-init → node');
      }
    }, 240_000);
  }
});

describe('an app that drops root itself (USER root, process.setgid/setuid(1000) at start, ENV NODE_ENV=production)', () => {
  let report: AuditReport;
  beforeAll(async () => {
    report = await auditLifecycleFixture('drop-root.Dockerfile', { only: ['non-root-user', 'engines-node', 'node-env'] });
  });
  it('names the uid and gid the process runs as, and their passwd name, not what USER says', () => {
    const c = check(report, 'non-root-user');
    expect(c.status).toBe('pass');
    expect(c.message).toBe('PID 1 and the app run as uid 1000 ("node")');
    expect(c.evidence.observed).toMatchObject({ pid1: { uid: 1000, gid: 1000, user: 'node' } });
    expect(c.evidence.configured).toMatchObject({ user: 'root' });
  });
  it("says NODE_ENV could not be read (the app is not dumpable), not that it is unset; the image's ENV is evidence, not the verdict", () => {
    const c = check(report, 'node-env');
    expect(c.status).toBe('error');
    expect(c.message).toMatch(/^could not read NODE_ENV of the running app: \/proc\/1\/environ could not be read as uid 1000:1000 \(EACCES\): the app is not dumpable/);
    expect(c.evidence).toMatchObject({ imageConfig: 'NODE_ENV=production' });
    expect(c.hint).toBeUndefined();
  });
  it("still reads the Node version, through the executable the host's ps saw", () => {
    expect(check(report, 'engines-node').status).toBe('pass');
  });
});
