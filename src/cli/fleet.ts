// The fleet commands, started by ./run.ts:
//   image-audit fleet [TARGET...] [--engine NAME_OR_URL]... [--jobs N] [--shard K/N] [--fleet-file FILE] [audit options]
//   image-audit merge REPORT.json... [--format F] [-o FILE] [--report FORMAT=FILE]...
// A fleet is the single audit applied to each target (same options, same report) plus a merge: the
// fleet report holds each target's single-audit report as it is, and every format of it is computed
// from those alone (src/fleet/report.ts), so `merge` of shards and a one-process fleet agree.
import { Command, Option } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { audit } from '../audit.js';
import type { CallerOptions } from '../config/resolve.js';
import { enginePort } from '../docker/dockerode-port.js';
import { engineFromSpec, selectEngine, type Engine } from '../docker/engine.js';
import { UsageError } from '../errors.js';
import { connectEngines } from '../fleet/engines.js';
import { FLEET_FILE, readFleetFile } from '../fleet/file.js';
import { fleetReport, mergeReports, type FleetReport } from '../fleet/report.js';
import { runFleet } from '../fleet/schedule.js';
import { inShard, parseShard } from '../fleet/shard.js';
import { resolveFleetTargets } from '../fleet/targets.js';
import { renderFleet } from '../report/fleet-render.js';
import { fleetProgressLine } from '../report/fleet-tty.js';
import { FORMATS } from '../report/render.js';
import { sanitizeForTerminal } from '../report/sanitize.js';
import { callerOptions, outputsFrom, parse, prepareOutputs, withAuditFlags, type Output, type RunContext } from './run.js';
import type { Outlets } from './outlets.js';

/** Our package.json, found upwards from here: this module is in src/cli, dist/cli or a chunk folder of the bundle. */
function ownPackage(): { version: string } {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const json = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version: string };
      if (json.name === 'node-image-audit') return json;
    }
    if (path.dirname(dir) === dir) return { version: '0.0.0' };
  }
}
const pkg = ownPackage();

const collect = (value: string, previous: string[] = []) => [...previous, value];

function parseJobs(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > 256) throw new UsageError(`Bad --jobs "${value}": a whole number from 1 to 256 (audits at a time per engine)`);
  return n;
}

/** The engine a single audit would use (DOCKER_HOST, --context, DOCKER_CONTEXT, the current context), saying what overrides what. */
function currentEngine(context: string | undefined, notice: (line: string) => void): Engine {
  const selected = selectEngine({ context });
  if (selected.notice) notice(selected.notice);
  return selected.engine;
}

const colorWanted = (o: Record<string, unknown>) => o.color !== false && !process.env.NO_COLOR && process.stdout.isTTY === true;

/** Each report asked for; with every report in files, the table still reaches the terminal; a non-zero exit says why on stderr. */
function writeFleetOutputs(out: Outlets, report: FleetReport, outputs: Output[], color: boolean, ttyShownLive: boolean): void {
  for (const { format, file } of outputs) {
    const text = renderFleet(format, report, { color: color && !file, toolVersion: pkg.version });
    if (file) out.file(file, text);
    else out.stdout(text);
  }
  if (outputs.every((o) => o.file)) out.stderr(renderFleet('tty', report, { color: false, toolVersion: pkg.version }));
  const terminalReport = ttyShownLive || outputs.some((o) => o.format === 'tty' && !o.file);
  const s = report.summary;
  if (s.exitCode !== 0 && !terminalReport) {
    const bad = report.targets.filter((t) => t.exitCode !== 0).map((t) => t.name);
    const shown = bad.slice(0, 10).join(', ') + (bad.length > 10 ? `, … (${bad.length - 10} more)` : '');
    out.stderr(`image-audit fleet: ${s.fail} target${s.fail === 1 ? '' : 's'} failed, ${s.couldNotAudit} could not be audited: ${sanitizeForTerminal(shown, 1000)}\n`);
  }
}

