// The checks are pure functions of facts and observations: small inline inputs, one verdict each.
import { describe, expect, it } from 'vitest';
import type { CheckInput } from '../../src/checks/check.js';
import { healthcheck } from '../../src/checks/healthcheck.js';
import { initPid1 } from '../../src/checks/init-pid1.js';
import { noDevDependencies } from '../../src/checks/no-dev-dependencies.js';
import { nonRootUser } from '../../src/checks/non-root-user.js';
import { sigtermShutdown } from '../../src/checks/sigterm-shutdown.js';
import { sizeBudget } from '../../src/checks/size-budget.js';
import { analyseCommand } from '../../src/facts/command.js';
import type { FileFacts } from '../../src/facts/image-facts.js';
import { parsePasswd, resolveUser } from '../../src/facts/passwd.js';
import type { LifecycleObservation, ShutdownObservation } from '../../src/lifecycle/observe.js';
import { buildProcessTree } from '../../src/lifecycle/process-tree.js';

function input(over: { cmd?: string[]; entrypoint?: string[]; lifecycle?: Partial<LifecycleObservation>; sizeBytes?: number; init?: string[] } = {}): CheckInput {
  const entrypoint = over.entrypoint ?? ['dumb-init', '--'];
  const cmd = over.cmd ?? ['node', 'app.js'];
  return {
    basics: {
      image: {
        id: 'sha256:x',
        tags: [],
        sizeBytes: over.sizeBytes ?? 100e6,
        config: { user: 'node', entrypoint, cmd, workingDir: '/app', env: [], stopSignal: 'SIGTERM', exposedPorts: [], labels: {} },
      },
      history: [
        { createdBy: 'RUN big', sizeBytes: 90e6, created: '' },
        { createdBy: 'COPY . .', sizeBytes: 10e6, created: '' },
      ],
      command: analyseCommand(entrypoint, cmd),
    },
    lifecycle: { containerId: 'c', timeline: [], logs: ['last words'], durationMs: 1, probes: {}, ...over.lifecycle },
    settings: { sizeBudgetBytes: 250e6, shutdownBudgetMs: 5000, acceptedInits: over.init ?? ['dumb-init'], drainPath: '/', deep: false },
  };
}

/** Dev-dependency facts with nothing found: the non-root tests do not look at them. */
const noDeps: FileFacts['devDependencies'] = { app: { startDir: '/app', searched: [], installRoots: [] }, installed: [], notes: [], readErrors: [] };

const shutdown = (s: Partial<ShutdownObservation>): Partial<LifecycleObservation> => ({
  shutdown: { signal: 'SIGTERM', budgetMs: 5000, killedAtBudget: false, oomKilled: false, exitedAfterMs: 120, exitCode: 0, ...s },
});
const tree = (...args: string[]) => ({ processes: buildProcessTree(args.map((a, i) => ({ pid: 10 + i, ppid: 9 + i, uid: 1000, gid: 1000, args: a })), 10) });

describe('sigterm-shutdown', () => {
  it('passes a clean 143 exit within the budget', () => {
    expect(sigtermShutdown.run(input({ lifecycle: shutdown({ exitCode: 143 }) })).status).toBe('pass');
  });
  it('warns on a fast exit with another code', () => {
    const v = sigtermShutdown.run(input({ lifecycle: shutdown({ exitCode: 1 }) }));
    expect(v.status).toBe('warn');
    expect(v.message).toBe('exited 120 ms after SIGTERM but with code 1; expected 0 or 143');
  });
  it('fails a 137 exit even within the budget', () => {
    expect(sigtermShutdown.run(input({ lifecycle: shutdown({ exitCode: 137 }) })).status).toBe('fail');
  });
  it('accepts 128 + the number of a custom stop signal', () => {
    const v = sigtermShutdown.run(input({ lifecycle: shutdown({ signal: 'SIGQUIT', exitCode: 131 }) }));
    expect(v.status).toBe('pass');
  });
  it('fails when the app was still running at the budget', () => {
    const v = sigtermShutdown.run(input({ lifecycle: shutdown({ killedAtBudget: true, exitCode: 137, exitedAfterMs: undefined }) }));
    expect(v).toMatchObject({ status: 'fail', message: expect.stringMatching(/^still running 5.0 s after SIGTERM; killed/) });
  });
});

