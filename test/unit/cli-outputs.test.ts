// The report files of one run, checked before the audit (src/cli/run.ts prepareOutputs): two reports that
// would land in the same file are refused whatever path leads there (a symlink, a symlinked folder, a hard
// link), and a dangling symlink is written through, as the shell's `>` does.
import { existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { prepareOutputs } from '../../src/cli/run.js';
import { UsageError } from '../../src/errors.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cli-outputs-'));
});
const at = (name: string) => path.join(dir, name);
const json = (file: string) => ({ format: 'json' as const, file, flag: '--output' });
const junit = (file: string) => ({ format: 'junit' as const, file, flag: '--report junit=' });

function refusal(outputs: Parameters<typeof prepareOutputs>[0]): string | undefined {
  try {
    prepareOutputs(outputs);
    return undefined;
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
}

describe('two reports that land in the same file', () => {
  it('are refused when one path is a symlink to the other (the file exists)', () => {
    writeFileSync(at('real.json'), '{}');
    symlinkSync('real.json', at('link.json'));
    expect(refusal([json(at('real.json')), junit(at('link.json'))])).toBe(
      `Cannot write --report junit=${at('link.json')}: --output ${at('real.json')} writes the same file (${at('real.json')})`,
    );
  });

  it('are refused when the file does not exist yet', () => {
    symlinkSync('real.json', at('link.json'));
    expect(refusal([json(at('real.json')), junit(at('link.json'))])).toMatch(/writes the same file/);
    expect(refusal([junit(at('link.json')), json(at('real.json'))])).toMatch(/writes the same file/);
  });

  it('are refused through a symlinked folder, for a file that does not exist yet', () => {
    mkdirSync(at('out'));
    symlinkSync('out', at('out-link'));
    expect(refusal([json(at('out/a.json')), junit(at('out-link/a.json'))])).toMatch(/writes the same file \(.*out\/a\.json\)$/);
  });

  it('are refused when one is a hard link of the other', () => {
    writeFileSync(at('a.json'), '{}');
    linkSync(at('a.json'), at('b.json'));
    expect(refusal([json(at('a.json')), junit(at('b.json'))])).toMatch(/writes the same file/);
  });

  it('are accepted when they are different files, and nothing is left behind', () => {
    expect(refusal([json(at('x/a.json')), junit(at('x/b.json'))])).toBeUndefined();
    expect(existsSync(at('x/a.json'))).toBe(false);
    expect(existsSync(at('x'))).toBe(true); // folders are created
  });
});

describe('a report path that is a dangling symlink', () => {
  it('is written through, as `>` does: accepted, and the link stays a link until the report is written', () => {
    symlinkSync('target.json', at('dangling.json'));
    expect(refusal([json(at('dangling.json'))])).toBeUndefined();
    expect(lstatSync(at('dangling.json')).isSymbolicLink()).toBe(true);
    expect(existsSync(at('target.json'))).toBe(false);
    // What writeOutputs then does (writeFileSync follows the link and creates its target).
    writeFileSync(at('dangling.json'), '{"ok":true}');
    expect(readFileSync(at('target.json'), 'utf8')).toBe('{"ok":true}');
    expect(readlinkSync(at('dangling.json'))).toBe('target.json');
  });

  it("creates the link target's missing folder, as for any report path", () => {
    symlinkSync('reports/deep/target.json', at('dangling.json'));
    expect(refusal([json(at('dangling.json'))])).toBeUndefined();
    expect(existsSync(at('reports/deep'))).toBe(true);
  });

  it('is refused with the reason when the link loops', () => {
    symlinkSync('loop-b.json', at('loop-a.json'));
    symlinkSync('loop-a.json', at('loop-b.json'));
    expect(refusal([json(at('loop-a.json'))])).toMatch(/^Cannot write --output .*loop-a\.json: too many levels of symbolic links \(ELOOP\)$/);
  });
});
