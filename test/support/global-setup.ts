// Integration set-up: a Docker engine must answer and the Node base image must exist (see
// scripts/setup.sh). The CLI tests drive what a user installs: the project is built, packed with
// `npm pack` and installed from the tarball into a temporary prefix, whose bin is given to the tests
// (`inject('packedBin')`, used by test/support/cli.ts). The teardown removes that prefix, and fails the
// run if any container of ours is left on the daemon.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { DockerodePort } from '../../src/docker/dockerode-port.js';
import { randomUUID } from 'node:crypto';
import { SESSION_LABEL } from '../../src/docker/reaper.js';

const ROOT = path.resolve(__dirname, '../..');

declare module 'vitest' {
  export interface ProvidedContext {
    nodeImage: string;
    /** The `node-image-audit` bin of the package installed from its packed tarball. */
    packedBin: string;
  }
}

export default async function setup(project: TestProject) {
  const docker = new DockerodePort();
  await docker.ping();
  // Every audit of this run (workers and the CLIs they start inherit it) carries this session label;
  // the teardown counts only these, so other runs on the same daemon are left alone.
  const session = `test-${randomUUID()}`;
  process.env.IMAGE_AUDIT_SESSION = session;
  // The layer-scan cache of this run only (the audits it starts inherit it): never the user's, never a
  // previous run's, so a run scans what it builds at least once.
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'image-audit-test-cache-'));
  process.env.IMAGE_AUDIT_CACHE_DIR = cacheDir;
  const nodeImage =
    process.env.NODE_IMAGE ||
    execFileSync('bash', ['scripts/node-base-image.sh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  project.provide('nodeImage', nodeImage);
  // The CLI tests run the built bin, as users do: build it from the sources under test, pack it and
  // install the tarball (packAndInstall). tsc emits even with type errors; the typecheck is its own step
  // of scripts/test.sh.
  const packed = packAndInstall();
  project.provide('packedBin', packed.bin);

  return async () => {
    rmSync(packed.dir, { recursive: true, force: true });
    rmSync(cacheDir, { recursive: true, force: true });
    const left = await docker.listContainers(`${SESSION_LABEL}=${session}`);
    if (left.length) {
      await Promise.allSettled(left.map((id) => docker.removeContainer(id)));
      throw new Error(`${left.length} audit container(s) were left on the daemon after the suite: ${left.join(', ')}`);
    }
  };
}

/**
 * The package a user installs, installed as a user installs it. The build users get (tsc for the
 * library, the bundled CLI: scripts/build.mjs) is made in a folder of this run's own, next to copies of
 * the other published files (package.json `files`), so a concurrent build of the working tree cannot mix
 * into the package; that build is also copied to dist/ for the tests that run the working tree's build.
 * Then `npm pack` (what `npm publish` uploads) and `npm install --global` of the tarball into a temporary
 * prefix: its own dependency tree resolved from the package's ranges, its bins linked into <prefix>/bin.
 * --ignore-scripts: the build already ran (pack would run `prepare` again), and the dependencies' install
 * scripts only build optional native add-ons (ssh2, cpu-features: 18 s of node-gyp) that an audit over
 * the Unix socket never loads. --prefer-offline: npm's cache answers when it can, the registry otherwise.
 */
function packAndInstall(): { dir: string; bin: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'image-audit-packed-'));
  const staging = path.join(dir, 'package');
  const npm = (cwd: string, args: string[]) =>
    execFileSync('npm', [...args, '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 180_000,
    });
  try {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
    mkdirSync(staging);
    copyFileSync(path.join(ROOT, 'package.json'), path.join(staging, 'package.json'));
    for (const entry of manifest.files.filter((f) => f !== 'dist')) cpSync(path.join(ROOT, entry), path.join(staging, entry), { recursive: true });
    try {
      execFileSync(process.execPath, ['scripts/build.mjs', '--tolerate-type-errors', '--out', path.join(staging, 'dist')], { cwd: ROOT, stdio: 'inherit' });
    } catch {
      console.warn('global-setup: tsc reported type errors; testing what it emitted');
    }
    rmSync(path.join(ROOT, 'dist/cli/chunks'), { recursive: true, force: true });
    cpSync(path.join(staging, 'dist'), path.join(ROOT, 'dist'), { recursive: true });
    const [{ filename }] = JSON.parse(npm(staging, ['pack', '--json', '--pack-destination', dir])) as Array<{ filename: string }>;
    const prefix = path.join(dir, 'prefix');
    npm(dir, ['install', '--global', '--prefix', prefix, '--prefer-offline', path.join(dir, filename)]);
    const bin = path.join(prefix, 'bin', 'node-image-audit');
    if (!existsSync(bin)) throw new Error(`npm installed no bin at ${bin}`);
    return { dir, bin };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
