// node-image-audit: the library API. The CLI and the vitest helpers use the same engine.
export { audit, resolveSettings, selectChecks, DEFAULTS } from './audit.js';
export type { AuditDependencies } from './audit.js';
export { CHECKS, CHECK_IDS } from './checks/registry.js';
export type { Check, CheckInput, CheckSettings, Verdict } from './checks/check.js';
export { exitCodeFor } from './report/exit-code.js';
export { renderJson } from './report/json.js';
export { renderTty } from './report/tty.js';
export * from './errors.js';
export * from './types.js';
export type { DockerPort } from './docker/port.js';
export { gate, gateExitCode } from './gate/gate.js';
export type { GateOptions, GateReport } from './gate/gate.js';
export type { Regression } from './gate/compare.js';
export { renderJunit } from './report/junit.js';
export { renderSarif } from './report/sarif.js';
export { loadConfig } from './config/load.js';
export type { GateThresholds, LoadedConfig } from './config/load.js';
export { Redactor } from './redact/redactor.js';
// Engines (docker contexts) and fleets.
export { selectEngine, engineFromSpec, contextEngine, describeEngine } from './docker/engine.js';
export type { Engine, EngineSelection } from './docker/engine.js';
export { fleetReport, mergeReports, fleetExitCode } from './fleet/report.js';
export type { FleetReport, FleetTarget, FleetSummary } from './fleet/report.js';
export { renderFleet } from './report/fleet-render.js';
