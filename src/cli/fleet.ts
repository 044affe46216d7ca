// The fleet commands, started by ./run.ts:
//   image-audit fleet [TARGET...] [--engine NAME_OR_URL]... [--jobs N] [--shard K/N] [--fleet-file FILE] [audit options]
//   image-audit fleet --gate [--baseline auto|IMAGE] [gate thresholds] [TARGET...] [the same options]
//   image-audit merge REPORT.json... [--format F] [-o FILE] [--report FORMAT=FILE]...
// A fleet is the single audit applied to each target (same options, same report) plus a merge: the
// fleet report holds each target's single-audit report as it is, and every format of it is computed
// from those alone (src/fleet/report.ts), so `merge` of shards and a one-process fleet agree. With
// --gate each target is gated against its own baseline instead (src/fleet/gate.ts), the same way.
import { Command, Option } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { audit } from '../audit.js';
import { gate } from '../gate/gate.js';
import type { CallerOptions } from '../config/resolve.js';
import { enginePort } from '../docker/dockerode-port.js';
import { engineFromSpec, selectEngine, type Engine } from '../docker/engine.js';
import { UsageError } from '../errors.js';
import { connectEngines } from '../fleet/engines.js';
import { FLEET_FILE, readFleetFile } from '../fleet/file.js';
import { gateJobs, gatedFleetReport, gatedTarget, isGateReport, isGatedFleetReport, mergeGatedReports, notGatedTarget, type GatedFleetReport, type GatedTarget } from '../fleet/gate.js';
import { fleetReport, mergeReports, type FleetReport } from '../fleet/report.js';
import { runFleet, scheduleFleet } from '../fleet/schedule.js';
import { inShard, parseShard } from '../fleet/shard.js';
import { resolveFleetTargets } from '../fleet/targets.js';
import { renderFleet } from '../report/fleet-render.js';
import { gatedProgressLine } from '../report/fleet-gate.js';
import { fleetProgressLine } from '../report/fleet-tty.js';
import { FORMATS } from '../report/render.js';
import { sanitizeForTerminal } from '../report/sanitize.js';
import { callerOptions, outputsFrom, parse, prepareOutputs, thresholdsFrom, withAuditFlags, withGateFlags, type Output, type RunContext } from './run.js';
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
function writeFleetOutputs(out: Outlets, report: FleetReport | GatedFleetReport, outputs: Output[], color: boolean, ttyShownLive: boolean): void {
  for (const { format, file } of outputs) {
    const text = renderFleet(format, report, { color: color && !file, toolVersion: pkg.version });
    if (file) out.file(file, text);
    else out.stdout(text);
  }
  if (outputs.every((o) => o.file)) out.stderr(renderFleet('tty', report, { color: false, toolVersion: pkg.version }));
  const terminalReport = ttyShownLive || outputs.some((o) => o.format === 'tty' && !o.file);
  const s = report.summary;
  if (s.exitCode !== 0 && !terminalReport) {
    const bad = (report.targets as Array<{ name: string; exitCode: number }>).filter((t) => t.exitCode !== 0).map((t) => t.name);
    const shown = bad.slice(0, 10).join(', ') + (bad.length > 10 ? `, … (${bad.length - 10} more)` : '');
    const counts =
      'kind' in report
        ? `${report.summary.verdict === 'could-not-gate' ? 'could not gate' : 'do not ship'}: ${report.summary.doNotShip} target${report.summary.doNotShip === 1 ? '' : 's'} may not ship, ${report.summary.couldNotGate} could not be gated`
        : `${report.summary.fail} target${report.summary.fail === 1 ? '' : 's'} failed, ${report.summary.couldNotAudit} could not be audited`;
    out.stderr(`image-audit fleet${'kind' in report ? ' --gate' : ''}: ${counts}: ${sanitizeForTerminal(shown, 1000)}\n`);
  }
}

