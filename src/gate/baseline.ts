// `--baseline auto`: the previous release is the highest semver tag of the candidate's repository
// below the candidate's own tag (v1.2.3, 1.2.3 and 1.2.3-rc.1 read as semver reads them).
import semver from 'semver';

export interface ImageRef {
  repository: string;
  tag?: string;
}

/** "registry:5000/team/api:1.2.3" → { repository: "registry:5000/team/api", tag: "1.2.3" } */
export function splitRef(ref: string): ImageRef {
  const withoutDigest = ref.split('@')[0];
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  if (colon > slash) return { repository: withoutDigest.slice(0, colon), tag: withoutDigest.slice(colon + 1) };
  return { repository: withoutDigest };
}

export type BaselineChoice = { ref: string; version: string } | { ref?: undefined; reason: string };

/** Why `auto` can find no baseline for this candidate whatever the engine holds (no semver tag), or undefined. */
export function autoBaselineProblem(candidate: string): string | undefined {
  const { tag } = splitRef(candidate);
  return tag && semver.parse(semver.clean(tag) ?? tag) ? undefined : `the candidate ${candidate} has no semver tag to compare with`;
}

export function previousRelease(candidate: string, tags: string[]): BaselineChoice {
  const { repository, tag } = splitRef(candidate);
  const current = tag ? semver.parse(semver.clean(tag) ?? tag) : null;
  if (!current) return { reason: autoBaselineProblem(candidate)! };
  const older = tags
    .map(splitRef)
    .filter((t) => t.repository === repository && t.tag)
    .map((t) => ({ ref: `${t.repository}:${t.tag}`, version: semver.parse(semver.clean(t.tag!) ?? t.tag!) }))
    .filter((t): t is { ref: string; version: semver.SemVer } => t.version !== null && semver.lt(t.version, current))
    .sort((a, b) => semver.rcompare(a.version, b.version));
  if (!older.length) return { reason: `no tag of ${repository} below ${tag} in the daemon` };
  return { ref: older[0].ref, version: older[0].version.version };
}
