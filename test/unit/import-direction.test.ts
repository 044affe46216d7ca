// Nothing below reaches up (issue 16): config/ is settings, read at the edge and handed down; report/
// renders data and decides nothing. Read from the sources' import lines.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(__dirname, '../../src');

/** Each `from '…'` of a folder's files, with whether it imports types only. */
function importsOf(folder: string): Array<{ file: string; from: string; typeOnly: boolean }> {
  const dir = path.join(SRC, folder);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .flatMap((file) =>
      [...readFileSync(path.join(dir, file), 'utf8').matchAll(/^(import|export)(\s+type)?\s[^;]*?from\s+'([^']+)'/gms)].map((m) => ({
        file: `${folder}/${file}`,
        from: path.relative(SRC, path.resolve(dir, m[3])).replace(/\.js$/, ''),
        typeOnly: Boolean(m[2]),
      })),
    );
}

describe('import direction', () => {
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
