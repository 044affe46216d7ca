// Reads a build's JSON stream as a result: any error line fails the build, and we keep the failing
// step and its output for the message. Handles both the classic builder's lines and BuildKit's
// base64 protobuf trace messages (decoded with the schema dockerode ships).
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Readable } from 'node:stream';
import protobuf from 'protobufjs';
import { BuildFailedError } from '../errors.js';

const require = createRequire(import.meta.url);

let statusResponse: protobuf.Type | undefined;
function statusResponseType(): protobuf.Type {
  if (!statusResponse) {
    const proto = path.join(path.dirname(require.resolve('dockerode/package.json')), 'lib/proto/buildkit_status.proto');
    statusResponse = protobuf.loadSync(proto).lookupType('moby.buildkit.v1.StatusResponse');
  }
  return statusResponse;
}

interface DecodedStatus {
  vertexes?: Array<{ digest: string; name: string; started?: unknown; completed?: unknown; error?: string; cached?: boolean }>;
  logs?: Array<{ vertex: string; msg: Uint8Array }>;
}

export interface BuildOutcome {
  imageId?: string;
  /** The builder's message when the build failed. */
  error?: string;
  /** e.g. "[builder 5/5] RUN npm run build" or "Step 6/12 : RUN npm run build" */
  failingStep?: string;
  failingOutput: string[];
  /** A step of this build (a vertex the stream named) failed, but in a concurrent build that BuildKit shared. */
  failedElsewhere?: boolean;
  log: string[];
  /** Each step the builder completed, and whether it came from the cache (BuildKit `cached`, classic "Using cache"). */
  steps?: BuildStep[];
}

export interface BuildStep {
  /** e.g. "[deps 4/4] RUN npm ci" (BuildKit) or "RUN npm ci" (classic). */
  name: string;
  cached: boolean;
}

/**
 * The failing step ran in a build BuildKit shared with ours, so this stream never saw it fail: a build
 * policy may run the build once more (failures are not cached) to get the step's own output.
 */
export class SharedStepFailedError extends BuildFailedError {}

const KEEP_LINES = 25;

export async function parseBuildStream(
  stream: Readable,
  builder: 'buildkit' | 'classic',
  onProgress?: (line: string) => void,
): Promise<BuildOutcome> {
  const log: string[] = [];
  const vertexNames = new Map<string, string>();
  const vertexOutput = new Map<string, string[]>();
  const vertexPartial = new Map<string, string>();
  const announced = new Set<string>();
  const addVertexLines = (vertex: string, lines: string[]) => {
    const kept = vertexOutput.get(vertex) ?? [];
    for (const line of lines) {
      if (!line.trim()) continue;
      kept.push(line);
      emit(`  ${line}`);
    }
    vertexOutput.set(vertex, kept.slice(-KEEP_LINES));
  };
  let failingVertex: string | undefined;
  let currentStep: string | undefined;
  let currentStepOutput: string[] = [];
  let imageId: string | undefined;
  let error: string | undefined;
  const steps = new Map<string, BuildStep>();

  const emit = (line: string) => {
    log.push(line);
    if (log.length > 2000) log.splice(0, log.length - 2000);
    onProgress?.(line);
  };

  const handleTrace = (aux: string) => {
    const type = statusResponseType();
    const status = type.toObject(type.decode(Buffer.from(aux, 'base64')), { defaults: false }) as DecodedStatus;
    for (const vertex of status.vertexes ?? []) {
      if (vertex.name) vertexNames.set(vertex.digest, vertex.name);
      if (vertex.started && !announced.has(vertex.digest) && vertex.name) {
        announced.add(vertex.digest);
        emit(vertex.name);
      }
      if (vertex.error) failingVertex = vertex.digest;
      const name = vertex.name || vertexNames.get(vertex.digest);
      if (name && (vertex.completed || vertex.cached)) {
        const known = steps.get(vertex.digest);
        steps.set(vertex.digest, { name, cached: Boolean(vertex.cached) || (known?.cached ?? false) });
      }
    }
    for (const entry of status.logs ?? []) {
      // Log chunks can split a line: keep each vertex's unfinished line until its newline comes.
      const text = (vertexPartial.get(entry.vertex) ?? '') + Buffer.from(entry.msg).toString('utf8');
      const parts = text.split(/\r?\n/);
      vertexPartial.set(entry.vertex, parts.pop() ?? '');
      addVertexLines(entry.vertex, parts);
    }
  };

  const handleLine = (line: string) => {
    if (!line.trim()) return;
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line);
    } catch {
      emit(line);
      return;
    }
    if (msg.id === 'moby.buildkit.trace' && typeof msg.aux === 'string') return handleTrace(msg.aux);
    const aux = msg.aux as { ID?: string } | undefined;
    if (aux?.ID) imageId = aux.ID;
    if (typeof msg.stream === 'string') {
      for (const text of msg.stream.split(/\r?\n/)) {
        if (!text.trim()) continue;
        if (/^Step \d+\/\d+ : /.test(text)) {
          currentStep = text.trim();
          currentStepOutput = [];
          steps.set(`classic:${steps.size}`, { name: currentStep.replace(/^Step \d+\/\d+ : /, ''), cached: false });
        } else {
          if (/^\s*---> Using cache/.test(text) && currentStep) [...steps.values()].at(-1)!.cached = true;
          currentStepOutput.push(text);
          currentStepOutput = currentStepOutput.slice(-KEEP_LINES);
        }
        emit(text);
      }
    }
    const detail = msg.errorDetail as { message?: string } | undefined;
    if (msg.error || detail) {
      error = String(detail?.message ?? msg.error).trim();
      emit(`ERROR: ${error}`);
    }
  };

  let pending = '';
  for await (const chunk of stream) {
    pending += chunk.toString();
    const lines = pending.split(/\r?\n/);
    pending = lines.pop() ?? '';
    lines.forEach(handleLine);
  }
  handleLine(pending);
  for (const [vertex, partial] of vertexPartial) addVertexLines(vertex, [partial]);

  if (error === undefined) return { imageId, failingOutput: [], log, steps: [...steps.values()] };
  if (builder === 'buildkit') {
    // When another build runs the same step at the same time, BuildKit shares it and this stream may
    // never see the step fail: the step is then read from the error message, and its output is missing.
    const command = /(?:executor failed running \[|process ")\/bin\/sh -c (.+?)(?:\]|" did not complete)/.exec(error)?.[1];
    const namedVertex = [...vertexNames].find(([, name]) => command !== undefined && name.endsWith(`RUN ${command}`))?.[0];
    const digest = failingVertex ?? namedVertex;
    return {
      error,
      failingStep: digest ? vertexNames.get(digest) : command ? `RUN ${command}` : undefined,
      failingOutput: digest ? (vertexOutput.get(digest) ?? []) : [],
      // Only a step of this build's graph that another build ran: a parse error or an unknown
      // --target names no step and fails the same way every time.
      failedElsewhere: failingVertex === undefined && namedVertex !== undefined,
      log,
    };
  }
  return { error, failingStep: currentStep?.replace(/^Step \d+\/\d+ : /, ''), failingOutput: currentStepOutput, log };
}
