// The command line over audit() and gate(). Started by ./main.ts.
//   image-audit [options] <target>
//   image-audit gate [options] <candidate> [--baseline <image>|auto]
// Everything a user can get wrong is checked before the audit starts (options, config, report paths);
// SIGINT/SIGTERM abort the audit, which then writes no report and ends with 130/143.
import { Command, CommanderError, Option } from 'commander';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { DEFAULTS, audit } from '../audit.js';
import { CHECKS, CHECK_IDS } from '../checks/registry.js';
import { parseAssignments } from '../config/env-file.js';
import { loadConfigFor, type GateThresholds } from '../config/load.js';
import { resolveOptions, type CallerOptions } from '../config/resolve.js';
import { AuditError, BuildFailedError, UsageError } from '../errors.js';
import type { GateReport } from '../gate/gate.js';
import { exitCodeFor } from '../report/exit-code.js';
import { FORMATS, render, type Format, type Subject } from '../report/render.js';
import { sanitizeForTerminal } from '../report/sanitize.js';
import { nodeEnvFileNotice } from './node-env-file.js';
import { createOutlets, describeWriteError, type Outlets } from './outlets.js';
import { enginePortFor } from './engine-select.js';
import { fleetCommand } from './fleet.js';
import type { AuditOptions, AuditReport, CheckId } from '../types.js';
import { parseDuration, parseSize } from '../units.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Exit codes of an interrupted run: 128 + the signal's number, as a shell reports it. */
const INTERRUPT_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;
type Interrupt = keyof typeof INTERRUPT_EXIT;

/** Longest line of build output, and of an error message, on the terminal. */
const MAX_OUTPUT_CHARS = 300;
const MAX_MESSAGE_CHARS = 2000;

const collect = (value: string, previous: string[] = []) => [...previous, value];
const list = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];

/** The flag of each option, to name it in messages. */
export const FLAG_OF: Partial<Record<keyof AuditOptions, string>> = {
  only: '--only',
  skip: '--skip',
  sizeBudget: '--size-budget',
  shutdownBudget: '--shutdown-budget',
  init: '--init',
  dockerfile: '--dockerfile',
  target: '--target',
  buildTimeout: '--build-timeout',
  healthTimeout: '--health-timeout',
  memory: '--memory',
  pidsLimit: '--pids-limit',
  network: '--network',
  port: '--port',
  drainPath: '--drain-path',
  deep: '--deep',
  manifest: '--manifest',
  container: '--container',
};

/** The flags the audit and the gate share. Defaults live in audit() and the config, not here, so a
 * flag given on the command line is exactly one whose value is set. */
export function withAuditFlags(command: Command): Command {
  return command
    .addOption(new Option('--format <format>', 'report format on stdout (default: tty)').choices([...FORMATS]))
    .option('-o, --output <file>', 'write the --format report to a file instead of stdout')
    .option('--report <FORMAT=FILE>', `also write a report to FILE (repeatable; formats: ${FORMATS.join(', ')})`, collect)
    .option('-c, --config <file>', 'config file (default: image-audit.config.json or package.json "imageAudit", in the context then here)')
    .option('--only <ids>', `run only these checks (comma-separated: ${CHECK_IDS.join(', ')})`, list)
    .option('--skip <ids>', 'leave out these checks', list)
    .option('--size-budget <size>', `largest acceptable image size, MB/GB decimal, MiB/GiB binary (default: ${DEFAULTS.sizeBudget})`)
    .option('--shutdown-budget <duration>', `longest acceptable time from the stop signal to exit (default: ${DEFAULTS.shutdownBudget})`)
    .option('--health-timeout <duration>', 'longest wait for the app to be up, healthy or settled (default: 2m)')
    .option('--init <names>', 'accepted PID 1 programs, comma-separated (default: dumb-init)', list)
    .option('--build-arg <KEY=VALUE>', 'build argument (repeatable)', collect)
    .option('-f, --dockerfile <path>', 'Dockerfile, relative to the context (default: Dockerfile)')
    .option('--target <stage>', 'build this stage of a multi-stage Dockerfile')
    .option('--build-timeout <duration>', 'cancel a build that takes longer (default: 20m)')
    .option('-e, --env <KEY=VALUE>', 'environment variable for the audited containers (repeatable; never printed)', collect)
    .option('--env-file <file>', 'file of KEY=VALUE lines for the audited containers (repeatable)', collect)
    .option('--memory <size>', 'memory limit of the audited container, e.g. 512MiB; 0: none (default: 1GiB)')
    .option('--pids-limit <n>', 'pids limit of the audited container; 0: none (default: 512)')
    .option('--network <name>', 'network of the audited container: bridge (default), none, or a network name')
    .option('--port <n>', "the app's TCP port (default: the image's first EXPOSEd TCP port)")
    .option('--drain-path <path>', 'request path of the graceful-drain probe (default: /)')
    .option('--deep', 'also run the costly probes')
    .option('--manifest <file>', 'Kubernetes manifest (multi-document YAML): run the container as it says and judge it against it (repeatable)', collect)
    .option('--container <name>', "the manifest's container to audit (default: the one whose image is the target, or the only one)")
    .option('--keep', 'leave the audit containers in place for debugging')
    .option('--context <name>', 'docker context to audit on (default: DOCKER_HOST, else DOCKER_CONTEXT, else the current context)')
    .option('--no-color', 'plain output')
    .showHelpAfterError()
    .exitOverride();
}

