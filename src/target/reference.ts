// Docker's image reference grammar (distribution/reference), checked before any daemon call so a typo
// is a usage error, not "image not found".
const alphaNumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const nameComponent = `${alphaNumeric}(?:${separator}${alphaNumeric})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domain = `(?:${domainComponent}(?:\\.${domainComponent})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const tag = '[\\w][\\w.-]{0,127}';
const digest = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^((?:${domain}/)?${nameComponent}(?:/${nameComponent})*)(?::(${tag}))?(?:@(${digest}))?$`);
const IMAGE_ID = /^(?:sha256:[0-9a-f]{64}|[0-9a-f]{12,64})$/;

export const REFERENCE_GRAMMAR =
  '[host[:port]/]name[:tag][@sha256:digest], where name is lowercase path components of a-z 0-9 joined by ".", "_", "__" or "-" (separated by "/"), ' +
  'and tag is up to 128 of A-Z a-z 0-9 _ . - not starting with . or -; or an image id (sha256:<64 hex>, or 12 or more hex digits)';

/** Why the reference is not one Docker accepts, or undefined when it is fine. */
export function referenceProblem(reference: string): string | undefined {
  if (IMAGE_ID.test(reference)) return undefined;
  const match = REFERENCE.exec(reference);
  if (!match) return 'it does not match the reference grammar';
  if (match[1].length > 255) return 'its name is longer than 255 characters';
  return undefined;
}
