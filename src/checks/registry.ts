// The checks, in report order. Adding a check: one file, one line here, its fixture.
import type { Check } from './check.js';
import { healthcheck } from './healthcheck.js';
import { initPid1 } from './init-pid1.js';
import { noDevDependencies } from './no-dev-dependencies.js';
import { nonRootUser } from './non-root-user.js';
import { sigtermShutdown } from './sigterm-shutdown.js';
import { sizeBudget } from './size-budget.js';
import { zombieReaping } from './zombie-reaping.js';
import { healthDetectsHang } from './health-detects-hang.js';
import { gracefulDrain } from './graceful-drain.js';
import { secrets } from './secrets.js';
import { enginesNode } from './engines-node.js';
import { nodeEnv } from './node-env.js';
import { layerCache } from './layer-cache.js';
import { k8sRunAsNonRoot } from './k8s-run-as-non-root.js';
import { k8sGracePeriod } from './k8s-grace-period.js';
import { readOnlyRootfs } from './read-only-rootfs.js';
import { memoryHeadroom } from './memory-headroom.js';
import { k8sProbes } from './k8s-probes.js';

export const CHECKS: readonly Check[] = [nonRootUser, initPid1, sigtermShutdown, healthcheck, noDevDependencies, sizeBudget, zombieReaping, healthDetectsHang, gracefulDrain, secrets, enginesNode, nodeEnv, layerCache, k8sRunAsNonRoot, k8sGracePeriod, k8sProbes, readOnlyRootfs, memoryHeadroom];

export { CHECK_IDS, isCheckId, type CheckId } from './ids.js';
