// The bench scripts' command line: the project's root, and the arguments with `option(name)`, which takes
// `--name VALUE` out of them (what is left is positional).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function benchArgs(argv = process.argv.slice(2)) {
  const args = [...argv];
  const option = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args.splice(i, 2)[1] : undefined;
  };
  return { args, option };
}