async function fleetRun(args: string[], { out, signal }: RunContext): Promise<number> {
  const command = withAuditFlags(
    withGateFlags(
      new Command('image-audit fleet')
        .description(
          'Audit many targets (build contexts, globs of them, image references) across Docker engines, with one report.\n' +
            'Every audit option applies to each target, over its own config file (see docs/fleet.md).\n' +
            'With --gate, gate each target against its own baseline instead: a verdict per target and one for the fleet.',
        )
        .argument('[targets...]', 'build context folders, globs of them (quote them: "services/*"), image references, or names of fleet file entries')
        .option('--engine <name-or-url>', 'a docker context name or a unix://, tcp://, ssh:// URL (repeatable; default: the current engine)', collect)
        .option('--jobs <n>', "audits (or gates) at a time per engine (default: the engine's CPU count)")
        .option('--shard <K/N>', 'audit only shard K of N: a deterministic split of the targets for a CI matrix')
        .option('--fleet-file <file>', `the fleet file (default: ./${FLEET_FILE} when it exists)`)
        .option('--gate', "gate each target against its own baseline (--baseline, or gate.baseline in its fleet file entry or config): SHIP or DO NOT SHIP per target, and for the fleet"),
    ),
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
  const gateFlags = { baseline: o.baseline as string | undefined, thresholds: thresholdsFrom(o) };
  if (!o.gate && (gateFlags.baseline !== undefined || Object.keys(gateFlags.thresholds).length)) {
    throw new UsageError('--baseline and the --max-…-growth thresholds gate the fleet: add --gate');
  }
  const resolved = resolveFleetTargets({ args: command.args, file, configPath: o.config, caller, onNotice: notice });
  // Every target that cannot be gated whatever the engines hold (no baseline, `auto` for a build context) is named now.
  const gatedJobs = o.gate ? inShard(gateJobs(resolved, gateFlags), shard) : undefined;
  const jobs = gatedJobs ?? inShard(resolved, shard);
  const engines: Engine[] = o.engine?.length
    ? (o.engine as string[]).map((e) => engineFromSpec(e))
    : file?.engines
      ? file.engines.map((e) => engineFromSpec(e))
      : [currentEngine(o.context, notice)];
  prepareOutputs(outputs);
  const color = colorWanted(o);
  if (shard) notice(`shard ${shard.index}/${shard.count}: ${jobs.length} of ${resolved.length} targets`);
  if (!jobs.length) {
    writeFleetOutputs(out, o.gate ? gatedFleetReport([]) : fleetReport([]), outputs, color, false);
    return 0;
  }

  const { ready, unreachable } = await connectEngines(engines, (engine) => enginePort(engine), jobsPerEngine);
  for (const u of unreachable) notice(`engine ${u.name} does not answer, left out: ${u.why}`);
  notice(`${jobs.length} target${jobs.length === 1 ? '' : 's'} on ${ready.map((e) => `${e.name} (${e.jobs} at a time)`).join(', ')}`);

  // A line per target as it ends: on stdout when the terminal report goes there, else on stderr.
  const liveOnStdout = outputs.some((x) => x.format === 'tty' && !x.file);
  let done = 0;
  const live = (line: string) => (liveOnStdout ? out.stdout(line) : out.stderr(line));
  if (gatedJobs) {
    const gated = await scheduleFleet(gatedJobs, ready, {
      signal,
      run: (job, engine, jobSignal) =>
        gate(
          job.auditTarget,
          { ...job.options, signal: jobSignal, redactor: out.redactor, onNotice: (line) => notice(`${job.name}: ${line}`), baseline: job.baseline, thresholds: job.thresholds, requireBaseline: true },
          { docker: engine.port },
        ),
      // Either side's check that could not run may be the engine's doing.
      incomplete: (g) => g.candidate.summary.error > 0 || (g.baseline?.report.summary.error ?? 0) > 0,
      done: gatedTarget,
      failed: notGatedTarget,
      onDone: (target: GatedTarget) => live(gatedProgressLine(target, ++done, jobs.length, { color: liveOnStdout ? color : false })),
      onNotice: notice,
    });
    const report = gatedFleetReport(gated);
    if (liveOnStdout) out.stdout('\n');
    writeFleetOutputs(out, report, outputs, color, liveOnStdout);
    return report.summary.exitCode;
  }
  const results = await runFleet(jobs, ready, {
    signal,
    audit: (job, engine, jobSignal) =>
      audit(job.auditTarget, { ...job.options, signal: jobSignal, redactor: out.redactor, onNotice: (line) => notice(`${job.name}: ${line}`) }, { docker: engine.port }),
    onDone: (target) => live(fleetProgressLine(target, ++done, jobs.length, { color: liveOnStdout ? color : false })),
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
  const report = mergeAny(inputs);
  prepareOutputs(outputs);
  writeFleetOutputs(out, report, outputs, colorWanted(o), false);
  return report.summary.exitCode;
}

/** Gate reports (of `fleet --gate` shards, or single gates) merge into a gated fleet; audit reports into an audit fleet; never both. */
function mergeAny(inputs: Array<{ file: string; json: unknown }>): FleetReport | GatedFleetReport {
  const gated = inputs.filter((i) => isGatedFleetReport(i.json) || isGateReport(i.json));
  if (!gated.length) return mergeReports(inputs);
  if (gated.length < inputs.length) {
    const other = inputs.find((i) => !gated.includes(i))!;
    throw new UsageError(`Cannot merge gate reports (${gated[0].file}) with audit reports (${other.file}): merge the shards of one kind of fleet`);
  }
  return mergeGatedReports(inputs);
}

export async function fleetCommand(name: 'fleet' | 'merge', args: string[], run: RunContext): Promise<number> {
  return name === 'merge' ? mergeRun(args, run) : fleetRun(args, run);
}
