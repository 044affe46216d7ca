// The checks, in report order. Adding a check: one file, one line here, its fixture.
import type { Check } from './check.js';
import { healthcheck } from './healthcheck.js';
import { initPid1 } from './init-pid1.js';
import { noDevDependencies } from './no-dev-dependencies.js';
import { nonRootUser } from './non-root-user.js';
import { sigtermShutdown } from './sigterm-shutdown.js';
import { sizeBudget } from './size-budget.js';

export const CHECKS: readonly Check[] = [nonRootUser, initPid1, sigtermShutdown, healthcheck, noDevDependencies, sizeBudget];

export const CHECK_IDS = CHECKS.map((c) => c.id);
