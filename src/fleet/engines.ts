// The engines of a fleet: each `--engine` (a context name or a URL), else the fleet file's `engines`,
// else the one a single audit would use. Each is pinged at the start; one that does not answer is named
// and left out, and the fleet cannot run when none answers. An engine is known by the name or URL given:
// two engines on one host can report the same daemon ID, so /info cannot tell them apart.
import type { DockerPort } from '../docker/port.js';
import { describeEngine, type Engine } from '../docker/engine.js';
import { DaemonUnreachableError, UsageError } from '../errors.js';

export interface FleetEngine {
  engine: Engine;
  /** As the report and the messages name it. */
  name: string;
  port: DockerPort;
  /** Audits at a time on this engine. */
  jobs: number;
  cpus?: number;
}

/**
 * Audits at a time on an engine of `cpus` CPUs when --jobs is not given. An audit mostly waits (for
 * health, for the stop signal, for the daemon), but its build, its container's start and the image export
 * of the secrets check take a core each. Measured on 2 cores (docs/bench.md, "Fleet"): J = NCPU gets most
 * of the gain over J = 1; J = 2 × NCPU was not reliably faster on the loaded machine, and there it was
 * where checks began to hit their bounds (a check that could not run is exit 3), so NCPU is the default.
 */
export function defaultJobs(cpus: number | undefined): number {
  return Math.max(1, Math.min(cpus ?? 2, 32));
}

export interface ConnectResult {
  ready: FleetEngine[];
  unreachable: Array<{ name: string; why: string }>;
}

export async function connectEngines(engines: Engine[], portOf: (engine: Engine) => DockerPort, jobs?: number): Promise<ConnectResult> {
  const seen = new Set<string>();
  for (const e of engines) {
    if (seen.has(e.name)) throw new UsageError(`Engine "${e.name}" is given twice`);
    seen.add(e.name);
  }
  const probed = await Promise.all(
    engines.map(async (engine) => {
      const port = portOf(engine);
      try {
        await port.ping();
        const info = await port.info().catch(() => undefined);
        return { ok: true as const, engine: { engine, name: engine.name, port, jobs: jobs ?? defaultJobs(info?.cpus), ...(info?.cpus && { cpus: info.cpus }) } };
      } catch (err) {
        return { ok: false as const, name: engine.name, why: `${describeEngine(engine)}: ${(err as Error).message}` };
      }
    }),
  );
  const ready = probed.flatMap((p) => (p.ok ? [p.engine] : []));
  const unreachable = probed.flatMap((p) => (p.ok ? [] : [{ name: p.name, why: p.why }]));
  if (!ready.length) {
    throw new DaemonUnreachableError(`No engine of the fleet answers (${engines.map((e) => e.name).join(', ')})`, unreachable.map((u) => u.why));
  }
  return { ready, unreachable };
}
