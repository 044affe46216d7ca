// Nothing below reaches up (issue 16): config/ is settings, read at the edge and handed down; report/
// renders data and decides nothing. Read from the sources' import lines, and the layout itself from
// docs/design.md's diagram, so the picture a newcomer reads is the one the code keeps.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(__dirname, '../../src');
const DESIGN = path.resolve(__dirname, '../../docs/design.md');

/**
 * docs/design.md's "Layout" block, top to bottom: each line's names (before its two-space gap) are one
 * level, or several when joined by →; "checks/" names the folder, "audit.ts" the file.
 */
function layoutLevels(): string[][] {
  const text = readFileSync(DESIGN, 'utf8');
  const block = text.slice(text.indexOf('## Layout')).split('\n\n').find((para) => para.startsWith('    '));
  if (!block) throw new Error('docs/design.md has no Layout diagram');
  return block
    .split('\n')
    .map((line) => line.trim().split(/\s{2,}/)[0])
    .flatMap((names) => names.split('→').map((level) => level.trim().split(/\s+/).map((n) => n.replace(/\/$/, ''))));
}

/** Every file under src/, relative to it. */
function sources(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.relative(SRC, path.join(dir, e.name))] : [],
  );
}

/** Each relative `from '…'` and `import('…')` of a source file ("checks/ids", no extension), with whether it imports types only. */
function importsOfFile(file: string): Array<{ file: string; from: string; typeOnly: boolean }> {
  const text = readFileSync(path.join(SRC, file), 'utf8');
  const target = (spec: string) => path.relative(SRC, path.resolve(path.dirname(path.join(SRC, file)), spec)).replace(/\.js$/, '');
  return [
    ...[...text.matchAll(/^(?:import|export)(\s+type)?\s[^;]*?from\s+'(\.[^']+)'/gms)].map((m) => ({ file, from: target(m[2]), typeOnly: Boolean(m[1]) })),
    ...[...text.matchAll(/\bimport\(\s*'(\.[^']+)'\s*\)/g)].map((m) => ({ file, from: target(m[1]), typeOnly: false })),
  ];
}

/** Every import under src/, read once. */
const IMPORTS = sources().flatMap(importsOfFile);

/** The imports of a folder's files. */
const importsOf = (folder: string) => IMPORTS.filter((i) => i.file.startsWith(`${folder}/`));

describe('import direction', () => {
  it("every import goes down docs/design.md's layout (or stays on its line); only types go up", () => {
    const levels = layoutLevels();
    // A folder by its name, a top file by its name with ".ts" (as the diagram writes them).
    const levelOf = (file: string) => levels.findIndex((names) => names.includes(file.includes('/') ? file.split('/')[0] : `${file.replace(/\.ts$/, '')}.ts`));
    expect(sources().filter((f) => levelOf(f) < 0)).toEqual([]); // every folder and top file is on the diagram
    const up = IMPORTS.filter((i) => levelOf(i.from) < levelOf(i.file));
    expect(up.filter((i) => !i.typeOnly).map((i) => `${i.file} → ${i.from}`)).toEqual([]);
    // The types that do go up are the ones the diagram's note names.
    const typesUp = new Set(up.map((i) => `${i.file.split('/')[0]} → ${i.from.split('/')[0]}`));
    expect([...typesUp].sort()).toEqual(['report → fleet', 'report → gate', 'types.ts → checks', 'types.ts → redact']);
  });
  it('config/ imports no check but the leaf list of ids (and the waiver rules), and nothing of the gate', () => {
    const upward = importsOf('config').filter((i) => /^(checks|gate|report|fleet|cli|audit)/.test(i.from) && !['checks/ids', 'checks/waivers'].includes(i.from));
    expect(upward).toEqual([]);
  });
  it('report/ takes the gate and the fleet as data: types only', () => {
    const logic = importsOf('report').filter((i) => /^(gate|fleet)\//.test(i.from) && !i.typeOnly);
    expect(logic).toEqual([]);
  });
  it('report/ reaches the checks only for what each check owns of its rendering (lines, title, help, metrics)', () => {
    // The registry is not a leaf of data (each check brings its probe), but a reporter never switches on
    // an id: it asks the check to render its evidence. Only these reporters do; the others need ids at most.
    const registry = importsOf('report').filter((i) => i.from === 'checks/registry').map((i) => i.file);
    expect(registry.sort()).toEqual(['report/html.ts', 'report/sarif.ts', 'report/tty.ts']);
  });
});
