/** The phases of every scenario, virtual ms: faults happen during WORK_MS, then QUIET_MS of healed calm. */
export const WORK_MS = 30_000
export const QUIET_MS = 35_000
