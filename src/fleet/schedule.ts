// The fleet's work queue: targets in order, each engine taking the next one its free slots can run
// (`jobs` at a time per engine), so a faster engine takes more. No scheduler beyond that.
//
// Faults: an audit that ends in an error (thrown, or a report with a check that could not run) makes us
// ask its engine whether it still answers (a ping). One that does not is lost: the audits still running
// on it are stopped, and each of its unfinished targets is retried once on another engine; a target
// with no engine left is `could not audit`, naming the engine. A report is only kept from an engine
// that was answering when the report was made: never a verdict observed through a dead engine. An
// image reference missing on one engine (nothing is pulled) is tried on the others.
// The caller's signal (Ctrl-C) stops every audit; each removes its containers on its engine; nothing
// is reported.
//
// The queue runs any work of a target that yields a result (`scheduleFleet`): the single audit
// (`runFleet`: a report per target) or the release gate (`fleet --gate`: a gate report per target).
import { AuditInterruptedError, ImageNotFoundError, UsageError, type AuditError } from '../errors.js';
import type { AuditReport } from '../types.js';
import type { FleetEngine } from './engines.js';
import { auditedTarget, type FleetTarget } from './report.js';
import type { FleetJob } from './targets.js';

/** How many engines a target may go to after the one it started on stopped answering. */
const ENGINE_LOSS_RETRIES = 1;

export interface ScheduleOptions {
  signal: AbortSignal;
  /** One single audit of `job` on `engine`, stopped by `signal`. */
  audit(job: FleetJob, engine: FleetEngine, signal: AbortSignal): Promise<AuditReport>;
  /** Does the engine still answer? Default: its port's ping. */
  answers?(engine: FleetEngine): Promise<boolean>;
  onStart?(job: FleetJob, engine: FleetEngine): void;
  onDone?(target: FleetTarget): void;
  onNotice?(line: string): void;
}

/** Where a target's work ended: the engine that made the result (or was tried last), and the earlier attempts. */
export interface Placement {
  target: string;
  name: string;
  engine: string;
  attempts?: Array<{ engine: string; error: string }>;
}

export interface WorkOptions<J extends FleetJob, R, T> {
  signal: AbortSignal;
  /** The work of one target on `engine`, stopped by `signal`. */
  run(job: J, engine: FleetEngine, signal: AbortSignal): Promise<R>;
  /** A check of the result could not run: the result is kept only if its engine still answers. */
  incomplete(result: R): boolean;
  /** The entry of a target whose work gave a result. */
  done(placement: Placement, result: R): T;
  /** The entry of a target whose work gave none: why, and the exit code of the error (2 usage, 3 could not). */
  failed(placement: Placement, error: { message: string; detail?: string[] }, exitCode: number): T;
  answers?(engine: FleetEngine): Promise<boolean>;
  onStart?(job: J, engine: FleetEngine): void;
  onDone?(entry: T): void;
  onNotice?(line: string): void;
}

/** The single audit of every target: its report, as `image-audit <target>` would give it. */
export function runFleet(jobs: FleetJob[], engines: FleetEngine[], opts: ScheduleOptions): Promise<FleetTarget[]> {
  const { audit, ...rest } = opts;
  return scheduleFleet(jobs, engines, {
    ...rest,
    run: audit,
    incomplete: (report) => report.summary.error > 0,
    done: (placement, report) => auditedTarget(placement, report),
    failed: ({ target, name, engine, attempts }, error, exitCode) => ({ target, name, engine, exitCode, report: null, error, ...(attempts?.length && { attempts }) }),
  });
}

interface Pending<J> {
  job: J;
  /** Engines it was tried on, in order. */
  tried: string[];
  attempts: Array<{ engine: string; error: string; lost: boolean }>;
}

