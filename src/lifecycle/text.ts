// App output kept in observations (log lines, probe output) is cut the same way everywhere.

/** At most `max` characters (code points, never half a surrogate pair), the cut marked with "…". */
export function cutLine(line: string, max: number): string {
  const chars = Array.from(line);
  return chars.length <= max ? line : `${chars.slice(0, max - 1).join('')}…`;
}
