// Runs the CLI as a user would: the bin of the package npm installed from the packed tarball
// (test/support/global-setup.ts), executed itself (its shebang starts node), with a bound on how long
// it may take.
import { spawn, type ChildProcess } from 'node:child_process';
import { inject } from 'vitest';

/** <prefix>/bin/node-image-audit, a symlink to the installed package's dist/cli/main.cjs. */
export const BIN = inject('packedBin');

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<CliRun> } {
  const began = Date.now();
  const child = spawn(BIN, args, { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<CliRun>((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, elapsedMs: Date.now() - began });
    });
  });
  return { child, done };
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return startCli(args, env).done;
}
