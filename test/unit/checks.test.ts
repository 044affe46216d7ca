// The checks are pure functions of facts and observations: small inline inputs, one verdict each.
import { describe, expect, it } from 'vitest';
import type { CheckInput } from '../../src/checks/check.js';
import { healthcheck } from '../../src/checks/healthcheck.js';
import { initPid1 } from '../../src/checks/init-pid1.js';
import { noDevDependencies } from '../../src/checks/no-dev-dependencies.js';
import { nodeEnv } from '../../src/checks/node-env.js';
import { nonRootUser } from '../../src/checks/non-root-user.js';
import { sigtermShutdown } from '../../src/checks/sigterm-shutdown.js';
import { sizeBudget } from '../../src/checks/size-budget.js';
import { analyseCommand } from '../../src/facts/command.js';
import type { FileFacts } from '../../src/facts/image-facts.js';
import { parsePasswd } from '../../src/etc-files.js';
import { resolveUser } from '../../src/facts/passwd.js';
import type { LifecycleObservation, ShutdownObservation } from '../../src/lifecycle/observe.js';
import { buildProcessTree } from '../../src/lifecycle/process-tree.js';
import type { AppRuntime } from '../../src/lifecycle/runtime.js';
import { observed, unobserved } from '../../src/observed.js';

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
    settings: { sizeBudgetBytes: 250e6, shutdownBudgetMs: 5000, acceptedInits: over.init ?? ['dumb-init'], drainPath: '/', deep: false, builder: 'auto' },
  };
}

/** Dev-dependency facts with nothing found: the non-root tests do not look at them. */
const noDeps: FileFacts['devDependencies'] = {
  app: { startDir: '/app', searched: [], installRoots: [] },
  nodeModules: { ok: true, value: { lookedFor: ['/app/node_modules', '/node_modules'], found: [] } },
  manifest: { ok: true, value: undefined },
  lockfile: { ok: true, value: undefined },
  installed: [],
  notes: [],
  readErrors: [],
};

const shutdown = (s: Partial<Omit<ShutdownObservation, 'exitedAfterMs' | 'exitCode'>> & { exitedAfterMs?: number; exitCode?: number }): Partial<LifecycleObservation> => ({
  shutdown: {
    signal: 'SIGTERM',
    budgetMs: 5000,
    oomKilled: false,
    ...s,
    killedAtBudget: s.killedAtBudget ?? false,
    exitedAfterMs: 'exitedAfterMs' in s && s.exitedAfterMs === undefined ? unobserved('killed at the budget') : observed(s.exitedAfterMs ?? 120),
    exitCode: observed(s.exitCode ?? 0),
  },
});
const tree = (...args: string[]) => ({ processes: buildProcessTree(args.map((a, i) => ({ pid: 10 + i, ppid: 9 + i, uid: 1000, gid: 1000, args: a })), 10) });
/** A chain of processes with their executables, as the host's ps lists them: [args, exe]. */
const exeTree = (...rows: Array<[string, string]>) => ({ processes: buildProcessTree(rows.map(([a, exe], i) => ({ pid: 10 + i, ppid: 9 + i, uid: 1000, gid: 1000, args: a, exe })), 10) });

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
    expect(initPid1.run(input({ lifecycle: exeTree(['dumb-init -- sleep 1', '/usr/bin/dumb-init'], ['sleep 1', '/usr/bin/sleep']) })).message).toBe('PID 1 is dumb-init, but no node process runs below it');
  });
  it('passes a node that retitled itself (Next.js: process.title = "next-server (v14.2.35)"), by its executable', () => {
    const v = initPid1.run(input({ lifecycle: exeTree(['dumb-init -- node server.js', '/usr/bin/dumb-init'], ['next-server (v14.2.35)', '/usr/local/bin/node']) }));
    expect(v).toMatchObject({ status: 'pass', message: 'PID 1 is dumb-init; chain: dumb-init → node' });
  });
  it('does not say "no node process" when the executables were not read (a retitled node looks like anything)', () => {
    const v = initPid1.run(input({ lifecycle: tree('dumb-init -- node server.js', 'next-server (v14.2.35)') }));
    expect(v.status).toBe('error');
    expect(v.message).toMatch(/^not observed: no process below PID 1 is node by its command line, and the executables of 2 process\(es\) were not read/);
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
    expect(v).toMatchObject({
      status: 'skip',
      message: "the image's command names no entry script, so where the app loads packages from is not known (no node_modules from /app upward: looked for /app/node_modules, /node_modules): nothing to judge",
    });
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
    const base = input({ lifecycle: { exitedEarly: { exitCode: observed(1), afterMs: observed(300), oomKilled: false } } });
    const v = nonRootUser.run({ ...base, files: { user: resolveUser('node', passwd, undefined), hasPasswd: true, devDependencies: noDeps } });
    expect(v.status).toBe('error');
    expect(v.message).toMatch(/^could not observe the running processes: the app exited by itself with code 1/);
  });
});