export interface Output {
  format: Format;
  /** undefined: stdout. */
  file?: string;
  /** The flag that asked for it, for messages. */
  flag: string;
}

interface Invocation {
  options: AuditOptions;
  gate?: Partial<GateThresholds>;
  outputs: Output[];
  color: boolean;
}

export function outputsFrom(o: Record<string, unknown>): Output[] {
  const outputs: Output[] = [{ format: (o.format as Format | undefined) ?? 'tty', file: o.output as string | undefined, flag: '--output' }];
  for (const spec of (o.report as string[] | undefined) ?? []) {
    const [format, file] = [spec.slice(0, spec.indexOf('=')), spec.slice(spec.indexOf('=') + 1)];
    if (!spec.includes('=') || !FORMATS.includes(format as Format) || !file) {
      throw new UsageError(`Bad --report "${spec}": use FORMAT=FILE with FORMAT one of ${FORMATS.join(', ')}`);
    }
    outputs.push({ format: format as Format, file, flag: `--report ${format}=` });
  }
  return outputs;
}


/** Why `file` could not be written, or undefined once its folder exists and it can be. Leaves no file
 * behind: an audit that ends without a report (interrupted, could not audit) writes nothing. */
function unwritable(file: string): string | undefined {
  // mkdirSync({ recursive: true }) never returns for a path under /proc (Node 20): one level at a time.
  const missing: string[] = [];
  for (let dir = path.dirname(file); !existsSync(dir); dir = path.dirname(dir)) {
    missing.unshift(dir);
    if (path.dirname(dir) === dir) break;
  }
  for (const dir of missing) {
    try {
      mkdirSync(dir);
    } catch (err) {
      return `cannot create the directory ${dir}: ${describeWriteError(err)}`;
    }
  }
  try {
    const existing = statSync(file, { throwIfNoEntry: false });
    if (existing?.isDirectory()) return 'it is a directory';
    if (existing) closeSync(openSync(file, 'a'));
    else {
      closeSync(openSync(file, 'wx'));
      unlinkSync(file);
    }
  } catch (err) {
    return describeWriteError(err);
  }
  return undefined;
}

/**
 * Where writing `file` lands when it does not exist yet: symlinks followed as open(2) follows them (a
 * dangling one names the file that will be created), folders by their real path. A folder still to be
 * created ends the walk there.
 */
function landingPath(file: string): string {
  let current = path.resolve(file);
  for (let hops = 0; hops < 40; hops++) {
    let dir: string;
    try {
      dir = realpathSync(path.dirname(current));
    } catch {
      return current;
    }
    const at = path.join(dir, path.basename(current));
    if (!lstatSync(at, { throwIfNoEntry: false })?.isSymbolicLink()) return at;
    current = path.resolve(dir, readlinkSync(at));
  }
  throw Object.assign(new Error('too many levels of symbolic links'), { code: 'ELOOP' });
}

