// image-audit [options] <target>: the command line over audit(). Started by ./main.ts.
import { Command, CommanderError, Option } from 'commander';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULTS, audit } from '../audit.js';
import { CHECK_IDS } from '../checks/registry.js';
import { AuditError, BuildFailedError } from '../errors.js';
import { interruptedBy } from '../docker/reaper.js';
import { exitCodeFor } from '../report/exit-code.js';
import { renderJson } from '../report/json.js';
import { renderTty } from '../report/tty.js';
import type { CheckId } from '../types.js';
import { parseEnvAssignment, readEnvFile } from './env-file.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const collect = (value: string, previous: string[] = []) => [...previous, value];
const list = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];

function buildArgs(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const parsed = parseEnvAssignment(pair, 'in --build-arg');
    if (parsed) out[parsed[0]] = parsed[1];
  }
  return out;
}

async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name('image-audit')
    .description('Prove, by running it, that a Node.js container image is production-ready.')
    .argument('<target>', 'a build context directory, or an image reference already in the daemon')
    .addOption(new Option('--format <format>', 'report format').choices(['tty', 'json']).default('tty'))
    .option('-o, --output <file>', 'write the report to a file instead of stdout')
    .option('--only <ids>', `run only these checks (comma-separated: ${CHECK_IDS.join(', ')})`, list)
    .option('--skip <ids>', 'leave out these checks', list)
    .option('--size-budget <size>', 'largest acceptable image size (MB, GB decimal; MiB, GiB binary)', DEFAULTS.sizeBudget)
    .option('--shutdown-budget <duration>', 'longest acceptable time from the stop signal to exit', DEFAULTS.shutdownBudget)
    .option('--init <names>', 'accepted PID 1 programs (comma-separated)', list)
    .option('--build-arg <KEY=VALUE>', 'build argument (repeatable)', collect)
    .option('-f, --dockerfile <path>', 'Dockerfile, relative to the context', 'Dockerfile')
    .option('--target <stage>', 'build this stage of a multi-stage Dockerfile')
    .option('-e, --env <KEY=VALUE>', 'environment variable for the audited containers (repeatable; never printed)', collect)
    .option('--env-file <file>', 'file of KEY=VALUE lines for the audited containers', collect)
    .option('--keep', 'leave the audit containers in place for debugging')
    .option('--no-color', 'plain output')
    .version(pkg.version, '-V, --version')
    .showHelpAfterError()
    .exitOverride();

  try {
    program.parse(argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  const opts = program.opts();
  const [target] = program.args;
  const env: Record<string, string> = {};
  for (const file of (opts.envFile as string[] | undefined) ?? []) Object.assign(env, readEnvFile(file));
  for (const pair of (opts.env as string[] | undefined) ?? []) {
    const parsed = parseEnvAssignment(pair, 'in --env');
    if (parsed) env[parsed[0]] = parsed[1];
  }

  const tty = process.stderr.isTTY === true;
  const color = opts.color !== false && !process.env.NO_COLOR && (opts.output ? false : process.stdout.isTTY === true);
  let lastStatusLength = 0;
  const status = (line: string) => {
    if (!tty) return;
    const text = line.slice(0, (process.stderr.columns || 100) - 1);
    process.stderr.write(`\r${text.padEnd(lastStatusLength)}`);
    lastStatusLength = text.length;
  };
  const clearStatus = () => {
    if (tty && lastStatusLength) process.stderr.write(`\r${' '.repeat(lastStatusLength)}\r`);
    lastStatusLength = 0;
  };

  const report = await audit(target, {
    only: opts.only as CheckId[] | undefined,
    skip: opts.skip as CheckId[] | undefined,
    sizeBudget: opts.sizeBudget,
    shutdownBudget: opts.shutdownBudget,
    init: opts.init,
    dockerfile: opts.dockerfile,
    buildArgs: buildArgs((opts.buildArg as string[] | undefined) ?? []),
    target: opts.target,
    env,
    keep: opts.keep === true,
    onBuildProgress: tty ? (line) => status(`build: ${line.trim()}`) : undefined,
    onStatus: status,
    onNotice: (line) => {
      clearStatus();
      process.stderr.write(`image-audit: ${line}\n`);
    },
  }).finally(clearStatus);

  const rendered = opts.format === 'json' ? renderJson(report) : renderTty(report, { color });
  if (opts.output) {
    mkdirSync(path.dirname(path.resolve(opts.output)), { recursive: true });
    writeFileSync(opts.output, rendered);
    if (opts.format !== 'tty') process.stderr.write(renderTty(report, { color: false }));
  } else process.stdout.write(rendered);
  return exitCodeFor(report);
}

function explain(err: unknown): number {
  if (err instanceof AuditError) {
    process.stderr.write(`image-audit: ${err.message}\n`);
    if (err instanceof BuildFailedError && err.output.length) {
      process.stderr.write(`output of ${err.failingStep ?? 'the failing step'}:\n${err.output.map((l) => `  ${l}`).join('\n')}\n`);
    } else if (err.detail.length) process.stderr.write(`${err.detail.map((l) => `  ${l}`).join('\n')}\n`);
    return err.exitCode;
  }
  process.stderr.write(`image-audit: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
  return 3;
}

export async function runCli(argv: string[]): Promise<never> {
  const code = await main(argv).catch((err: unknown) => (interruptedBy() ? 130 : explain(err)));
  // On SIGINT/SIGTERM the reaper removes the containers and re-raises the signal: let that end us.
  if (interruptedBy()) return new Promise<never>(() => {});
  // stdout and stderr are synchronous for files and pipes on Linux; a daemon that never answered can
  // leave a socket open, so end now rather than wait for it.
  process.stdout.write('', () => process.exit(code));
  return new Promise<never>(() => {});
}

