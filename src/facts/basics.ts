// What every audit reads of an image first, from the daemon alone: its config, size and history, and
// the start command they make. Everything else about the image is gathered from these.
import type { DockerPort, ImageInfo, LayerHistory } from '../docker/port.js';
import { analyseCommand, type StartCommand } from './command.js';

export interface ImageBasics {
  image: ImageInfo;
  history: LayerHistory[];
  command: StartCommand;
}

export async function gatherImageBasics(docker: DockerPort, ref: string): Promise<ImageBasics> {
  const [image, history] = await Promise.all([docker.inspectImage(ref), docker.imageHistory(ref)]);
  // Secret build-arg values the history recorded ("RUN |1 NPM_TOKEN=hunter2 …") are masked by the
  // redactor where bytes leave (src/redact), fed by the audit from this history.
  return { image, history, command: analyseCommand(image.config.entrypoint, image.config.cmd) };
}
