// The folder of the audit's caches (the layer scans, the CLI's compiled code): one rule for both, small
// enough for the bin's loader to import before anything else.
import os from 'node:os';
import path from 'node:path';

/** Where the caches live, or undefined when they are turned off (`IMAGE_AUDIT_CACHE=off`). */
export function cacheDir(env: NodeJS.ProcessEnv): string | undefined {
  if (/^(off|0|false|no)$/i.test(env.IMAGE_AUDIT_CACHE ?? '')) return undefined;
  if (env.IMAGE_AUDIT_CACHE_DIR) return path.resolve(env.IMAGE_AUDIT_CACHE_DIR);
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(base, 'image-audit');
}
