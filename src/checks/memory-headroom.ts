// memory-headroom: the app's memory against the manifest's resources.limits.memory, which the audited
// container ran under. Idle: the cgroup's working set (usage minus inactive page cache, as `docker stats`
// shows it) once the app is up, through the stats API; peak: the node process's own high-water mark
// (VmHWM of /proc/<pid>/status, which the audit's exec'd helpers do not inflate). An OOM kill is the
// engine's own record (State.OOMKilled).
import { containerLocation } from '../manifest/location.js';
import type { LiveProbe } from '../lifecycle/probe.js';
import { formatBytes } from '../units.js';
import { lineWriter, logLines, notObserved, required, startRefused, verdict, type Check, type Verdict } from './check.js';
import { execNode, isUnavailable, unavailable, type Unavailable } from './probes/shared.js';

/** Headroom below this share of the limit is thin: a spike, a bigger payload or a leak tips it over. */
export const THIN_HEADROOM = 0.2;

export interface MemoryValue {
  idleBytes: number;
  usageBytes: number;
  /** The node process's resident set now (VmRSS) and at its peak (VmHWM), when read. */
  appRssBytes?: number;
  appPeakBytes?: number;
  limitBytes: number;
}

const READ_STATUS = `const s=require('fs').readFileSync('/proc/'+process.argv[1]+'/status','utf8');const kb=(k)=>{const m=new RegExp(k+':\\\\s+(\\\\d+) kB').exec(s);return m?Number(m[1])*1024:undefined};console.log(JSON.stringify({rss:kb('VmRSS'),hwm:kb('VmHWM')}));`;

export const memoryProbe: LiveProbe<MemoryValue | Unavailable> = {
  timeoutMs: 30_000,
  async whileUp(context) {
    const stats = await context.docker.memoryStats(context.containerId, { signal: context.signal });
    const value: MemoryValue = { idleBytes: stats.workingSetBytes, usageBytes: stats.usageBytes, limitBytes: stats.limitBytes };
    const pid = context.runtime?.pid;
    if (pid) {
      const run = await execNode(context, READ_STATUS, [String(pid)]).catch(() => undefined);
      if (run && !isUnavailable(run)) {
        try {
          const read = JSON.parse(run.stdout.trim()) as { rss?: number; hwm?: number };
          if (read.rss) value.appRssBytes = read.rss;
          if (read.hwm) value.appPeakBytes = read.hwm;
        } catch {
          // The cgroup figures stand alone.
        }
      }
    }
    if (!stats.usageBytes && !stats.limitBytes) return unavailable('the engine gave no memory figures in its stats');
    return value;
  },
};

const mb = (n: number) => formatBytes(n);

export const memoryHeadroom: Check = {
  id: 'memory-headroom',
  title: "Fits the manifest's memory limit with headroom",
  needs: ['image', 'lifecycle', 'runtime'],
  withManifest: true,
  probe: memoryProbe as LiveProbe,
  help: 'Set resources.limits.memory above what the app uses at its peak, with headroom (20% or more), or make the app use less (e.g. cap the V8 heap with --max-old-space-size below the limit).',
  run({ lifecycle, settings }): Verdict {
    const target = settings.manifest;
    if (!target) return verdict('skip', 'no --manifest was given: there is no resources.limits.memory to hold the app against');
    const life = required(lifecycle, 'lifecycle');
    const limit = target.run.memoryBytes;
    const limitText = target.container.resources?.limits?.memory;
    const at = containerLocation(target, limit !== undefined ? ['resources', 'limits', 'memory'] : ['name']);
    const lastLogLines = life.logs.slice(-10);
    const refused = startRefused(life, { lastLogLines });
    if (refused) return refused;
    const heapHint = `Raise resources.limits.memory above the app's peak with headroom, or make it use less: \`NODE_OPTIONS=--max-old-space-size=<about 75% of the limit in MiB>\` makes V8 collect before the kernel kills.`;
    const oom = life.exitedEarly?.oomKilled || life.shutdown?.oomKilled;
    if (oom) {
      return {
        ...verdict('fail', `the app was OOM-killed under limits.memory ${limitText ?? mb(settings.memoryBytes ?? 0)}${life.exitedEarly ? ' before it was stopped' : ' during its shutdown'}: Kubernetes would restart it in a loop (OOMKilled, CrashLoopBackOff)`, { limitBytes: limit ?? settings.memoryBytes, oomKilled: true, lastLogLines }, heapHint),
        location: at,
      };
    }
    const why = notObserved(life, settings);
    if (why) return verdict('error', `could not observe the app's memory: ${why}`, { lastLogLines });
    const outcome = life.probes['memory-headroom'];
    if (!outcome) return verdict('error', 'the memory probe did not run (the container stopped before it)', {});
    if (!outcome.ran) return verdict('error', `the memory probe could not run: ${outcome.reason}`, {});
    if (isUnavailable(outcome.value)) return verdict('skip', outcome.value.reason, {});
    const m = outcome.value as MemoryValue;
    // The larger of the cgroup's working set and the app's own resident set (some engines' cgroup figures miss the app's pages).
    const idle = Math.max(m.idleBytes, m.appRssBytes ?? 0);
    const peak = Math.max(idle, m.appPeakBytes ?? 0);
    const evidence = { idleBytes: idle, peakBytes: peak, cgroupWorkingSetBytes: m.idleBytes, appRssBytes: m.appRssBytes, appPeakBytes: m.appPeakBytes, limitBytes: limit, cgroupLimitBytes: m.limitBytes };
    const figures = `idle ${mb(idle)}, peak ${mb(peak)}${m.appPeakBytes ? ' (the node process\'s high-water mark)' : ''}`;
    if (limit === undefined) {
      return { ...verdict('warn', `${figures}, and the manifest sets no resources.limits.memory: the pod may take the node's memory (and is first to be evicted)`, evidence, `Set resources.limits.memory (and requests.memory) to the peak plus headroom, e.g. ${Math.ceil((peak * 1.5) / 2 ** 20 / 16) * 16}Mi.`), location: at };
    }
    const headroom = 1 - peak / limit;
    const of = `of limits.memory ${limitText} (${Math.round(headroom * 100)}% headroom)`;
    if (peak > limit) return { ...verdict('fail', `${figures}, above limits.memory ${limitText}`, evidence, heapHint), location: at };
    if (headroom < THIN_HEADROOM) return { ...verdict('warn', `${figures} ${of}: thin, a spike or a larger payload gets it OOM-killed`, evidence, heapHint), location: at };
    return verdict('pass', `${figures} ${of}`, evidence);
  },
  lines(result) {
    const e = result.evidence as { idleBytes?: number; peakBytes?: number; limitBytes?: number; oomKilled?: boolean };
    const { lines, add } = lineWriter();
    add('idle', e.idleBytes === undefined ? undefined : formatBytes(e.idleBytes));
    add('peak', e.peakBytes === undefined ? undefined : formatBytes(e.peakBytes));
    add('limit', e.limitBytes === undefined ? undefined : formatBytes(e.limitBytes));
    if (e.oomKilled) add('OOM-killed', 'yes');
    return [...lines, ...logLines(result)];
  },
};