async function fleetRun(args: string[], { out, signal }: RunContext): Promise<number> {
  const command = withAuditFlags(
    new Command('image-audit fleet')
      .description(
        'Audit many targets (build contexts, globs of them, image references) across Docker engines, with one report.\n' +
          'Every audit option applies to each target, over its own config file (see docs/fleet.md).',
      )
      .argument('[targets...]', 'build context folders, globs of them (quote them: "services/*"), image references, or names of fleet file entries')
      .option('--engine <name-or-url>', 'a docker context name or a unix://, tcp://, ssh:// URL (repeatable; default: the current engine)', collect)
      .option('--jobs <n>', "audits at a time per engine (default: the engine's CPU count)")
      .option('--shard <K/N>', 'audit only shard K of N: a deterministic split of the targets for a CI matrix')
      .option('--fleet-file <file>', `the fleet file (default: ./${FLEET_FILE} when it exists)`),
  );
  const early = parse(command, args, out);
  if (early !== undefined) return early;
  const o = command.opts();
  const notice = (line: string) => out.stderr(`image-audit: ${sanitizeForTerminal(out.redact(line), 2000)}\n`);

  // Everything a user can get wrong, before any engine is asked anything.
  const outputs = outputsFrom(o);
  const file = o.fleetFile ? readFleetFile(o.fleetFile) : existsSync(FLEET_FILE) ? readFleetFile(FLEET_FILE) : undefined;
  const shard = o.shard ? parseShard(o.shard) : undefined;
  const jobsPerEngine = o.jobs ? parseJobs(o.jobs) : file?.jobs;
  if (o.context && o.engine?.length) throw new UsageError('Give the fleet its engines with --engine (repeatable), not --context');
  const caller: CallerOptions = callerOptions(o);
  const all = resolveFleetTargets({ args: command.args, file, configPath: o.config, caller, onNotice: notice });
  const jobs = inShard(all, shard);
  const engines: Engine[] = o.engine?.length
    ? (o.engine as string[]).map((e) => engineFromSpec(e))
    : file?.engines
      ? file.engines.map((e) => engineFromSpec(e))
      : [currentEngine(o.context, notice)];
  prepareOutputs(outputs);
  const color = colorWanted(o);
  if (shard) notice(`shard ${shard.index}/${shard.count}: ${jobs.length} of ${all.length} targets`);
  if (!jobs.length) {
    writeFleetOutputs(out, fleetReport([]), outputs, color, false);
    return 0;
  }

  const { ready, unreachable } = await connectEngines(engines, (engine) => enginePort(engine), jobsPerEngine);
  for (const u of unreachable) notice(`engine ${u.name} does not answer, left out: ${u.why}`);
  notice(`${jobs.length} target${jobs.length === 1 ? '' : 's'} on ${ready.map((e) => `${e.name} (${e.jobs} at a time)`).join(', ')}`);

  // A line per target as it ends: on stdout when the terminal report goes there, else on stderr.
  const liveOnStdout = outputs.some((x) => x.format === 'tty' && !x.file);
  let done = 0;
  const results = await runFleet(jobs, ready, {
    signal,
    audit: (job, engine, jobSignal) =>
      audit(job.auditTarget, { ...job.options, signal: jobSignal, redactor: out.redactor, onNotice: (line) => notice(`${job.name}: ${line}`) }, { docker: engine.port }),
    onDone: (target) => {
      done++;
      const line = fleetProgressLine(target, done, jobs.length, { color: liveOnStdout ? color : false });
      if (liveOnStdout) out.stdout(line);
      else out.stderr(line);
    },
    onNotice: notice,
  });
  const report = fleetReport(results);
  if (liveOnStdout) out.stdout('\n');
  writeFleetOutputs(out, report, outputs, color, liveOnStdout);
  return report.summary.exitCode;
}

async function mergeRun(args: string[], { out }: RunContext): Promise<number> {
  const command = new Command('image-audit merge')
    .description('Merge fleet reports (the JSON of each shard, or single audits) into one fleet report, in any format.')
    .argument('<reports...>', 'JSON reports: of `image-audit fleet --format json` (a shard), or of single audits')
    .addOption(new Option('--format <format>', 'report format on stdout (default: tty)').choices([...FORMATS]))
    .option('-o, --output <file>', 'write the --format report to a file instead of stdout')
    .option('--report <FORMAT=FILE>', `also write a report to FILE (repeatable; formats: ${FORMATS.join(', ')})`, collect)
    .option('--no-color', 'plain output')
    .showHelpAfterError()
    .exitOverride();
  const early = parse(command, args, out);
  if (early !== undefined) return early;
  const o = command.opts();
  const outputs = outputsFrom(o);
  const inputs = (command.args as string[]).map((file) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`Cannot read ${file}: ${(err as Error).message}`);
    }
    try {
      return { file, json: JSON.parse(text.replace(/^\uFEFF/, '')) as unknown };
    } catch (err) {
      throw new UsageError(`${file} is not JSON: ${(err as Error).message}`);
    }
  });
  const report = mergeReports(inputs);
  prepareOutputs(outputs);
  writeFleetOutputs(out, report, outputs, colorWanted(o), false);
  return report.summary.exitCode;
}

export async function fleetCommand(name: 'fleet' | 'merge', args: string[], run: RunContext): Promise<number> {
  return name === 'merge' ? mergeRun(args, run) : fleetRun(args, run);
}
