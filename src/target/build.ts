// The build policy, above the Docker port: BuildKit first, the classic builder only where the daemon has
// no BuildKit, one retry when BuildKit shared the failing step with another build, and one deadline and
// one abort signal over all of it. The port does one build with the builder it is told.
import { SharedStepFailedError } from '../docker/build-stream.js';
import type { BuildRequest, BuildResult, DockerPort } from '../docker/port.js';
import { AuditInterruptedError, BuildFailedError, DaemonUnreachableError } from '../errors.js';

/** Long enough for a cold `npm ci` of a large app on a small machine; a hung build still ends. */
export const BUILD_TIMEOUT_MS = 20 * 60_000;

export interface ImageBuildRequest extends Omit<BuildRequest, 'builder' | 'timeoutMs' | 'signal'> {
  /** Bounds the whole build: a fallback or a retry runs in what is left of it. */
  timeoutMs?: number;
  /** 'classic' forces the classic builder (an escape hatch; its semantics differ). */
  builder?: 'auto' | 'classic';
  /** The caller's abort: the build is cancelled and buildImage rejects with AuditInterruptedError. */
  signal?: AbortSignal;
}

/** An error of a daemon that cannot build with BuildKit at all (as opposed to a failing Dockerfile). */
function isBuildKitUnavailable(err: unknown): boolean {
  // Docker without BuildKit names it or its session; Podman answers POST /session with a bare 404.
  // A daemon that stopped answering (even while opening the session) has BuildKit: another builder would only wait again.
  if (err instanceof BuildFailedError || err instanceof DaemonUnreachableError) return false;
  const e = err as Error & { statusCode?: number };
  return /buildkit|session/i.test(e.message) || (e.statusCode === 404 && /not found/i.test(e.message));
}

export async function buildImage(docker: DockerPort, request: ImageBuildRequest): Promise<BuildResult> {
  const timeoutMs = request.timeoutMs ?? BUILD_TIMEOUT_MS;
  const started = performance.now();
  const remainingMs = () => Math.max(1, Math.ceil(timeoutMs - (performance.now() - started)));
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), timeoutMs);
  const signal = request.signal ? AbortSignal.any([request.signal, deadline.signal]) : deadline.signal;
  // The port's 'auto' is one BuildKit build; the choice between builders is made here.
  const attempt = (builder: 'auto' | 'classic') => docker.build({ ...request, builder, signal, timeoutMs: remainingMs() });
  try {
    request.signal?.throwIfAborted();
    if (request.builder === 'classic') return await attempt('classic');
    try {
      return await attempt('auto');
    } catch (err) {
      if (err instanceof SharedStepFailedError) {
        // Failures are not cached: one more build runs the step here and shows its output.
        request.onProgress?.(`${err.failingStep ?? 'a step'} failed in a build that shared it with ours; building once more`);
        return await attempt('auto');
      }
      if (!isBuildKitUnavailable(err)) throw err;
      request.onProgress?.(`BuildKit unavailable (${(err as Error).message}); using the classic builder`);
      return await attempt('classic');
    }
  } catch (err) {
    if (request.signal?.aborted) throw new AuditInterruptedError('the build was cancelled');
    if (deadline.signal.aborted || performance.now() - started >= timeoutMs) {
      throw new BuildFailedError(`Build did not finish within ${Math.round(timeoutMs / 1000)} s and was cancelled`, undefined, []);
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