describe('non-root-user, from what the processes really run as', () => {
  const passwd = parsePasswd('root:x:0:0:root:/root:/bin/bash\nnode:x:1000:1000::/home/node:/bin/bash\n');
  const files = (user: string) => ({ user: resolveUser(user, passwd, undefined), hasPasswd: true, devDependencies: noDeps });
  it('names the uid and group the app runs as, not what USER says (an app that drops root itself)', () => {
    // USER root; node is PID 1 and calls process.setgid(1000), process.setuid(1000) at start.
    const base = input({ entrypoint: [], lifecycle: tree('node app.js') });
    const v = nonRootUser.run({ ...base, files: files('root') });
    expect(v).toMatchObject({ status: 'pass', message: 'PID 1 and the app run as uid 1000 ("node")' });
    expect(v.evidence.observed).toMatchObject({ pid1: { uid: 1000, gid: 1000, user: 'node' } });
  });
  it('notes gid 0 when the process runs with it', () => {
    const base = input({ lifecycle: tree('dumb-init -- node app.js', 'node app.js') });
    for (const p of base.lifecycle!.processes!.all) p.gid = 0;
    expect(nonRootUser.run({ ...base, files: files('node') }).message).toBe('PID 1 and the app run as uid 1000 ("node"); primary group is gid 0');
  });
  it('does not claim the app\'s uid when no app process was seen', () => {
    const v = nonRootUser.run({ ...input({ lifecycle: tree('dumb-init -- sleep 100', 'sleep 100') }), files: files('node') });
    expect(v.status).toBe('error');
    expect(v.message).toMatch(/^not observed: no node process was seen below PID 1/);
    expect(v.evidence.notObserved).toBeDefined();
  });
  it('still fails a root PID 1 when no app process was seen', () => {
    const base = input({ lifecycle: tree('dumb-init -- sleep 100', 'sleep 100') });
    base.lifecycle!.processes!.pid1.uid = 0;
    expect(nonRootUser.run({ ...base, files: files('') })).toMatchObject({ status: 'fail', message: 'PID 1 runs as uid 0 (the image sets no USER); expected a non-root uid' });
  });
});

describe('node-env, when the environment cannot be read', () => {
  const runtime = (over: Partial<AppRuntime>): AppRuntime => ({
    pid: 1,
    ppid: 0,
    cwd: '/app',
    argv: ['node', 'app.js'],
    exe: observed('/usr/local/bin/node'),
    nodeVersion: observed('v20.20.2'),
    nodeEnv: observed('production'),
    helper: { argv0: 'node', execPath: '/usr/local/bin/node' },
    matchedBy: 'argv',
    ...over,
  });
  it('is an error with the reason, not "NODE_ENV is not set", when /proc/<pid>/environ is refused', () => {
    const base = input();
    base.basics.image.config.env = ['PATH=/usr/bin', 'NODE_ENV=production'];
    const why = '/proc/1/environ could not be read as uid 1000:1000 (EACCES): the app is not dumpable';
    const v = nodeEnv.run({ ...base, lifecycle: { ...base.lifecycle!, runtime: runtime({ nodeEnv: unobserved(why) }) } });
    expect(v.status).toBe('error');
    expect(v.message).toBe(`could not read NODE_ENV of the running app: ${why}`);
    expect(v.evidence).toMatchObject({ imageConfig: 'NODE_ENV=production', notObserved: why });
    expect(v.hint).toBeUndefined();
  });
  it('still warns when the environment was read and has no NODE_ENV', () => {
    const base = input();
    expect(nodeEnv.run({ ...base, lifecycle: { ...base.lifecycle!, runtime: runtime({ nodeEnv: observed(null) }) } }).status).toBe('warn');
  });
});

describe('an app killed for memory at start (State.OOMKilled), under the audit\'s own limit', () => {
  const oom = () => {
    const base = input({ lifecycle: { exitedEarly: { exitCode: observed(137), afterMs: observed(400), oomKilled: true }, logs: [] } });
    return { ...base, settings: { ...base.settings, memoryBytes: 64 * 2 ** 20 } };
  };
  it('says out of memory and whose limit it was, with --memory as the hint (not "a missing variable?")', () => {
    const v = sigtermShutdown.run(oom());
    expect(v.status).toBe('fail');
    expect(v.message).toBe("the app was killed for running out of memory (OOM, exit 137) after 400 ms, under the audit's memory limit of 64 MiB (--memory, default 1 GiB), before the stop signal was sent");
    expect(v.hint).toMatch(/raise --memory/);
  });
  it('is named in the reason of the checks that could not observe the running app', () => {
    const v = initPid1.run(oom());
    expect(v.status).toBe('error');
    expect(v.message).toContain('killed for running out of memory');
    expect(v.message).not.toContain('printed nothing');
  });
});

describe('sigterm-shutdown with facts it could not observe', () => {
  it('is an error, not "exited by itself with code -1 after 0 ms", when neither the stop nor an exit was recorded', () => {
    const v = sigtermShutdown.run(input());
    expect(v.status).toBe('error');
    expect(v.message).not.toMatch(/-1|0 ms/);
    expect(v.message).toMatch(/^not observed: /);
  });
  it('is an error when the exit after the stop signal was not seen', () => {
    const base = input({ lifecycle: shutdown({}) });
    base.lifecycle!.shutdown = { ...base.lifecycle!.shutdown!, exitCode: unobserved('no exit 10.0 s after SIGKILL'), exitedAfterMs: unobserved('no exit 10.0 s after SIGKILL') };
    expect(sigtermShutdown.run(base)).toMatchObject({ status: 'error', message: 'could not see the app exit after SIGTERM: no exit 10.0 s after SIGKILL' });
  });
});
