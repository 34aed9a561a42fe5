/**
 * Orchard's device simulator: simulated iOS, iPadOS and macOS devices that enroll over SCEP,
 * check in with `Mdm-Signature`, and answer commands shaped by Apple's schema.
 */
export { createSimApns } from './apns.js';
export type { SimApns, SimApnsOptions, SimPemPair } from './apns.js';
export {
  assignPlatforms,
  createFleet,
  DEFAULT_OS_MIX,
  DEFAULT_OS_VERSIONS,
  parseOsMix,
  runFleet,
} from './fleet.js';
export type { Fleet, FleetOptions, OsMixEntry } from './fleet.js';
export {
  createSummaryCollector,
  formatProgress,
  formatSummary,
  latencySummary,
  percentile,
} from './summary.js';
export type { FleetSummary, LatencySummary, SummaryCollector } from './summary.js';
