// The engine of a single audit (or gate) on the command line: --context, else as the docker CLI picks
// it (src/docker/engine.ts). A context that does not exist is a usage error, before anything runs.
import { enginePort } from '../docker/dockerode-port.js';
import { selectEngine } from '../docker/engine.js';
import type { DockerPort } from '../docker/port.js';

export function enginePortFor(context: string | undefined, onNotice?: (line: string) => void): DockerPort {
  const { engine, notice } = selectEngine({ context });
  if (notice) onNotice?.(notice);
  return enginePort(engine);
}