/** What tells the file a path writes to: its inode when it exists (symlinks and hard links alike), else where it will land. */
function fileIdentity(file: string): { key: string; shown: string } {
  const stat = statSync(file, { throwIfNoEntry: false });
  if (stat) {
    let shown = file;
    try {
      shown = realpathSync(file);
    } catch {
      // e.g. /dev/stdout on a pipe: the inode still tells.
    }
    return { key: `inode ${stat.dev}:${stat.ino}`, shown };
  }
  const landing = landingPath(file);
  return { key: `path ${landing}`, shown: landing };
}

/**
 * Every report file can be written, and no two reports go to the same file — whatever path leads there
 * (a symlink, a symlinked folder, a hard link): checked before the audit. A path that is a dangling
 * symlink is written through, as the shell's `>` does: the file it names is created (and its folders).
 */
export function prepareOutputs(outputs: Output[]): void {
  const seen = new Map<string, string>();
  for (const { file, flag } of outputs) {
    if (!file) continue;
    const named = `${flag}${flag.endsWith('=') ? '' : ' '}${file}`;
    const absolute = path.resolve(file);
    let identity: { key: string; shown: string };
    try {
      // A dangling symlink: what must be writable is the file it names.
      const problem = unwritable(statSync(absolute, { throwIfNoEntry: false }) ? absolute : landingPath(absolute));
      if (problem) throw new UsageError(`Cannot write ${named}: ${problem}`);
      // Its folders exist now: where it lands is known exactly.
      identity = fileIdentity(absolute);
    } catch (err) {
      if (err instanceof UsageError) throw err;
      const loop = (err as NodeJS.ErrnoException).code === 'ELOOP';
      throw new UsageError(`Cannot write ${named}: ${loop ? 'too many levels of symbolic links (ELOOP)' : describeWriteError(err)}`);
    }
    const earlier = seen.get(identity.key);
    if (earlier) throw new UsageError(`Cannot write ${named}: ${earlier} writes the same file (${identity.shown})`);
    seen.set(identity.key, named);
  }
}

/** The audit options the command line gives (the single audit, the gate and every target of a fleet read them alike). */
export function callerOptions(o: Record<string, any>): CallerOptions {
  return {
    values: {
      only: o.only as CheckId[] | undefined,
      skip: o.skip as CheckId[] | undefined,
      sizeBudget: o.sizeBudget,
      shutdownBudget: o.shutdownBudget,
      healthTimeout: o.healthTimeout,
      init: o.init,
      dockerfile: o.dockerfile,
      target: o.target,
      buildTimeout: o.buildTimeout,
      memory: o.memory,
      pidsLimit: o.pidsLimit,
      network: o.network,
      port: o.port,
      drainPath: o.drainPath,
      deep: o.deep,
      manifest: o.manifest,
      container: o.container,
      buildArgs: parseAssignments(o.buildArg, '--build-arg'),
      env: parseAssignments(o.env, '--env'),
      ...(o.keep === true && { keep: true }),
    },
    envFiles: o.envFile,
    envFileName: '--env-file',
    nameOf: (key) => FLAG_OF[key] ?? key,
  };
}

/** Config file first, then the command line over it (src/config/resolve.ts), then the report paths. */
function resolveInvocation(command: Command, target: string): Invocation {
  const o = command.opts();
  const outputs = outputsFrom(o);
  const config = loadConfigFor(target, o.config);
  const options = resolveOptions(config, callerOptions(o), CHECKS);
  prepareOutputs(outputs);
  const color = colorWanted({ flag: o.color !== false, env: process.env, isTTY: process.stdout.isTTY === true });
  return { options, gate: config?.gate, outputs, color };
}

/**
 * Colour in the terminal report: only on a terminal, and not when the user said no (--no-color; NO_COLOR
 * set to anything but "", as no-color.org asks) or the terminal cannot show it (TERM=dumb). FORCE_COLOR is
 * not read: what is not a terminal (a pipe, a file, CI logs) gets no escape codes.
 */
