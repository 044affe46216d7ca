// KEY=VALUE input for the audited containers and the build: --env/--build-arg items (read as
// `docker run -e` reads them) and env files (dotenv style: comments, `export KEY=VALUE`, quoted values).
// Values may be secrets: a message names the place (file:line, or the item's position) and at most
// the key, never the value or the line.
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** The name before "=" when it can be quoted safely: short and name-like (a pasted secret is neither). */
function badKeyProblem(text: string, eq: number): string {
  if (eq < 0) return 'not a KEY=VALUE assignment';
  const key = text.slice(0, eq).trim();
  if (!key) return 'the name before "=" is empty';
  const quotable = /^[A-Za-z0-9_.-]{1,64}$/.test(key);
  return `${quotable ? `"${key}"` : 'the text before "="'} is not a variable name (letters, digits, _ . -, not starting with a digit)`;
}

function checkedKey(text: string, eq: number, where: string): string {
  const key = (eq < 0 ? text : text.slice(0, eq)).trim();
  if (!KEY.test(key)) throw new UsageError(`Bad variable ${where}: ${badKeyProblem(text, eq)}`);
  return key;
}

/** A bare KEY is taken from our own environment, as docker run does; absent there, it is left out. */
function inherited(key: string): [string, string] | undefined {
  const value = process.env[key];
  return value === undefined ? undefined : [key, value];
}

/** KEY=VALUE (the value verbatim, as `docker run -e`), or a bare KEY taken from our own environment. */
export function parseEnvAssignment(text: string, where: string): [string, string] | undefined {
  const eq = text.indexOf('=');
  const key = checkedKey(text, eq, where);
  return eq < 0 ? inherited(key) : [key, text.slice(eq + 1)];
}

/** KEY=VALUE items (--env, --build-arg, IMAGE_AUDIT_BUILD_ARGS) as a record; later keys win.
 * `flag` names the items in messages: "--env" gives "in --env #2". */
export function parseAssignments(items: string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  (items ?? []).forEach((item, index) => {
    const parsed = parseEnvAssignment(item, `in ${flag} #${index + 1}`);
    if (parsed) out[parsed[0]] = parsed[1];
  });
  return out;
}

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\', $: '$' };

/** The value after "=" of an env-file line: "double" (with \n \" \\ escapes), 'single' (literal), or bare
 * (trimmed, a " #" starts a comment). */
function envFileValue(rest: string, key: string, where: string): string {
  const text = rest.trim();
  const quote = text[0];
  if (quote !== '"' && quote !== "'") return text.replace(/\s+#.*$/, '');
  let value = '';
  for (let i = 1; i < text.length; i++) {
    const c = text[i];
    if (c === quote) {
      const after = text.slice(i + 1).trim();
      if (after && !after.startsWith('#')) throw new UsageError(`Bad variable ${key} ${where}: text after the closing quote`);
      return value;
    }
    if (c === '\\' && quote === '"' && i + 1 < text.length) value += ESCAPES[text[++i]] ?? `\\${text[i]}`;
    else value += c;
  }
  throw new UsageError(`Bad variable ${key} ${where}: the quoted value has no closing quote (a value is one line)`);
}

/** The variables of an env file's text; `file` names it in messages (file:line). */
export function parseEnvFile(text: string, file: string): Record<string, string> {
  const env: Record<string, string> = {};
  text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim().replace(/^export\s+/, '');
    if (!line || line.startsWith('#')) return;
    const where = `at ${file}:${index + 1}`;
    const eq = line.indexOf('=');
    const key = checkedKey(line, eq, where);
    const pair = eq < 0 ? inherited(key) : ([key, envFileValue(line.slice(eq + 1), key, where)] as [string, string]);
    if (pair) env[pair[0]] = pair[1];
  });
  return env;
}

/** Reads an env file; `source` names where it was given ("--env-file", "IMAGE_AUDIT_ENV_FILE", "envFile of …"). */
export function readEnvFile(file: string, source = '--env-file'): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`Cannot read ${source} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseEnvFile(text, file);
}
