// The command line over audit() and gate(). Started by ./main.ts.
//   image-audit [options] <target>
//   image-audit gate [options] <candidate> [--baseline <image>|auto]
import { Command, CommanderError, Option } from 'commander';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULTS, audit } from '../audit.js';
import { CHECK_IDS } from '../checks/registry.js';
import { loadConfigFor, type GateThresholds } from '../config/load.js';
import { interruptedBy } from '../docker/reaper.js';
import { AuditError, BuildFailedError, UsageError } from '../errors.js';
import { exitCodeFor } from '../report/exit-code.js';
import { FORMATS, render, type Format, type Subject } from '../report/render.js';
import type { AuditOptions, CheckId } from '../types.js';
import { parseDuration, parseSize } from '../units.js';
import { parseAssignments, readEnvFile } from './env-file.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const collect = (value: string, previous: string[] = []) => [...previous, value];
const list = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];

/** The flags the audit and the gate share. Defaults live in audit() and the config, not here, so a
 * flag given on the command line is exactly one whose value is set. */
function withAuditFlags(command: Command): Command {
  return command
    .addOption(new Option('--format <format>', 'report format on stdout (default: tty)').choices([...FORMATS]))
    .option('-o, --output <file>', 'write the --format report to a file instead of stdout')
    .option('--report <FORMAT=FILE>', `also write a report to FILE (repeatable; formats: ${FORMATS.join(', ')})`, collect)
    .option('-c, --config <file>', 'config file (default: image-audit.config.json or package.json "imageAudit", in the context then here)')
    .option('--only <ids>', `run only these checks (comma-separated: ${CHECK_IDS.join(', ')})`, list)
    .option('--skip <ids>', 'leave out these checks', list)
    .option('--size-budget <size>', `largest acceptable image size, MB/GB decimal, MiB/GiB binary (default: ${DEFAULTS.sizeBudget})`)
    .option('--shutdown-budget <duration>', `longest acceptable time from the stop signal to exit (default: ${DEFAULTS.shutdownBudget})`)
    .option('--init <names>', 'accepted PID 1 programs, comma-separated (default: dumb-init)', list)
    .option('--build-arg <KEY=VALUE>', 'build argument (repeatable)', collect)
    .option('-f, --dockerfile <path>', 'Dockerfile, relative to the context (default: Dockerfile)')
    .option('--target <stage>', 'build this stage of a multi-stage Dockerfile')
    .option('--build-timeout <duration>', 'cancel a build that takes longer (default: 20m)')
    .option('-e, --env <KEY=VALUE>', 'environment variable for the audited containers (repeatable; never printed)', collect)
    .option('--env-file <file>', 'file of KEY=VALUE lines for the audited containers', collect)
    .option('--keep', 'leave the audit containers in place for debugging')
    .option('--no-color', 'plain output')
    .showHelpAfterError()
    .exitOverride();
}

interface Invocation {
  options: AuditOptions;
  gate?: Partial<GateThresholds>;
  outputs: Array<{ format: Format; file?: string }>;
  color: boolean;
}

/** Config file first, then the command line over it. */
function resolveInvocation(command: Command, target: string): Invocation {
  const o = command.opts();
  const config = loadConfigFor(target, o.config);
  const base = config?.options ?? {};
  const env: Record<string, string> = { ...base.env };
  for (const file of (o.envFile as string[] | undefined) ?? []) Object.assign(env, readEnvFile(file));
  Object.assign(env, parseAssignments(o.env, 'in --env'));
  const options: AuditOptions = {
    ...base,
    ...(o.only && { only: o.only as CheckId[] }),
    ...(o.skip && { skip: o.skip as CheckId[] }),
    ...(o.sizeBudget && { sizeBudget: o.sizeBudget }),
    ...(o.shutdownBudget && { shutdownBudget: o.shutdownBudget }),
    ...(o.init && { init: o.init }),
    ...(o.dockerfile && { dockerfile: o.dockerfile }),
    ...(o.target && { target: o.target }),
    ...(o.buildTimeout && { buildTimeout: o.buildTimeout }),
    buildArgs: { ...base.buildArgs, ...parseAssignments(o.buildArg, 'in --build-arg') },
    env,
    keep: o.keep === true,
  };

  const outputs: Invocation['outputs'] = [{ format: (o.format as Format | undefined) ?? 'tty', file: o.output }];
  for (const spec of (o.report as string[] | undefined) ?? []) {
    const [format, file] = [spec.slice(0, spec.indexOf('=')), spec.slice(spec.indexOf('=') + 1)];
    if (!spec.includes('=') || !FORMATS.includes(format as Format) || !file) {
      throw new UsageError(`Bad --report "${spec}": use FORMAT=FILE with FORMAT one of ${FORMATS.join(', ')}`);
    }
    outputs.push({ format: format as Format, file });
  }
  const color = o.color !== false && !process.env.NO_COLOR && process.stdout.isTTY === true;
  return { options, gate: config?.gate, outputs, color };
}

function writeOutputs(subject: Subject, outputs: Invocation['outputs'], color: boolean): void {
  for (const { format, file } of outputs) {
    const text = render(format, subject, { color: color && !file, toolVersion: pkg.version });
    if (!file) {
      process.stdout.write(text);
      continue;
    }
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    writeFileSync(file, text);
  }
  // With every report in files, a summary still reaches the person at the terminal.
  if (outputs.every((o) => o.file)) process.stderr.write(render('tty', subject, { color: false, toolVersion: pkg.version }));
}

