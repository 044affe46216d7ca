// Node reads `--env-file F` among a script's own arguments too, before any JavaScript runs (measured on
// Node 20.20.2; nodejs/node#54232, still so in later lines): `image-audit . --env-file F` started as
// `node main.js . --env-file F` (the bin's shebang) makes Node
//   - NOT put F's variables in process.env (our environment stays ours; measured),
//   - apply F's NODE_OPTIONS to this very process (measured: --max-old-space-size, --title, --require),
//   - end the process with "node: F: not found" (exit 9) when F is missing, before our code runs.
// Only a `--` before the script's name prevents it, which a `#!/usr/bin/env node` bin cannot give (see
// docs/design.md, "How the artifact is tested"). What is left to do here: say when NODE_OPTIONS meant for
// the audited app was applied to the auditor.
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';

/** The files Node read for `--env-file F` / `--env-file=F` in these arguments (it stops at `--`). */
export function envFilesReadByNode(args: readonly string[]): string[] {
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') break;
    if (arg.startsWith('--env-file=')) files.push(arg.slice('--env-file='.length));
    else if (arg === '--env-file' && i + 1 < args.length) files.push(args[++i]);
  }
  return files;
}

/**
 * A one-line notice when an env file Node read for our arguments sets NODE_OPTIONS (Node applied them to
 * this process too); names the files, never a value. Unreadable files are left to the CLI's own check.
 */
export function nodeEnvFileNotice(args: readonly string[]): string | undefined {
  const setting = envFilesReadByNode(args).filter((file) => {
    try {
      return parseEnv(readFileSync(file, 'utf8')).NODE_OPTIONS !== undefined;
    } catch {
      return false;
    }
  });
  if (!setting.length) return undefined;
  return `note: Node also applied the NODE_OPTIONS of ${setting.join(', ')} to image-audit itself (Node reads --env-file even after a script's name); to give them only to the audited containers, name the file in the config's envFile instead`;
}
