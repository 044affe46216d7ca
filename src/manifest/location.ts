// Where a finding about the manifest is written: the manifest's file and line, with the text of that line
// as the "instruction" (SARIF's snippet), so every reporter shows it as it shows a Dockerfile line.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SourceLocation } from '../types.js';
import type { ManifestTarget } from './select.js';

const cache = new Map<string, string[]>();

function lineText(file: string, line: number): string {
  let lines = cache.get(file);
  if (!lines) {
    try {
      lines = readFileSync(path.resolve(file), 'utf8').split(/\r?\n/);
    } catch {
      lines = [];
    }
    cache.set(file, lines);
  }
  return (lines[line - 1] ?? '').trim();
}

/** The manifest location of a path of the audited container (e.g. ['lifecycle', 'preStop']). */
export function containerLocation(target: ManifestTarget, pathInContainer: Array<string | number>): SourceLocation {
  const line = target.containerLine(pathInContainer);
  return { file: target.file, line, instruction: lineText(target.file, line) };
}

/** The manifest location of a path of the pod spec (e.g. ['terminationGracePeriodSeconds']). */
export function podLocation(target: ManifestTarget, pathInPod: Array<string | number>): SourceLocation {
  const line = target.podLine(pathInPod);
  return { file: target.file, line, instruction: lineText(target.file, line) };
}