interface EngineState {
  fleet: FleetEngine;
  running: number;
  alive: boolean;
  /** Aborted when the engine is found lost: stops the audits still running on it. */
  lost: AbortController;
  checking?: Promise<boolean>;
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

export async function scheduleFleet<J extends FleetJob, R, T>(jobs: J[], engines: FleetEngine[], opts: WorkOptions<J, R, T>): Promise<T[]> {
  type P = Pending<J>;
  const states: EngineState[] = engines.map((fleet) => ({ fleet, running: 0, alive: true, lost: new AbortController() }));
  const queue: P[] = jobs.map((job) => ({ job, tried: [], attempts: [] }));
  const results: T[] = [];
  const inflight = new Set<Promise<void>>();

  const answers = (state: EngineState): Promise<boolean> => {
    if (!state.alive) return Promise.resolve(false);
    state.checking ??= (opts.answers ? opts.answers(state.fleet) : state.fleet.port.ping().then(() => true, () => false)).finally(() => {
      state.checking = undefined;
    });
    return state.checking;
  };

  const lose = (state: EngineState, why: string) => {
    if (!state.alive) return;
    state.alive = false;
    const unfinished = state.running + queue.filter((p) => p.tried.at(-1) === state.fleet.name).length;
    opts.onNotice?.(`engine ${state.fleet.name} stopped answering (${why}): it is left out${unfinished ? `; its unfinished targets are retried on another engine` : ''}`);
    state.lost.abort(new Error(`engine ${state.fleet.name} stopped answering`));
  };

  const finish = (entry: T) => {
    results.push(entry);
    opts.onDone?.(entry);
  };

  const publicAttempts = (p: P) => p.attempts.map(({ engine, error }) => ({ engine, error }));
  const placement = (p: P, engine: string): Placement => ({ target: p.job.target, name: p.job.name, engine, ...(p.attempts.length && { attempts: publicAttempts(p) }) });

  const notAudited = (p: P, engine: string, message: string, detail: string[] = [], exitCode = 3) =>
    finish(opts.failed(placement(p, engine), { message, ...(detail.length && { detail }) }, exitCode));

  /** Back in the queue for another engine, unless it has used its retries. */
  const retry = (p: P, state: EngineState, error: string, lost: boolean) => {
    p.tried.push(state.fleet.name);
    p.attempts.push({ engine: state.fleet.name, error, lost });
    const losses = p.attempts.filter((a) => a.lost).length;
    if (lost && losses > ENGINE_LOSS_RETRIES) {
      p.attempts.pop();
      notAudited(p, state.fleet.name, `engine ${state.fleet.name} stopped answering (${error}), and the target was already retried once`);
      return;
    }
    queue.push(p);
  };

  const run = async (p: P, state: EngineState) => {
    const name = state.fleet.name;
    const signal = AbortSignal.any([opts.signal, state.lost.signal]);
    opts.onStart?.(p.job, state.fleet);
    try {
      const result = await opts.run(p.job, state.fleet, signal);
      if (opts.signal.aborted) return;
      // A check that could not run may be the engine's doing: keep the result only if the engine still answers.
      if (state.lost.signal.aborted || (opts.incomplete(result) && !(await answers(state)))) {
        lose(state, 'a check could not run, and it no longer answers');
        retry(p, state, `engine ${name} stopped answering during the audit`, true);
        return;
      }
      finish(opts.done(placement(p, name), result));
    } catch (err) {
      if (opts.signal.aborted) return;
      if (state.lost.signal.aborted) {
        retry(p, state, `engine ${name} stopped answering`, true);
        return;
      }
      if (err instanceof UsageError) {
        notAudited(p, name, err.message, err.detail, 2);
        return;
      }
      if (!(await answers(state))) {
        lose(state, messageOf(err));
        retry(p, state, messageOf(err), true);
        return;
      }
      if (err instanceof ImageNotFoundError && states.some((s) => s.alive && s !== state && !p.tried.includes(s.fleet.name))) {
        retry(p, state, messageOf(err), false);
        return;
      }
      notAudited(p, name, messageOf(err), (err as AuditError).detail ?? [], (err as AuditError).exitCode ?? 3);
    }
  };

  const start = (p: P, state: EngineState) => {
    state.running++;
    const task = run(p, state).finally(() => {
      state.running--;
      inflight.delete(task);
    });
    inflight.add(task);
  };

  const aborted = new Promise<void>((resolve) => {
    if (opts.signal.aborted) resolve();
    else opts.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  for (;;) {
    if (opts.signal.aborted) {
      // Every audit removes its containers as it stops: wait for all of them before saying so.
      await Promise.allSettled([...inflight]);
      throw new AuditInterruptedError(String(opts.signal.reason?.message ?? opts.signal.reason ?? 'interrupted'));
    }
    for (const state of states) {
      while (state.alive && state.running < state.fleet.jobs) {
        const i = queue.findIndex((p) => !p.tried.includes(state.fleet.name));
        if (i < 0) break;
        start(queue.splice(i, 1)[0], state);
      }
    }
    // A target no engine left can take: could not audit, naming the engine it was last on.
    for (const p of [...queue]) {
      if (states.some((s) => s.alive && !p.tried.includes(s.fleet.name))) continue;
      queue.splice(queue.indexOf(p), 1);
      const last = p.attempts.at(-1);
      const engine = last?.engine ?? states[0].fleet.name;
      p.attempts.pop();
      notAudited(
        p,
        engine,
        last?.lost
          ? `engine ${engine} stopped answering (${last.error}), and no other engine is left to retry on`
          : (last?.error ?? 'no engine answers'),
      );
    }
    if (!inflight.size) break;
    await Promise.race([...inflight, aborted]);
  }
  return results;
}