describe('init-pid1', () => {
  it('warns when a shell stands between dumb-init and node', () => {
    const v = initPid1.run(input({ cmd: ['/bin/sh', '-c', 'node app.js'], lifecycle: tree('dumb-init -- /bin/sh -c node app.js', '/bin/sh -c node app.js', 'node app.js') }));
    expect(v.status).toBe('warn');
    expect(v.message).toContain('a shell ("/bin/sh -c node app.js") (shell-form CMD) stands between it and node');
  });
  it('accepts tini when --init names it', () => {
    const v = initPid1.run(input({ entrypoint: ['tini', '--'], init: ['dumb-init', 'tini'], lifecycle: tree('tini -- node app.js', 'node app.js') }));
    expect(v.status).toBe('pass');
  });
  it('fails npm as PID 1', () => {
    const v = initPid1.run(input({ entrypoint: [], cmd: ['npm', 'start'], lifecycle: tree('npm start', 'sh -c node app.js', 'node app.js') }));
    expect(v).toMatchObject({ status: 'fail', message: expect.stringMatching(/^PID 1 is "npm start", not dumb-init/) });
    expect(v.evidence.processChain).toEqual(['npm start', 'sh -c node app.js', 'node app.js']);
  });
  it('fails dumb-init with no node below it', () => {
    expect(initPid1.run(input({ lifecycle: tree('dumb-init -- sleep 1', 'sleep 1') })).message).toBe('PID 1 is dumb-init, but no node process runs below it');
  });
  it('is an error, not a verdict, when the container could not start', () => {
    expect(initPid1.run(input({ lifecycle: { startError: 'exec: "dumb-init": executable file not found in $PATH' } })).status).toBe('error');
  });
});

describe('a container the engine refused to start', () => {
  it('fails the checks that need the app running when the image caused it (USER, entrypoint)', () => {
    for (const startError of [
      'unable to find user appuser: no matching entries in passwd file',
      'OCI runtime create failed: container_linux.go:380: starting container process caused: exec: "dumb-init": executable file not found in $PATH: unknown',
      'OCI runtime create failed: runc create failed: unable to start container process: exec: "/app/start.sh": permission denied: unknown',
      "crun: executable file `/nope` not found: No such file or directory: OCI runtime attempted to invoke a command that was not found",
    ]) {
      const life = input({ lifecycle: { startError } });
      expect(sigtermShutdown.run(life)).toMatchObject({ status: 'fail', message: `the container could not start: ${startError}` });
    }
  });
  it('is an error, not a verdict on the image, when the engine failed (cgroups, network, shim)', () => {
    for (const startError of [
      'OCI runtime create failed: container_linux.go:380: starting container process caused: process_linux.go:545: container init caused: cgroup: cannot allocate memory: unknown',
      'failed to create shim: OCI runtime create failed: open /sys/fs/cgroup/pids/docker/x/pids.max: no such file or directory: unknown',
    ]) {
      expect(sigtermShutdown.run(input({ lifecycle: { startError } }))).toMatchObject({ status: 'error', message: expect.stringContaining('says nothing about the image') });
    }
  });
});

describe('healthcheck', () => {
  it('fails an image without HEALTHCHECK before looking at the lifecycle', () => {
    expect(healthcheck.run(input()).status).toBe('fail');
  });
});

describe('size-budget', () => {
  it('fails over the budget naming the largest layer', () => {
    const v = sizeBudget.run(input({ sizeBytes: 300e6 }));
    expect(v.status).toBe('fail');
    expect(v.message).toBe('300.0 MB against a budget of 250.0 MB (50.0 MB over); largest layer 90.0 MB: RUN big');
  });
});

