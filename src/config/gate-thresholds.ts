// The release gate's settings: its thresholds and their defaults. They are read from the config file,
// the fleet file and the flags (here, in config/) and handed down to the gate, which only applies them.

export interface GateThresholds {
  baseline?: string;
  maxSizeGrowthPercent: number;
  maxSizeGrowthBytes?: number;
  maxShutdownGrowthPercent: number;
  maxShutdownGrowthMs: number;
  maxHealthyGrowthPercent: number;
  maxHealthyGrowthMs: number;
}

/** A timing regresses only past both its percentage and its absolute bound: sub-second jitter is not a regression. */
export const DEFAULT_GATE: GateThresholds = {
  maxSizeGrowthPercent: 10,
  maxShutdownGrowthPercent: 50,
  maxShutdownGrowthMs: 1000,
  maxHealthyGrowthPercent: 50,
  maxHealthyGrowthMs: 2000,
};
