// Go's path.Clean, for the paths and patterns that BuildKit and moby's pattern matcher clean the same way
// (the .dockerignore check in src/target/ and the BuildKit session's walk).
/** Go's path.Clean (forward slashes; the context's patterns are slash-separated). */
export function goClean(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  return rooted ? `/${joined}` : joined || '.';
}
