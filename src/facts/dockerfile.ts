// Which Dockerfile instruction is responsible for each check's verdict, read with a real parser
// (dockerfile-ast), in the stage that became the image (the --target stage, else the last one).
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import type { LayerHistory } from '../docker/port.js';
import type { CheckId, SourceLocation } from '../types.js';

export type DockerfileLocator = (id: CheckId, largestLayer?: LayerHistory) => SourceLocation | undefined;

const normalise = (text: string) => text.replace(/\\\n/g, ' ').replace(/\s+/g, ' ').trim();

/** The instruction keyword and text of an image history entry (BuildKit and classic forms). */
function madeBy(createdBy: string): { keyword: string; text: string } {
  let text = normalise(createdBy.replace(/\s*# buildkit$/, ''));
  let keyword = 'RUN';
  const nop = /^\/bin\/sh -c #\(nop\)\s+([A-Z]+)\s*(.*)$/.exec(text);
  const named = /^([A-Z]+)\s+(.*)$/.exec(text);
  if (nop) [keyword, text] = [nop[1], nop[2]];
  else if (named) [keyword, text] = [named[1], named[2]];
  // RUN with build args in scope is recorded as "|2 A=1 B=2 /bin/sh -c ...".
  text = text.replace(/^\|\d+\s+(\S+=\S*\s+)*/, '').replace(/^\/bin\/sh -c\s+/, '');
  return { keyword, text };
}

export function dockerfileLocator(file: string, content: string, buildTarget?: string): DockerfileLocator {
  const dockerfile = DockerfileParser.parse(content);
  const froms = dockerfile.getFROMs();
  const stageIndex = buildTarget ? froms.findIndex((f) => f.getBuildStage()?.toLowerCase() === buildTarget.toLowerCase()) : froms.length - 1;
  const from = froms[stageIndex >= 0 ? stageIndex : froms.length - 1];
  const next = froms[(stageIndex >= 0 ? stageIndex : froms.length - 1) + 1];
  const startLine = from?.getRange().start.line ?? 0;
  const endLine = next ? next.getRange().start.line : Number.MAX_SAFE_INTEGER;
  const stage = dockerfile.getInstructions().filter((i) => {
    const line = i.getRange().start.line;
    return line >= startLine && line < endLine;
  });
  const last = (...keywords: string[]) => [...stage].reverse().find((i) => keywords.includes(i.getKeyword()));
  const at = (instruction: Instruction | undefined): SourceLocation | undefined =>
    instruction && {
      file,
      line: instruction.getRange().start.line + 1,
      instruction: normalise(`${instruction.getKeyword()} ${instruction.getArgumentsContent() ?? ''}`),
    };
  const installsDeps = (i: Instruction) => {
    const text = `${i.getKeyword()} ${i.getTextContent()}`;
    return (/^(COPY|ADD)\b/.test(text) && /node_modules/.test(text)) || (/^RUN\b/.test(text) && /\b(npm (ci|install|i)\b|yarn( install)?\b|pnpm (install|i)\b)/.test(text));
  };

  return (id, largestLayer) => {
    switch (id) {
      case 'non-root-user':
        return at(last('USER') ?? from);
      case 'init-pid1':
        return at(last('ENTRYPOINT') ?? last('CMD') ?? from);
      case 'sigterm-shutdown':
        return at(last('STOPSIGNAL') ?? last('CMD') ?? last('ENTRYPOINT') ?? from);
      case 'healthcheck':
        return at(last('HEALTHCHECK') ?? from);
      case 'no-dev-dependencies':
        return at([...stage].reverse().find(installsDeps) ?? last('COPY', 'ADD') ?? from);
      case 'size-budget': {
        const made = largestLayer && madeBy(largestLayer.createdBy);
        const match = made && stage.find((i) => {
          const args = normalise(i.getArgumentsContent() ?? '');
          return i.getKeyword() === made.keyword && args.length > 0 && made.text.includes(args);
        });
        return at(match || from);
      }
    }
  };
}
