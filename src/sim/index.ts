/**
 * Orchard's device simulator: simulated iOS, iPadOS and macOS devices that enroll over SCEP,
 * check in with `Mdm-Signature`, and answer commands shaped by Apple's schema.
 */
export { createSimDevice } from './device.js';
export type { SimDeviceHandle } from './device.js';
export type { SimUserChannelKind } from './user-channel.js';
export { createKeyPool, keyPoolOf, loadKeyPool, generateRsaKey } from './key-pool.js';
export type { SavableKeyPool } from './key-pool.js';
export { RESPONDERS, answerCommand, errorChain } from './commands.js';
export type { SimAnswer, SimCommandContext, SimCommandStatus, SimResponder } from './commands.js';
export type { SimProfileRecord, SimProfileStore, SimUserRemoval } from './profiles.js';
export type { SimEnrollmentProfile, SimMdmPayload, SimScepPayload } from './enroll.js';
export { authenticateMessage, tokenUpdateMessage } from './checkin.js';
export type { SimCheckinFacts } from './checkin.js';
export { mdmSignature } from './transport.js';
export type { SimIdentity } from './transport.js';
export type {
  SimBehaviour,
  SimDevice,
  SimDeviceOptions,
  SimInstalledProfile,
  SimKeyPool,
  SimPlatform,
  SimSessionResult,
  SimUserChannel,
} from './types.js';
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
