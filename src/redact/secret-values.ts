// Which values the redactor is fed: one policy for every source an audit reads (the --env and
// --build-arg values, the Dockerfile's ENV/ARG, the image config's ENV, the build args its history
// recorded). What the `secrets` check finds in the image's files it hands over itself (Verdict.secrets).
import { buildArgsOf, looksSecretName } from '../facts/secrets-scan.js';

/** --env values this long are masked whatever their name: URLs with credentials, tokens, DSNs. */
const LONG_ENV_VALUE = 12;

/** The credential of a URL's user info: `scheme://user:PASSWORD@host`, or `scheme://KEY@host` (a Sentry DSN). */
export function urlCredentials(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/[a-z][a-z0-9+.-]*:\/\/([^\s:@/'"]+)(?::([^\s@/'"]*))?@/gi)) out.push(m[2] || m[1]);
  return out;
}

const secretOf = (name: string, value: string | undefined): string[] =>
  value ? [...(looksSecretName(name) ? [value] : []), ...urlCredentials(value)] : [];

/** --env / --env-file: secret-looking names, any long value, URL credentials. */
export function envSecrets(env: Record<string, string> | undefined): string[] {
  return Object.entries(env ?? {}).flatMap(([name, value]) => [...secretOf(name, value), ...(value.length >= LONG_ENV_VALUE ? [value] : [])]);
}

/** --build-arg: secret-looking names and URL credentials (NODE_IMAGE or NODE_VERSION are not secrets). */
export function buildArgSecrets(args: Record<string, string> | undefined): string[] {
  return Object.entries(args ?? {}).flatMap(([name, value]) => secretOf(name, value));
}

/** The image config's `KEY=VALUE` ENV entries. */
export function configEnvSecrets(env: string[]): string[] {
  return env.flatMap((entry) => {
    const eq = entry.indexOf('=');
    return eq < 0 ? [] : secretOf(entry.slice(0, eq), entry.slice(eq + 1));
  });
}

/**
 * What the history recorded: the build args in scope of each RUN (`|2 NPM_TOKEN=… A=1 /bin/sh -c …`),
 * and ARG defaults and ENV values (`ARG GITHUB_PAT=…`, classic `/bin/sh -c #(nop)  ENV A=b`).
 */
export function historySecrets(createdBy: string[]): string[] {
  return createdBy.flatMap((line) => {
    const assigned = /(?:^|#\(nop\)\s+)(?:ARG|ENV)\s+(.*)$/s.exec(line.replace(/\s*# buildkit$/, ''))?.[1] ?? '';
    const pairs = [...assigned.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g)].map((m) => ({ name: m[1], value: m[2].replace(/^(["'])(.*)\1$/s, '$2') }));
    return [...buildArgsOf(line), ...pairs].flatMap(({ name, value }) => secretOf(name, value));
  });
}

/** ENV values and ARG defaults of secret-looking names in a Dockerfile, every stage (StageView.assignments). */
export function dockerfileSecrets(assignments: Array<{ name: string; value: string }>): string[] {
  return assignments.flatMap(({ name, value }) => secretOf(name, value));
}
