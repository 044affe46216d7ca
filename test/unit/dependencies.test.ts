// No dependency that nothing imports: every runtime dependency in package.json is imported by src/.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');

it('imports every runtime dependency somewhere in src/', () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const files = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(path.join(dir, f)).isDirectory() ? files(path.join(dir, f)) : [path.join(dir, f)]));
  const source = files(path.join(ROOT, 'src'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  const unused = Object.keys(pkg.dependencies).filter((name) => !new RegExp(`(from |import\\(|require\\()['"]${name.replace(/[/.]/g, '\\$&')}(['"/])`).test(source));
  expect(unused).toEqual([]);
});
