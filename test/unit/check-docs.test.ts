// Every registered check has its doc page and its row in the README's table of checks.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { docPath } from '../../src/checks/check.js';
import { CHECKS } from '../../src/checks/registry.js';

const ROOT = path.resolve(__dirname, '../..');
const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

describe.each(CHECKS.map((c) => [c.id]))('the check %s', (id) => {
  it('has its page docs/checks/<id>.md', () => expect(existsSync(path.join(ROOT, docPath(id))), docPath(id)).toBe(true));
  it("has its row in the README's table of checks", () => expect(readme).toMatch(new RegExp(`^\\| \`${id}\``, 'm')));
});

describe('the check ids', () => {
  it('are the registry, in report order: CHECK_IDS (the CheckId union) lists exactly the registered checks', async () => {
    const { CHECK_IDS } = await import('../../src/checks/ids.js');
    expect(CHECKS.map((c) => c.id)).toEqual([...CHECK_IDS]);
  });
});

describe('a check id with a typo', () => {
  it('does not compile (tsc runs over the tests), and is refused at run time', async () => {
    const { isCheckId } = await import('../../src/checks/ids.js');
    // @ts-expect-error 'non-root-usr' is not a CheckId
    const typo: import('../../src/types.js').CheckId = 'non-root-usr';
    expect(isCheckId(typo)).toBe(false);
    expect(isCheckId('non-root-user')).toBe(true);
  });
});