export function colorWanted({ flag, env, isTTY }: { flag: boolean; env: NodeJS.ProcessEnv; isTTY: boolean }): boolean {
  return flag && isTTY && !env.NO_COLOR && env.TERM !== 'dumb';
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What failed or could not run, in one line: "2 checks failed: healthcheck, size-budget". */
function checkOutcome(report: AuditReport, failed: string[] = report.checks.filter((c) => c.status === 'fail').map((c) => c.id)): string[] {
  const errored = report.checks.filter((c) => c.status === 'error').map((c) => c.id);
  const parts: string[] = [];
  if (errored.length) parts.push(`${plural(errored.length, 'check')} could not run: ${errored.join(', ')}`);
  if (failed.length) parts.push(`${plural(failed.length, 'check')} failed: ${failed.join(', ')}`);
  return parts;
}

const REGRESSION_NAMES = { size: 'image size growth', shutdown: 'shutdown time growth', healthy: 'time-to-healthy growth' } as const;

/** The one stderr line that says why the exit code is not 0, for a reader who gets no terminal report. */
function verdictLine(subject: Subject): string {
  if (subject.kind === 'audit') return `image-audit: ${checkOutcome(subject.report).join('; ')}`;
  const gate: GateReport = subject.report;
  const regressions = gate.regressions.map((r) => (r.kind === 'check' ? `${r.checkId} regressed` : REGRESSION_NAMES[r.kind]));
  const parts = [
    ...(regressions.length ? [`${plural(regressions.length, 'regression')}: ${regressions.join(', ')}`] : []),
    ...checkOutcome(gate.candidate, gate.failures.map((f) => f.id)),
  ];
  const verdict = gate.verdict === 'do-not-ship' ? 'do not ship' : 'the candidate could not be fully audited';
  return `image-audit gate: ${verdict}: ${parts.join('; ')}`;
}

function writeOutputs(out: Outlets, subject: Subject, outputs: Output[], color: boolean, exitCode: number): void {
  for (const { format, file } of outputs) {
    const text = render(format, subject, { color: color && !file, toolVersion: pkg.version });
    if (file) out.file(file, text);
    else out.stdout(text);
  }
  // With every report in files, a summary still reaches the person at the terminal.
  if (outputs.every((o) => o.file)) out.stderr(render('tty', subject, { color: false, toolVersion: pkg.version }));
  // Without a terminal report on stdout, stderr still says why the run did not pass, in one line.
  const terminalReport = outputs.some((o) => o.format === 'tty' && !o.file);
  if (exitCode !== 0 && !terminalReport) out.stderr(`${verdictLine(subject)}\n`);
}

/** A line for the terminal: masked first, then made safe and cut (a cut must never split a secret out of the mask's reach). */
const terminalLine = (out: Outlets, text: string, maxChars: number) => sanitizeForTerminal(out.redact(text), maxChars);

function progress(out: Outlets) {
  const tty = process.stderr.isTTY === true;
  let shown = 0;
  const clear = () => {
    if (tty && shown) out.stderr(`\r${' '.repeat(shown)}\r`);
    shown = 0;
  };
  // Without a terminal (CI logs), a line at most every 10 s, so a long health wait is never silent.
  let lastLogged = performance.now();
  const status = (line: string) => {
    if (!tty) {
      if (performance.now() - lastLogged < 10_000) return;
      lastLogged = performance.now();
      out.stderr(`image-audit: ${terminalLine(out, line, MAX_MESSAGE_CHARS)}\n`);
      return;
    }
    const text = terminalLine(out, line, (process.stderr.columns || 100) - 1);
    out.stderr(`\r${text.padEnd(shown)}`);
    shown = text.length;
  };
  return {
    clear,
    callbacks: {
      onStatus: status,
      onBuildProgress: tty ? (line: string) => status(`build: ${line.trim()}`) : undefined,
      onNotice: (line: string) => {
        clear();
        out.stderr(`image-audit: ${terminalLine(out, line, MAX_MESSAGE_CHARS)}\n`);
      },
    },
  };
}

type Progress = ReturnType<typeof progress>;

/** SIGINT/SIGTERM abort the run's signal; a second one ends the process at once. */
function interruptible(out: Outlets, shown: Progress) {
  const controller = new AbortController();
  let caught: Interrupt | undefined;
  // Once aborted, an error a destroyed stream throws with no listener is the abort's doing: it must not
  // end the process before the audit has removed its containers.
  const afterAbort = () => undefined;
  const on = (signal: Interrupt) => () => {
    if (caught) process.exit(INTERRUPT_EXIT[signal]);
    caught = signal;
    shown.clear();
    out.stderr(`image-audit: ${signal}: stopping the audit and removing its containers\n`);
    process.on('uncaughtException', afterAbort);
    controller.abort(signal);
  };
  const handlers = { SIGINT: on('SIGINT'), SIGTERM: on('SIGTERM') };
  process.on('SIGINT', handlers.SIGINT);
  process.on('SIGTERM', handlers.SIGTERM);
  return {
    signal: controller.signal,
    caught: () => caught,
    dispose() {
      process.off('SIGINT', handlers.SIGINT);
      process.off('SIGTERM', handlers.SIGTERM);
      process.off('uncaughtException', afterAbort);
    },
  };
}

/** What a command needs from the run: the progress display and the interrupt signal. */
export interface RunContext {
  out: Outlets;
  shown: Progress;
  signal: AbortSignal;
}

export function parse(command: Command, argv: string[], out: Outlets): number | undefined {
  // Commander's help and errors leave through the outlets too (an error quotes the arguments).
  command.configureOutput({ writeOut: (text) => out.stdout(text), writeErr: (text) => out.stderr(text) });
  try {
    command.parse(argv, { from: 'user' });
    return undefined;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
}

/** The reports are written only for a run that was not interrupted: a partial audit is no verdict. */
function throwIfInterrupted(signal: AbortSignal): void {
  if (signal.aborted) throw new Error(`interrupted by ${String(signal.reason)}`);
}

async function auditCommand(args: string[], { out, shown, signal }: RunContext): Promise<number> {
  const command = withAuditFlags(
    new Command('image-audit')
      .description('Prove, by running it, that a Node.js container image is production-ready.\nAlso: image-audit gate --help, image-audit fleet --help, image-audit merge --help')
      .argument('<target>', 'a build context directory, or an image reference already in the daemon')
      .version(pkg.version, '-V, --version'),
  );
  const early = parse(command, args, out);
  if (early !== undefined) return early;
  const target = command.args[0];
  const run = resolveInvocation(command, target);
  const docker = enginePortFor(command.opts().context, shown.callbacks.onNotice);
  const report = await audit(target, { ...run.options, ...shown.callbacks, signal, redactor: out.redactor }, { docker }).finally(shown.clear);
  throwIfInterrupted(signal);
  const code = exitCodeFor(report);
  writeOutputs(out, { kind: 'audit', report }, run.outputs, run.color, code);
  return code;
}

/** The gate's thresholds given on the command line (only those: the config's and the defaults are under them). */
export function thresholdsFrom(o: Record<string, string | undefined>): Partial<GateThresholds> {
  const out: Partial<GateThresholds> = {};
  const number = (flag: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!value.trim() || !Number.isFinite(n) || n < 0) throw new UsageError(`Bad ${flag} "${value}": a percentage such as 10`);
    return n;
  };
  const read = <T>(flag: string, value: string | undefined, parse: (v: string) => T | undefined): T | undefined => {
    if (value === undefined) return undefined;
    let parsed: T | undefined;
    try {
      parsed = parse(value);
    } catch (err) {
      if (err instanceof UsageError) throw new UsageError(`Bad ${flag} "${value}": ${err.message}`);
      throw err;
    }
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

/** The gate's flags: the baseline and the thresholds (`gate`, and `fleet --gate`). */
export function withGateFlags(command: Command): Command {
  return command
    .option('-b, --baseline <image>', "baseline image, or 'auto': the highest semver tag of the same repository below the candidate's")
    .option('--max-size-growth <percent>', 'size growth that fails the gate (default: 10)')
    .option('--max-size-growth-bytes <size>', 'also fail above this absolute growth')
    .option('--max-shutdown-growth <percent>', 'shutdown time growth that fails the gate, when also above --max-shutdown-growth-ms (default: 50)')
    .option('--max-shutdown-growth-ms <duration>', '(default: 1s)')
    .option('--max-healthy-growth <percent>', 'time-to-healthy growth that fails the gate, when also above --max-healthy-growth-ms (default: 50)')
    .option('--max-healthy-growth-ms <duration>', '(default: 2s)');
}

async function gateCommand(args: string[], { out, shown, signal }: RunContext): Promise<number> {
  const command = withAuditFlags(
    withGateFlags(
      new Command('image-audit gate')
        .description('May this image ship? Audit the candidate, compare it with the baseline (the previous release), exit 0 to ship.')
        .argument('<candidate>', 'image reference (or build context) of the release candidate'),
    ),
  );
  const early = parse(command, args, out);
  if (early !== undefined) return early;
  const candidate = command.args[0];
  const o = command.opts();
  const thresholds = thresholdsFrom(o);
  const run = resolveInvocation(command, candidate);
  const { gate, gateExitCode } = await import('../gate/gate.js');
  const report = await gate(candidate, {
    ...run.options,
    ...shown.callbacks,
    signal,
    redactor: out.redactor,
    baseline: o.baseline ?? run.gate?.baseline,
    thresholds: { ...run.gate, ...thresholds },
  }, { docker: enginePortFor(o.context, shown.callbacks.onNotice) }).finally(shown.clear);
  throwIfInterrupted(signal);
  const code = gateExitCode(report);
  writeOutputs(out, { kind: 'gate', report }, run.outputs, run.color, code);
  return code;
}

function explain(out: Outlets, err: unknown): number {
  const line = (text: string) => terminalLine(out, text, MAX_MESSAGE_CHARS);
  const outputLine = (text: string) => terminalLine(out, text, MAX_OUTPUT_CHARS);
  if (err instanceof AuditError) {
    // Messages can quote the daemon or the build; each line is made safe for the terminal.
    const [first, ...rest] = err.message.split('\n');
    out.stderr(`image-audit: ${[line(first), ...rest.map(line)].join('\n')}\n`);
    if (err instanceof BuildFailedError && err.output.length) {
      out.stderr(`output of ${line(err.failingStep ?? 'the failing step')}:\n${err.output.map((l) => `  ${outputLine(l)}`).join('\n')}\n`);
    } else if (err.detail.length) out.stderr(`${err.detail.map((l) => `  ${outputLine(l)}`).join('\n')}\n`);
    return err.exitCode;
  }
  out.stderr(`image-audit: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
  return 3;
}

/** Runs one command and sets process.exitCode; the process then ends by itself (nothing is left open). */
export async function runCli(argv: string[]): Promise<void> {
  const args = argv.slice(2);
  const out = createOutlets();
  const notice = nodeEnvFileNotice(args);
  if (notice) out.stderr(`image-audit: ${notice}\n`);
  const shown = progress(out);
  const interrupt = interruptible(out, shown);
  const context: RunContext = { out, shown, signal: interrupt.signal };
  try {
    process.exitCode = await (args[0] === 'gate'
      ? gateCommand(args.slice(1), context)
      : args[0] === 'fleet' || args[0] === 'merge'
        ? fleetCommand(args[0], args.slice(1), context)
        : auditCommand(args, context));
    const stdoutFailure = out.stdoutFailure();
    if (stdoutFailure) throw stdoutFailure;
  } catch (err) {
    const caught = interrupt.caught();
    if (caught) {
      out.stderr('image-audit: interrupted: no report written\n');
      process.exitCode = INTERRUPT_EXIT[caught];
    } else process.exitCode = explain(out, err);
  } finally {
    interrupt.dispose();
  }
  // The process ends by itself once nothing is open. Two known leftovers keep a socket open: a ping
  // that timed out without being aborted (a daemon that accepts and never answers), and an image
  // export (GET /images/{id}/get) still streaming after an abort. This timer, unref'd, ends the
  // process only then.
  setTimeout(() => process.exit(process.exitCode), 250).unref();
}
