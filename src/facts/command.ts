// What the image's ENTRYPOINT + CMD start, read from the config alone: shell form or exec form, which
// init wraps it, and which script node runs.
import { posix as path } from 'node:path';

export interface StartCommand {
  argv: string[];
  /** "/bin/sh -c ..." as Docker writes shell-form ENTRYPOINT/CMD. */
  shellForm: boolean;
  /** The script node is given, as written (relative to WORKDIR unless absolute). */
  entryScript?: string;
  /** How node is reached: 'node' directly, 'npm' (npm start/run), or nothing recognised. */
  launcher: 'node' | 'npm' | 'unknown';
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'ash', 'zsh']);
const INITS = new Set(['dumb-init', 'tini', 'tini-static', 'docker-init']);
const NODE_FLAGS_WITH_VALUE = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader', '-C', '--conditions', '--env-file', '--title', '--inspect-port', '--max-old-space-size']);

export const basename = (program: string) => path.basename(program);

export function isShellForm(argv: string[]): boolean {
  return argv.length >= 3 && SHELLS.has(basename(argv[0])) && argv.slice(1).includes('-c');
}

/** Splits a shell command line into words: enough for "node dist/index.js", not a shell parser. */
function words(commandLine: string): string[] {
  return (commandLine.match(/"[^"]*"|'[^']*'|\S+/g) ?? []).map((w) => w.replace(/^["']|["']$/g, ''));
}

export function analyseCommand(entrypoint: string[], cmd: string[]): StartCommand {
  const argv = [...entrypoint, ...cmd];
  const shellForm = isShellForm(entrypoint) || isShellForm(cmd);
  let rest = argv;
  // Unwrap init and shell layers until the program that matters.
  for (let guard = 0; guard < 6 && rest.length; guard++) {
    const program = basename(rest[0]);
    if (INITS.has(program)) {
      rest = rest.slice(1);
      while (rest.length && rest[0].startsWith('-')) {
        const endOfOptions = rest[0] === '--';
        rest = rest.slice(1);
        if (endOfOptions) break;
      }
      continue;
    }
    if (SHELLS.has(program)) {
      const c = rest.indexOf('-c');
      rest = c >= 0 && rest[c + 1] ? words(rest[c + 1]).filter((w) => w !== 'exec') : [];
      continue;
    }
    if (program === 'exec') {
      rest = rest.slice(1);
      continue;
    }
    break;
  }
  if (!rest.length) return { argv, shellForm, launcher: 'unknown' };
  const program = basename(rest[0]);
  if (program === 'node' || program === 'nodejs') {
    for (let i = 1; i < rest.length; i++) {
      const arg = rest[i];
      if (NODE_FLAGS_WITH_VALUE.has(arg)) i++;
      else if (!arg.startsWith('-')) return { argv, shellForm, entryScript: arg, launcher: 'node' };
    }
    return { argv, shellForm, launcher: 'node' };
  }
  if (program === 'npm' || program === 'yarn' || program === 'pnpm') return { argv, shellForm, launcher: 'npm' };
  // A bare script path (e.g. "./server.js" with a node shebang) still tells where the app is.
  if (/\.(c|m)?js$/.test(rest[0])) return { argv, shellForm, entryScript: rest[0], launcher: 'unknown' };
  return { argv, shellForm, launcher: 'unknown' };
}