function progress() {
  const tty = process.stderr.isTTY === true;
  let shown = 0;
  const clear = () => {
    if (tty && shown) process.stderr.write(`\r${' '.repeat(shown)}\r`);
    shown = 0;
  };
  const status = (line: string) => {
    if (!tty) return;
    const text = line.slice(0, (process.stderr.columns || 100) - 1);
    process.stderr.write(`\r${text.padEnd(shown)}`);
    shown = text.length;
  };
  return {
    clear,
    callbacks: {
      onStatus: status,
      onBuildProgress: tty ? (line: string) => status(`build: ${line.trim()}`) : undefined,
      onNotice: (line: string) => {
        clear();
        process.stderr.write(`image-audit: ${line}\n`);
      },
    },
  };
}

function parse(command: Command, argv: string[]): number | undefined {
  try {
    command.parse(argv, { from: 'user' });
    return undefined;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
}

async function auditCommand(args: string[]): Promise<number> {
  const command = withAuditFlags(
    new Command('image-audit')
      .description('Prove, by running it, that a Node.js container image is production-ready.\nAlso: image-audit gate --help')
      .argument('<target>', 'a build context directory, or an image reference already in the daemon')
      .version(pkg.version, '-V, --version'),
  );
  const early = parse(command, args);
  if (early !== undefined) return early;
  const target = command.args[0];
  const run = resolveInvocation(command, target);
  const shown = progress();
  const report = await audit(target, { ...run.options, ...shown.callbacks }).finally(shown.clear);
  writeOutputs({ kind: 'audit', report }, run.outputs, run.color);
  return exitCodeFor(report);
}

function thresholdsFrom(o: Record<string, string | undefined>): Partial<GateThresholds> {
  const out: Partial<GateThresholds> = {};
  const number = (flag: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`Bad ${flag} "${value}": a percentage such as 10`);
    return n;
  };
  const read = <T>(flag: string, value: string | undefined, parse: (v: string) => T | undefined): T | undefined => {
    if (value === undefined) return undefined;
    const parsed = parse(value);
    if (parsed === undefined) throw new UsageError(`Bad ${flag} "${value}"`);
    return parsed;
  };
  const set = <K extends keyof GateThresholds>(key: K, value: GateThresholds[K] | undefined) => {
    if (value !== undefined) out[key] = value;
  };
  set('maxSizeGrowthPercent', number('--max-size-growth', o.maxSizeGrowth));
  set('maxSizeGrowthBytes', read('--max-size-growth-bytes', o.maxSizeGrowthBytes, parseSize));
  set('maxShutdownGrowthPercent', number('--max-shutdown-growth', o.maxShutdownGrowth));
  set('maxShutdownGrowthMs', read('--max-shutdown-growth-ms', o.maxShutdownGrowthMs, parseDuration));
  set('maxHealthyGrowthPercent', number('--max-healthy-growth', o.maxHealthyGrowth));
  set('maxHealthyGrowthMs', read('--max-healthy-growth-ms', o.maxHealthyGrowthMs, parseDuration));
  return out;
}

async function gateCommand(args: string[]): Promise<number> {
  const command = withAuditFlags(
    new Command('image-audit gate')
      .description('May this image ship? Audit the candidate, compare it with the baseline (the previous release), exit 0 to ship.')
      .argument('<candidate>', 'image reference (or build context) of the release candidate')
      .option('-b, --baseline <image>', "baseline image, or 'auto': the highest semver tag of the same repository below the candidate's")
      .option('--max-size-growth <percent>', 'size growth that fails the gate (default: 10)')
      .option('--max-size-growth-bytes <size>', 'also fail above this absolute growth')
      .option('--max-shutdown-growth <percent>', 'shutdown time growth that fails the gate, when also above --max-shutdown-growth-ms (default: 50)')
      .option('--max-shutdown-growth-ms <duration>', '(default: 1s)')
      .option('--max-healthy-growth <percent>', 'time-to-healthy growth that fails the gate, when also above --max-healthy-growth-ms (default: 50)')
      .option('--max-healthy-growth-ms <duration>', '(default: 2s)'),
  );
  const early = parse(command, args);
  if (early !== undefined) return early;
  const candidate = command.args[0];
  const run = resolveInvocation(command, candidate);
  const o = command.opts();
  const thresholds = { ...run.gate, ...thresholdsFrom(o) };
  const { gate, gateExitCode } = await import('../gate/gate.js');
  const shown = progress();
  const report = await gate(candidate, { ...run.options, ...shown.callbacks, baseline: o.baseline ?? run.gate?.baseline, thresholds }).finally(shown.clear);
  writeOutputs({ kind: 'gate', report }, run.outputs, run.color);
  return gateExitCode(report);
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
  const args = argv.slice(2);
  const main = args[0] === 'gate' ? gateCommand(args.slice(1)) : auditCommand(args);
  const code = await main.catch((err: unknown) => (interruptedBy() ? 130 : explain(err)));
  // On SIGINT/SIGTERM the reaper removes the containers and re-raises the signal: let that end us.
  if (interruptedBy()) return new Promise<never>(() => {});
  // stdout and stderr are synchronous for files and pipes on Linux; a daemon that never answered can
  // leave a socket open, so end now rather than wait for it.
  process.stdout.write('', () => process.exit(code));
  return new Promise<never>(() => {});
}
