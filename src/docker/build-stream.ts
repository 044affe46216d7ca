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
/** The build log kept for the report (the newest lines). */
const LOG_LINES = 2000;
const CLASSIC_STEP = /^Step \d+\/\d+ : /;

export async function parseBuildStream(
  stream: Readable,
  builder: 'buildkit' | 'classic',
  onProgress?: (line: string) => void,
): Promise<BuildOutcome> {
  const reader = new BuildStreamReader(onProgress);
  for await (const line of jsonLines(stream)) reader.line(line);
  reader.end();
  return reader.outcome(builder);
}

/** The stream's lines as they complete (a chunk may end mid-line), the unfinished last one included. */
async function* jsonLines(stream: Readable): AsyncGenerator<string> {
  let pending = '';
  for await (const chunk of stream) {
    pending += chunk.toString();
    const lines = pending.split(/\r?\n/);
    pending = lines.pop() ?? '';
    yield* lines;
  }
  yield pending;
}

/** What the build stream said so far: one handler per kind of message, the outcome read at the end. */
class BuildStreamReader {
  private readonly log: string[] = [];
  private imageId?: string;
  private error?: string;
  /** Each completed step, by BuildKit vertex digest or `classic:<n>`. */
  private readonly steps = new Map<string, BuildStep>();
  // BuildKit: vertexes by digest.
  private readonly vertexNames = new Map<string, string>();
  private readonly vertexOutput = new Map<string, string[]>();
  private readonly vertexPartial = new Map<string, string>();
  private readonly announced = new Set<string>();
  private failingVertex?: string;
  // Classic: the step being run and its output.
  private currentStep?: string;
  private currentStepOutput: string[] = [];

  constructor(private readonly onProgress?: (line: string) => void) {}

  /** One line of the stream: a JSON message, else text shown as it came. */
  line(line: string): void {
    if (!line.trim()) return;
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line);
    } catch {
      this.emit(line);
      return;
    }
    if (msg.id === 'moby.buildkit.trace' && typeof msg.aux === 'string') return this.trace(msg.aux);
    const aux = msg.aux as { ID?: string } | undefined;
    if (aux?.ID) this.imageId = aux.ID;
    if (typeof msg.stream === 'string') this.classicStream(msg.stream);
    const detail = msg.errorDetail as { message?: string } | undefined;
    if (msg.error || detail) this.failed(String(detail?.message ?? msg.error).trim());
  }

  /** The stream ended: each vertex's unfinished last line is output too. */
  end(): void {
    for (const [vertex, partial] of this.vertexPartial) this.addVertexLines(vertex, [partial]);
  }

  outcome(builder: 'buildkit' | 'classic'): BuildOutcome {
    const { error, log } = this;
    if (error === undefined) return { imageId: this.imageId, failingOutput: [], log, steps: [...this.steps.values()] };
    if (builder === 'buildkit') return { error, ...this.failingVertexOutcome(error), log };
    return { error, failingStep: this.currentStep?.replace(CLASSIC_STEP, ''), failingOutput: this.currentStepOutput, log };
  }

  /** A BuildKit status message (base64 protobuf): vertexes started, completed or failed, and their logs. */
  private trace(aux: string): void {
    const type = statusResponseType();
    const status = type.toObject(type.decode(Buffer.from(aux, 'base64')), { defaults: false }) as DecodedStatus;
    for (const vertex of status.vertexes ?? []) {
      if (vertex.name) this.vertexNames.set(vertex.digest, vertex.name);
      if (vertex.started && !this.announced.has(vertex.digest) && vertex.name) {
        this.announced.add(vertex.digest);
        this.emit(vertex.name);
      }
      if (vertex.error) this.failingVertex = vertex.digest;
      const name = vertex.name || this.vertexNames.get(vertex.digest);
      if (name && (vertex.completed || vertex.cached)) {
        const known = this.steps.get(vertex.digest);
        this.steps.set(vertex.digest, { name, cached: Boolean(vertex.cached) || (known?.cached ?? false) });
      }
    }
    for (const entry of status.logs ?? []) {
      // Log chunks can split a line: keep each vertex's unfinished line until its newline comes.
      const text = (this.vertexPartial.get(entry.vertex) ?? '') + Buffer.from(entry.msg).toString('utf8');
      const parts = text.split(/\r?\n/);
      this.vertexPartial.set(entry.vertex, parts.pop() ?? '');
      this.addVertexLines(entry.vertex, parts);
    }
  }

  /** The classic builder's text: "Step n/m : …" starts a step, "---> Using cache" marks it cached. */
  private classicStream(stream: string): void {
    for (const text of stream.split(/\r?\n/)) {
      if (!text.trim()) continue;
      if (CLASSIC_STEP.test(text)) {
        this.currentStep = text.trim();
        this.currentStepOutput = [];
        this.steps.set(`classic:${this.steps.size}`, { name: this.currentStep.replace(CLASSIC_STEP, ''), cached: false });
      } else {
        if (/^\s*---> Using cache/.test(text) && this.currentStep) [...this.steps.values()].at(-1)!.cached = true;
        this.currentStepOutput.push(text);
        this.currentStepOutput = this.currentStepOutput.slice(-KEEP_LINES);
      }
      this.emit(text);
    }
  }

  private failed(error: string): void {
    this.error = error;
    this.emit(`ERROR: ${error}`);
  }

  /**
   * The failing step of a BuildKit build and its output. When another build runs the same step at the
   * same time, BuildKit shares it and this stream may never see the step fail: the step is then read
   * from the error message, and its output is missing.
   */
  private failingVertexOutcome(error: string): Pick<BuildOutcome, 'failingStep' | 'failingOutput' | 'failedElsewhere'> {
    const command = /(?:executor failed running \[|process ")\/bin\/sh -c (.+?)(?:\]|" did not complete)/.exec(error)?.[1];
    const namedVertex = [...this.vertexNames].find(([, name]) => command !== undefined && name.endsWith(`RUN ${command}`))?.[0];
    const digest = this.failingVertex ?? namedVertex;
    return {
      failingStep: digest ? this.vertexNames.get(digest) : command ? `RUN ${command}` : undefined,
      failingOutput: digest ? (this.vertexOutput.get(digest) ?? []) : [],
      // Only a step of this build's graph that another build ran: a parse error or an unknown
      // --target names no step and fails the same way every time.
      failedElsewhere: this.failingVertex === undefined && namedVertex !== undefined,
    };
  }

  private addVertexLines(vertex: string, lines: string[]): void {
    const kept = this.vertexOutput.get(vertex) ?? [];
    for (const line of lines) {
      if (!line.trim()) continue;
      kept.push(line);
      this.emit(`  ${line}`);
    }
    this.vertexOutput.set(vertex, kept.slice(-KEEP_LINES));
  }

  private emit(line: string): void {
    this.log.push(line);
    if (this.log.length > LOG_LINES) this.log.splice(0, this.log.length - LOG_LINES);
    this.onProgress?.(line);
  }
}
