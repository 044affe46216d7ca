// Which Dockerfile instruction is responsible for each check's verdict, read with a real parser
// (dockerfile-ast), in the stage that became the image (the --target stage, else the last one).
import { Add, Copy, DockerfileParser, type Arg, type Env, type Instruction } from 'dockerfile-ast';
import type { LayerHistory } from '../docker/port.js';
import type { SourceLocation } from '../types.js';

/** The stage that became the image, for checks that point at the instruction responsible. */
export interface StageView {
  file: string;
  /** The stage's FROM. */
  from: SourceLocation | undefined;
  /** The last instruction of the stage with one of these keywords. */
  last(...keywords: string[]): SourceLocation | undefined;
  /** The last instruction of the stage whose "KEYWORD arguments" text matches. */
  lastMatching(pattern: RegExp): SourceLocation | undefined;
  /** The instruction that made an image history entry (e.g. the largest layer). */
  madeLayer(layer: LayerHistory | undefined): SourceLocation | undefined;
  /** Every instruction of the whole Dockerfile, every stage, in order. */
  all: SourceLocation[];
  /** Every ENV value and ARG default of the whole Dockerfile, every stage (the redactor's feed). */
  assignments: Array<{ name: string; value: string }>;
  /** The COPY/ADD sources from the build context (not --from another stage), every stage, in order. */
  copiedSources: string[];
}

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

export function stageView(file: string, content: string, buildTarget?: string): StageView {
  const dockerfile = DockerfileParser.parse(content);
  const froms = dockerfile.getFROMs();
  const wanted = buildTarget ? froms.findIndex((f) => f.getBuildStage()?.toLowerCase() === buildTarget.toLowerCase()) : froms.length - 1;
  const index = wanted >= 0 ? wanted : froms.length - 1;
  const from = froms[index];
  const next = froms[index + 1];
  const startLine = from?.getRange().start.line ?? 0;
  const endLine = next ? next.getRange().start.line : Number.MAX_SAFE_INTEGER;
  const instructions = dockerfile.getInstructions();
  const stage = instructions.filter((i) => {
    const line = i.getRange().start.line;
    return line >= startLine && line < endLine;
  });
  const at = (instruction: Instruction | undefined): SourceLocation | undefined =>
    instruction && {
      file,
      line: instruction.getRange().start.line + 1,
      instruction: normalise(`${instruction.getKeyword()} ${instruction.getArgumentsContent() ?? ''}`),
    };
  const reversed = [...stage].reverse();
  return {
    file,
    from: at(from),
    last: (...keywords) => at(reversed.find((i) => keywords.includes(i.getKeyword()))),
    lastMatching: (pattern) => at(reversed.find((i) => pattern.test(`${i.getKeyword()} ${i.getTextContent()}`))),
    madeLayer: (layer) => {
      const made = layer && madeBy(layer.createdBy);
      const match = made && stage.find((i) => {
        const args = normalise(i.getArgumentsContent() ?? '');
        return i.getKeyword() === made.keyword && args.length > 0 && made.text.includes(args);
      });
      return at(match || undefined);
    },
    all: instructions.map((i) => at(i)!),
    assignments: instructions.flatMap((i) => {
      const keyword = i.getKeyword();
      const properties = keyword === 'ENV' ? (i as Env).getProperties() : keyword === 'ARG' ? [(i as Arg).getProperty()] : [];
      return properties.flatMap((p) => (p && p.getValue() !== null ? [{ name: p.getName(), value: p.getValue()! }] : []));
    }),
    copiedSources: copiedSources(instructions),
  };
}

function copiedSources(instructions: Instruction[]): string[] {
  const out: string[] = [];
  for (const instruction of instructions) {
    if (!(instruction instanceof Copy || instruction instanceof Add)) continue;
    // Flags are not arguments in dockerfile-ast: a --from source is another stage's, not the context's.
    if (instruction.getFlags().some((f) => f.getName().toLowerCase() === 'from')) continue;
    const paths = instruction.getJSONStrings().length
      ? jsonForm(instruction.getArgumentsContent() ?? '')
      : instruction.getArguments().map((a) => a.getValue().replace(/^(["'])(.*)\1$/, '$2'));
    out.push(...paths.slice(0, -1));
  }
  return out;
}

/** The JSON form's strings as Docker reads them (dockerfile-ast's own JSON values drop a path's spaces). */
function jsonForm(content: string): string[] {
  try {
    const list: unknown = JSON.parse(content.slice(content.indexOf('[')));
    return Array.isArray(list) ? list.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}
