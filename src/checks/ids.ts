// The check ids, in report order: the public contract of every report, waiver and matcher. `CheckId` is
// this union, so a typo in a check's id, a waiver in code or a matcher's argument fails to compile; the
// registry (./registry.ts) lists the checks in the same order, and a unit test holds the two together.
export const CHECK_IDS = [
  'non-root-user',
  'init-pid1',
  'sigterm-shutdown',
  'healthcheck',
  'no-dev-dependencies',
  'size-budget',
  'zombie-reaping',
  'health-detects-hang',
  'graceful-drain',
  'secrets',
  'engines-node',
  'node-env',
  'layer-cache',
  'k8s-run-as-non-root',
  'k8s-grace-period',
  'k8s-probes',
  'read-only-rootfs',
  'memory-headroom',
] as const;

export type CheckId = (typeof CHECK_IDS)[number];

/** Is this text (a flag, a config value) a check id? */
export const isCheckId = (id: string): id is CheckId => (CHECK_IDS as readonly string[]).includes(id);