describe('no-dev-dependencies', () => {
  it('skips when there is nothing to compare with, saying why', () => {
    const base = input();
    const v = noDevDependencies.run({
      ...base,
      files: {
        user: { configured: 'node', notes: [] },
        hasPasswd: true,
        devDependencies: { ...noDeps, app: { ...noDeps.app, searched: ['/app', '/'] }, notes: ['no package-lock.json or package.json found for the app'] },
      },
    });
    expect(v).toMatchObject({ status: 'skip', message: 'nothing to compare with: no package-lock.json or package.json found for the app' });
  });
});

describe('non-root-user', () => {
  const passwd = parsePasswd('root:x:0:0:root:/root:/bin/bash\nnode:x:1000:1000::/home/node:/bin/bash\nadmin:x:0:0:alias of root:/root:/bin/sh\n');
  /** USER as configured, and the uid the observed processes ran as. */
  const run = (user: string, observedUid: number, daemon?: CheckInput['daemon']) => {
    const base = input({ lifecycle: tree('dumb-init -- node app.js', 'node app.js') });
    const { processes } = tree('dumb-init -- node app.js', 'node app.js');
    for (const p of processes?.all ?? []) p.uid = observedUid;
    return nonRootUser.run({
      ...base,
      daemon,
      lifecycle: { ...base.lifecycle!, processes },
      files: { user: resolveUser(user, passwd, undefined), hasPasswd: true, devDependencies: noDeps },
    });
  };

  it('passes when PID 1 and the app run as a non-root uid', () => {
    const v = run('node', 1000);
    expect(v).toMatchObject({ status: 'pass', message: 'PID 1 and the app run as uid 1000 ("node")' });
    expect(v.hint).toBeUndefined();
  });
  it('fails when the image sets no USER and the processes run as uid 0', () => {
    const v = run('', 0);
    expect(v).toMatchObject({ status: 'fail', message: 'PID 1 runs as uid 0 (the image sets no USER); expected a non-root uid' });
    expect(v.hint).toMatch(/^Add `USER node`/);
  });
  it('fails when the user name maps to uid 0 in the image', () => {
    const v = run('admin', 0);
    expect(v).toMatchObject({ status: 'fail', message: 'PID 1 runs as uid 0 (user "admin" maps to uid 0 in the image\'s /etc/passwd); expected a non-root uid' });
    expect(v.hint).toMatch(/^"admin" is uid 0/);
  });
  it('fails when the entrypoint switches the app back to root', () => {
    const base = input();
    const { processes } = tree('dumb-init -- node app.js', 'node app.js');
    processes!.all[1].uid = 0;
    const v = nonRootUser.run({
      ...base,
      lifecycle: { ...base.lifecycle!, processes },
      files: { user: resolveUser('node', passwd, undefined), hasPasswd: true, devDependencies: noDeps },
    });
    expect(v).toMatchObject({ status: 'fail', message: 'the app runs as uid 0 (USER is "node"); expected a non-root uid' });
    expect(v.hint).toMatch(/^The entrypoint switches back to root/);
  });
  it('skips on a user-namespaced daemon instead of judging host uids', () => {
    // uid 1000 seen from the host of a userns daemon could be root inside: never a pass.
    const v = run('node', 1000, { userns: true, rootless: false, engine: 'docker' });
    expect(v.status).toBe('skip');
    expect(v.message).toMatch(/^cannot judge on a user-namespaced daemon/);
  });
  it('skips on a rootless daemon too', () => {
    expect(run('', 0, { userns: false, rootless: true, engine: 'docker' }).message).toMatch(/^cannot judge on a rootless daemon/);
  });
  it('is an error, not a verdict, when the app exited before its processes were seen', () => {
    const base = input({ lifecycle: { exitedEarly: { exitCode: 1, afterMs: 300, oomKilled: false } } });
    const v = nonRootUser.run({ ...base, files: { user: resolveUser('node', passwd, undefined), hasPasswd: true, devDependencies: noDeps } });
    expect(v.status).toBe('error');
    expect(v.message).toMatch(/^could not observe the running processes: the app exited by itself with code 1/);
  });
});
