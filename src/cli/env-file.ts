// --env KEY=VALUE and --env-file FILE, read as `docker run` reads them.
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';

/** KEY=VALUE, or a bare KEY taken from our own environment (as docker run does). */
export function parseEnvAssignment(text: string, where: string): [string, string] | undefined {
  const eq = text.indexOf('=');
  const key = (eq < 0 ? text : text.slice(0, eq)).trim();
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key)) throw new UsageError(`Bad environment variable ${where}: "${text}" (expected KEY=VALUE)`);
  if (eq >= 0) return [key, text.slice(eq + 1)];
  const inherited = process.env[key];
  return inherited === undefined ? undefined : [key, inherited];
}

/** KEY=VALUE items (--env, --build-arg, IMAGE_AUDIT_BUILD_ARGS) as a record; later keys win. */
export function parseAssignments(items: string[] | undefined, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items ?? []) {
    const parsed = parseEnvAssignment(item, where);
    if (parsed) out[parsed[0]] = parsed[1];
  }
  return out;
}

export function readEnvFile(file: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`Cannot read --env-file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const env: Record<string, string> = {};
  text.split(/\r?\n/).forEach((line, index) => {
    if (!line.trim() || line.trimStart().startsWith('#')) return;
    const pair = parseEnvAssignment(line, `at ${file}:${index + 1}`);
    if (pair) env[pair[0]] = pair[1];
  });
  return env;
}
